"""Vocabulary files and the BPE text path of the reference (tensorflow/nmt ``vocab_utils`` and ``misc_utils``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.errors import UsageError
from translation.gnmt.text import read_text

UNK = "<unk>"  # nmt vocab_utils.UNK, id 0
SOS = "<s>"  # nmt hparams "sos"
EOS = "</s>"  # nmt hparams "eos"
UNK_ID = 0
BPE_DELIMITER = "@@"  # subword-nmt continuation marker, as nmt misc_utils.format_bpe_text uses it


@dataclass(frozen=True)
class Vocabulary:
    """One token per id, with the three special tokens first."""

    tokens: tuple[str, ...]

    @classmethod
    def from_file(cls, path: Path) -> Vocabulary:
        """Read a vocabulary as nmt ``check_vocab`` does.

        Each line is one token (stripped of surrounding whitespace); ``<unk>``, ``<s>``, ``</s>`` are
        prepended when the file does not start with them.
        """
        path = Path(path)
        if not path.is_file():
            raise UsageError(f"{path}: no such vocabulary file (run download_dataset.sh or make-samples)")
        return cls.from_tokens([line.strip() for line in read_text(path).splitlines()])

    @classmethod
    def from_tokens(cls, tokens: Sequence[str]) -> Vocabulary:
        """The vocabulary of a token list, with the special tokens prepended when missing."""
        tokens = list(tokens)
        if len(tokens) < 3 or tokens[:3] != [UNK, SOS, EOS]:
            tokens = [UNK, SOS, EOS, *tokens]
        return cls(tuple(tokens))

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def sos_id(self) -> int:
        return self.tokens.index(SOS)

    @property
    def eos_id(self) -> int:
        return self.tokens.index(EOS)

    def lookup_table(self) -> dict[str, int]:
        """Token -> id; the first occurrence wins for a token listed twice."""
        table: dict[str, int] = {}
        for index, token in enumerate(self.tokens):
            table.setdefault(token, index)
        return table

    def encode(self, line: str, table: dict[str, int] | None = None) -> np.ndarray:
        """A source line as int64 ids: split on single spaces, empty pieces dropped, unknown -> ``<unk>``."""
        table = table if table is not None else self.lookup_table()
        return np.array([table.get(piece, UNK_ID) for piece in split_pieces(line)], dtype=np.int64)

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Ids -> tokens; an id outside the vocabulary reads ``<unk>`` (the reference's default value)."""
        size = len(self.tokens)
        return [self.tokens[i] if 0 <= i < size else UNK for i in (int(i) for i in ids)]


def split_pieces(line: str) -> list[str]:
    """Split on single spaces and drop empty pieces (``tf.string_split`` with its default delimiter)."""
    return [piece for piece in line.split(" ") if piece]


def format_bpe_text(tokens: Sequence[str], delimiter: str = BPE_DELIMITER) -> str:
    """Join BPE pieces into words as nmt ``format_bpe_text`` does.

    A piece ending in ``@@`` is glued to the next piece. Quirk kept for fidelity: a trailing ``@@`` piece with
    nothing after it is dropped (so this differs from replacing ``"@@ "``).
    """
    words: list[str] = []
    word = ""
    for token in tokens:
        if token.endswith(delimiter):
            word += token[: -len(delimiter)]
        else:
            words.append(word + token)
            word = ""
    return " ".join(words)


def remove_bpe(line: str) -> str:
    """A reference line as the v0.5 scorer cleans it: stripped, then every ``"@@ "`` removed."""
    return line.strip().replace(f"{BPE_DELIMITER} ", "")


def translation_text(ids: Sequence[int], vocabulary: Vocabulary) -> str:
    """Decoded ids -> the v0.5 payload text: tokens up to the first ``</s>``, BPE joins removed."""
    tokens = vocabulary.decode(ids)
    if EOS in tokens:
        tokens = tokens[: tokens.index(EOS)]
    return format_bpe_text(tokens)
