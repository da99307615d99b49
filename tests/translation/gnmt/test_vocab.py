"""The reference's text path: vocabulary files, source splitting, BPE joins, reference cleaning."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.errors import UsageError
from translation.gnmt.vocab import Vocabulary, format_bpe_text, remove_bpe, split_pieces, translation_text


def test_special_tokens_are_prepended_when_missing(tmp_path: Path) -> None:
    (tmp_path / "v").write_text("der\ndie \n das\n", encoding="utf-8")
    vocab = Vocabulary.from_file(tmp_path / "v")
    assert vocab.tokens == ("<unk>", "<s>", "</s>", "der", "die", "das")
    assert (vocab.sos_id, vocab.eos_id) == (1, 2)


def test_special_tokens_are_kept_when_present(tmp_path: Path) -> None:
    (tmp_path / "v").write_text("<unk>\n<s>\n</s>\nHaus\n", encoding="utf-8")
    assert len(Vocabulary.from_file(tmp_path / "v")) == 4


def test_missing_vocabulary_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such vocabulary file"):
        Vocabulary.from_file(tmp_path / "vocab.bpe.32000.en")


def test_source_lines_split_on_single_spaces_unknowns_to_zero() -> None:
    vocab = Vocabulary.from_tokens(["Haus@@", "es", "."])
    assert split_pieces(" Haus@@  es\t. ") == ["Haus@@", "es\t.", ]
    assert vocab.encode("Haus@@ es  . Baum").tolist() == [3, 4, 5, 0]
    assert vocab.encode("").tolist() == []


def test_bpe_joins_and_the_trailing_piece_quirk() -> None:
    assert format_bpe_text(["Ver@@", "hand@@", "lungen", "in", "Berlin"]) == "Verhandlungen in Berlin"
    # A trailing '@@' piece with nothing after it is dropped, unlike a plain replace of '@@ '.
    assert format_bpe_text(["die", "Ver@@"]) == "die"
    assert "die Ver@@".replace("@@ ", "") == "die Ver@@"
    assert format_bpe_text(["@@", "x"]) == "x"


def test_reference_cleaning_removes_every_join() -> None:
    assert remove_bpe("Ver@@ hand@@ lungen &quot; in Berlin\n") == "Verhandlungen &quot; in Berlin"


def test_translation_text_cuts_at_the_first_end_token_and_maps_unknown_ids() -> None:
    vocab = Vocabulary.from_tokens(["Über@@", "ein@@", "kunft", "."])
    assert translation_text([3, 4, 5, 6, 2, 3], vocab) == "Übereinkunft ."
    assert translation_text([3, 4], vocab) == ""
    assert translation_text([99, 6], vocab) == "<unk> ."
