"""The v0.5 BLEU scorer (MLPerf ``nmt/scripts/bleu.py`` ``RunningBLEUScorer``): corpus BLEU on given tokens.

Tokenized and case-sensitive: the caller splits sentences into tokens; this module only counts. N-gram
orders 1..4, counts clipped by the reference counts, no smoothing, geometric mean of the precisions and the
brevity penalty exp(1 - r/c) when the translation is not longer than the reference (r and c summed over the
corpus). The result equals sacrebleu's ``corpus_bleu(..., tokenize='none', smooth_method='none')`` score.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

MAX_ORDER = 4  # v0.5 process_accuracy.py: RunningBLEUScorer(4)


def ngram_counts(tokens: Sequence[str], max_order: int = MAX_ORDER) -> Counter[tuple[str, ...]]:
    """Every n-gram of orders 1..max_order with its count."""
    counts: Counter[tuple[str, ...]] = Counter()
    for order in range(1, max_order + 1):
        for start in range(len(tokens) - order + 1):
            counts[tuple(tokens[start:start + order])] += 1
    return counts


@dataclass
class BleuResult:
    """Corpus BLEU and its parts; ``score`` is in percent (0..100)."""

    score: float
    precisions: list[float]  # per order, as fractions
    brevity_penalty: float
    ratio: float  # translation length / reference length
    translation_length: int
    reference_length: int


@dataclass
class RunningBleu:
    """Accumulates n-gram matches sentence by sentence; ``result()`` gives the corpus BLEU."""

    max_order: int = MAX_ORDER
    matches: list[int] = field(default_factory=list)
    possible: list[int] = field(default_factory=list)
    reference_length: int = 0
    translation_length: int = 0

    def __post_init__(self) -> None:
        self.matches = [0] * self.max_order
        self.possible = [0] * self.max_order

    def add(self, reference: Sequence[str], translation: Sequence[str]) -> None:
        """Add one sentence pair (token lists)."""
        self.reference_length += len(reference)
        self.translation_length += len(translation)
        overlap = ngram_counts(translation, self.max_order) & ngram_counts(reference, self.max_order)
        for ngram, count in overlap.items():
            self.matches[len(ngram) - 1] += count
        for order in range(1, self.max_order + 1):
            self.possible[order - 1] += max(0, len(translation) - order + 1)

    def result(self) -> BleuResult:
        precisions = [m / p if p > 0 else 0.0 for m, p in zip(self.matches, self.possible, strict=True)]
        geo_mean = math.exp(sum(math.log(p) for p in precisions) / self.max_order) if min(precisions) > 0 else 0.0
        # The reference divides by zero here (no reference or no translation tokens); both mean BLEU 0.
        ratio = self.translation_length / self.reference_length if self.reference_length else 0.0
        penalty = brevity_penalty(ratio)
        return BleuResult(100.0 * geo_mean * penalty, precisions, penalty, ratio, self.translation_length,
                          self.reference_length)


def brevity_penalty(ratio: float) -> float:
    """1 for a translation longer than the reference, else exp(1 - 1/ratio) (0 for an empty translation)."""
    if ratio > 1.0:
        return 1.0
    return math.exp(1 - 1.0 / ratio) if ratio > 0 else 0.0


def corpus_bleu(references: Iterable[Sequence[str]], translations: Iterable[Sequence[str]],
                max_order: int = MAX_ORDER) -> BleuResult:
    """Corpus BLEU of tokenized translations against one tokenized reference each."""
    running = RunningBleu(max_order)
    for reference, translation in zip(references, translations, strict=True):
        running.add(reference, translation)
    return running.result()
