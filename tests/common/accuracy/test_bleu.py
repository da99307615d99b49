"""The v0.5 BLEU scorer: hand-computed cases and a cross-check against sacrebleu on the same tokens."""

from __future__ import annotations

import math
import random

import pytest
import sacrebleu

from common.accuracy.bleu import RunningBleu, corpus_bleu, ngram_counts, score_translations


def test_identical_corpus_scores_100() -> None:
    tokens = ["ein", "Sprecher", "bestätigte", "am", "Dienstag", ",", "dass", "die", "Preise", "steigen", "."]
    result = corpus_bleu([tokens], [tokens])
    assert result.score == pytest.approx(100.0)
    assert result.precisions == [1.0, 1.0, 1.0, 1.0]
    assert result.brevity_penalty == 1.0


def test_hand_computed_precisions_and_no_smoothing() -> None:
    # 1-grams 5/6, 2-grams 3/5, 3-grams 1/4, 4-grams 0/3: no smoothing, so BLEU is 0.
    result = corpus_bleu([["the", "cat", "is", "on", "the", "mat"]], [["the", "cat", "sat", "on", "the", "mat"]])
    assert result.precisions == [5 / 6, 3 / 5, 1 / 4, 0.0]
    assert result.score == 0.0


def test_brevity_penalty_hand_computed() -> None:
    # Every n-gram matches, but the translation is half as long as the reference: BP = exp(1 - 2).
    result = corpus_bleu([["a", "b", "c", "d", "e", "f", "g", "h"]], [["a", "b", "c", "d"]])
    assert result.ratio == 0.5
    assert result.brevity_penalty == pytest.approx(math.exp(-1))
    assert result.score == pytest.approx(100 * math.exp(-1))


def test_counts_are_clipped_by_the_reference() -> None:
    counts = ngram_counts(["the", "the", "the"], 2)
    assert counts[("the",)] == 3 and counts[("the", "the")] == 2
    running = RunningBleu()
    running.add(["the", "cat"], ["the", "the", "the", "the"])
    assert running.matches[0] == 1 and running.possible[0] == 4


def test_lengths_and_matches_sum_over_the_corpus() -> None:
    running = RunningBleu()
    running.add(["a", "b", "c"], ["a", "b"])
    running.add(["d", "e"], ["d", "e", "f"])
    assert (running.reference_length, running.translation_length) == (5, 5)
    assert running.matches == [4, 2, 0, 0] and running.possible == [5, 3, 1, 0]


def test_empty_translations_score_zero_instead_of_dividing_by_zero() -> None:
    assert corpus_bleu([["a"]], [[]]).score == 0.0


@pytest.mark.parametrize("seed", range(5))
def test_equals_sacrebleu_without_tokenization_or_smoothing(seed: int) -> None:
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(12)] + ["&quot;", ",", "Übereinkunft", "."]
    references, translations = [], []
    for _ in range(60):
        reference = [rng.choice(words) for _ in range(rng.randint(1, 25))]
        translation = [t for t in reference if rng.random() > 0.2] + [rng.choice(words)
                                                                      for _ in range(rng.randint(0, 4))]
        if rng.random() < 0.3:
            rng.shuffle(translation)
        references.append(reference)
        translations.append(translation or [rng.choice(words)])
    ours = corpus_bleu(references, translations)
    theirs = sacrebleu.corpus_bleu([" ".join(t) for t in translations], [[" ".join(r) for r in references]],
                                   tokenize="none", smooth_method="none", force=True)
    assert ours.score > 1.0
    assert ours.score == pytest.approx(theirs.score, abs=1e-9)
    assert [100 * p for p in ours.precisions] == pytest.approx(theirs.precisions, abs=1e-9)
    assert ours.brevity_penalty == pytest.approx(theirs.bp, abs=1e-12)


def test_an_empty_translation_counts_as_one_empty_token_as_in_process_accuracy_py() -> None:
    # process_accuracy.py splits "" into [""]: 12 translation tokens (11 + 1) against 19 reference tokens;
    # 11/12 unigrams and every 2-, 3- and 4-gram of the first sentence match. Run from a scratch copy on
    # these two lines it prints BLEU: 54.6.
    references = ["Das ist ein sehr gutes Haus mit einem großen Garten .", "Ein anderer Satz , der hier steht ."]
    report = score_translations({0: references[0].encode(), 1: b""}, references, "ref.de")
    by_hand = 100 * (11 / 12) ** 0.25 * math.exp(1 - 19 / 12)
    assert report.value == pytest.approx(by_hand) and f"{by_hand:.1f}" == "54.6"
    assert report.count == 2 and report.extra["empty"] == 1
    assert report.lines[0].startswith("BLEU: 54.603 (process_accuracy.py prints BLEU: 54.6;")
    assert report.lines[-1] == "1 empty translations, each scored as one empty token (as process_accuracy.py does)"
