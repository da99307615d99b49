"""The v0.5 BLEU scorer (MLPerf ``nmt/scripts/bleu.py`` ``RunningBLEUScorer``): corpus BLEU on given tokens.

Tokenized and case-sensitive: the caller splits sentences into tokens; this module only counts. N-gram
orders 1..4, counts clipped by the reference counts, no smoothing, geometric mean of the precisions and the
brevity penalty exp(1 - r/c) when the translation is not longer than the reference (r and c summed over the
corpus). The result equals sacrebleu's ``corpus_bleu(..., tokenize='none', smooth_method='none')`` score.

``score_translations`` scores an accuracy log as v0.5 ``process_accuracy.py`` does: each payload is UTF-8
text split on single spaces (an empty one is one empty token, not skipped), against its reference line with
BPE joins removed; that script prints ``BLEU: %.1f``.
"""

from __future__ import annotations

import html
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from common.benchmark import AccuracyReport
from common.errors import UsageError

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


def score_translations(results: Mapping[int, bytes], references: Sequence[str], reference_name: str) -> AccuracyReport:
    """Score ``{qsl index: UTF-8 payload}`` against ``references`` (line i for qsl index i, BPE joins already
    removed) as v0.5 ``process_accuracy.py`` does; ``reference_name`` names the file in messages."""
    running = RunningBleu()
    hypotheses, used_references, empty = [], [], 0
    for index in sorted(results):
        if not 0 <= index < len(references):
            raise UsageError(f"accuracy log: sample {index} is beyond the {len(references)} lines of "
                             f"{reference_name} (score an accuracy-mode log of this dataset)")
        try:
            text = results[index].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UsageError(f"accuracy log: sample {index} is not UTF-8 text ({exc})") from exc
        empty += not text
        running.add(references[index].split(" "), text.split(" "))
        hypotheses.append(text)
        used_references.append(references[index])
    if not hypotheses:
        raise UsageError("the accuracy log holds no samples (run with --accuracy to write one)")
    bleu = running.result()
    lines = [
        f"BLEU: {bleu.score:.3f} (process_accuracy.py prints BLEU: {bleu.score:.1f}; v0.5: tokenized, "
        f"case-sensitive, corpus BLEU-4 against {reference_name} without BPE joins; {running.translation_length} "
        f"translation / {running.reference_length} reference tokens)",
        "precisions: " + " / ".join(f"{100 * p:.1f}" for p in bleu.precisions)
        + f"  BP = {bleu.brevity_penalty:.3f}  ratio = {bleu.ratio:.3f}",
    ]
    sacre = unescaped_sacrebleu(hypotheses, used_references)
    lines.append(f"sacreBLEU on Moses-unescaped text (13a): {sacre:.2f} (extra; not the v0.5 metric)")
    if empty:
        lines.append(f"{empty} empty translations, each scored as one empty token (as process_accuracy.py does)")
    extra = {"bleu": bleu.score, "precisions": bleu.precisions, "brevity_penalty": bleu.brevity_penalty,
             "empty": empty, "sacrebleu_13a": sacre}
    return AccuracyReport(value=round(bleu.score, 6), count=len(hypotheses), lines=lines,
                          accuracy_txt=f"BLEU: {bleu.score:.3f}\n", extra=extra)


def unescaped_sacrebleu(hypotheses: list[str], references: list[str]) -> float:
    """sacreBLEU (13a) after undoing the Moses escapes (``&quot;`` ...) and ``@-@`` splits of both sides.

    The text stays tokenized otherwise (no Moses detokenizer is installed): sacreBLEU is told so
    (``force``), which keeps its "forgot to detokenize" warning off stderr; the score is the same.
    """
    from sacrebleu.metrics import BLEU

    def unescape(text: str) -> str:
        return html.unescape(text.replace(" @-@ ", "-").replace(" @,@ ", ",").replace(" @.@ ", "."))

    return BLEU(force=True).corpus_score([unescape(h) for h in hypotheses],
                                         [[unescape(r) for r in references]]).score
