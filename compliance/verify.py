"""The audit tests' checks, on the logs alone: settings in force, TEST01's payloads, the v0.5 performance rules.

The performance rules are those of the v0.5 scripts (mlcommons/inference ``v0.5/audit/nvidia``):
``verify_performance.py`` (TEST01, TEST05; the TEST03 copy is the one at hand): both runs VALID, the same
scenario, the test's score within 10 % of the reference's (20 % in SingleStream when the reference's
90th percentile latency is at most 0.2 ms); ``verify_test4_performance.py``: TEST04-B within that band
of the A run, or slower. The score is the v0.5 one: SingleStream's 90th percentile latency, Server's
scheduled samples per second, Offline's samples per second; MultiStream's v0.5 score (samples per query)
is the same in both runs by construction, so its percentile latency, this LoadGen's metric, is compared.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from common.errors import UsageError
from common.loadgen_log import LoadGenSummary
from compliance.definitions import TEST04, TEST04_A, TEST04_B

TOLERANCE = 0.10
SINGLESTREAM_FAST_TOLERANCE = 0.20  # when the reference's 90th percentile latency is at most 0.2 ms
SINGLESTREAM_FAST_NS = 200_000


def not_in_force(effective: dict[str, Any], fields: dict[str, Any]) -> list[str]:
    """The audit's TestSettings fields whose value LoadGen did not log as effective, one line each."""
    problems = []
    for key, wanted in fields.items():
        have = effective.get(key)
        same = have is not None and (math.isclose(float(have), float(wanted), rel_tol=1e-9)
                                     if isinstance(wanted, float) else have == wanted)
        if not same:
            problems.append(f"{key} {have} in force, the audit sets {wanted}")
    return problems


def _records(path: Path) -> list[dict[str, Any]]:
    if not Path(path).is_file():
        raise UsageError(f"{path}: no such accuracy log")
    try:
        records = json.loads(Path(path).read_text(encoding="utf-8") or "[]")
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: not a LoadGen accuracy log ({exc})") from exc
    if not isinstance(records, list):
        raise UsageError(f"{path}: not a LoadGen accuracy log (a JSON list expected)")
    return records


def check_accuracy_log(path: Path, option: str) -> int:
    """Read a LoadGen accuracy log whole (UsageError naming ``option`` and the file when any entry is not a
    qsl_idx with hex data); the number of entries. The audit reads its reference's log this way before it runs."""
    try:
        records = _records(path)
    except UsageError as exc:
        raise UsageError(f"{option} {exc}; run the reference again") from exc
    for number, record in enumerate(records):
        try:
            int(record["qsl_idx"])
            bytes.fromhex(record["data"])
        except (KeyError, TypeError, ValueError) as exc:
            raise UsageError(f"{option} {path}: entry {number} is not a LoadGen response (qsl_idx and hex data: "
                             f"{type(exc).__name__} {exc}); the log is damaged, run the reference again") from exc
    return len(records)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.shape(a) == np.shape(b) and np.array_equal(a, b))
    return bool(a == b)


@dataclass
class PayloadComparison:
    """TEST01's comparison of the sampled performance-mode responses with the accuracy-mode ones."""

    accuracy_entries: int
    performance_entries: int  # sampled responses (a sample may be sampled more than once)
    compared: int
    mismatches: int
    missing: int  # sampled responses whose sample the accuracy log lacks
    mismatched: list[int]  # the first qsl indices that differ
    sampled: dict[int, bytes]  # the sampled payloads, the first of each sample (for scoring)
    accuracy_duplicates: int = 0  # accuracy-log entries of a sample logged before
    accuracy_duplicate_mismatches: int = 0  # ... whose data differs from the first one's

    @property
    def passed(self) -> bool:
        """Every sampled response compared, none different (stricter than v0.5, which let a missing one pass)."""
        return self.compared > 0 and self.mismatches == 0 and self.missing == 0

    def official_counts(self) -> dict[str, Any]:
        """The figures verify_accuracy.py printed, under its names, and this comparison's verdict."""
        return {"num_acc_log_entries": self.accuracy_entries,
                "num_acc_log_duplicate_keys": self.accuracy_duplicates,
                "num_acc_log_data_mismatch": self.accuracy_duplicate_mismatches,
                "num_perf_log_entries": self.performance_entries, "num_perf_log_qsl_idx_match": self.compared,
                "num_perf_log_data_mismatch": self.mismatches, "num_missing_qsl_idxs": self.missing,
                "passed": self.passed}

    def to_dict(self) -> dict[str, Any]:
        return {"accuracy_entries": self.accuracy_entries, "performance_entries": self.performance_entries,
                "compared": self.compared, "mismatches": self.mismatches, "missing": self.missing,
                "mismatched_qsl_idx": self.mismatched}


def compare_payloads(accuracy_log: Path, performance_log: Path, decode: Callable[[bytes], Any]) -> PayloadComparison:
    """Every sampled performance-mode payload against the accuracy-mode payload of the same qsl_idx, both
    decoded as the benchmark's data (``decode``), never as raw bytes or their first element."""
    reference: dict[int, bytes] = {}
    accuracy = _records(accuracy_log)
    duplicates = duplicate_mismatches = 0
    for record in accuracy:
        index, payload = int(record["qsl_idx"]), bytes.fromhex(record["data"])
        if index in reference:
            duplicates += 1
            duplicate_mismatches += reference[index] != payload
        else:
            reference[index] = payload
    sampled: dict[int, bytes] = {}
    performance = _records(performance_log)
    compared = mismatches = missing = 0
    mismatched: list[int] = []
    for record in performance:
        index, payload = int(record["qsl_idx"]), bytes.fromhex(record["data"])
        sampled.setdefault(index, payload)
        if index not in reference:
            missing += 1
            continue
        compared += 1
        try:
            same = _same(decode(payload), decode(reference[index]))
        except ValueError:  # a payload that is not the benchmark's data at all
            same = False
        if not same:
            mismatches += 1
            if len(mismatched) < 10:
                mismatched.append(index)
    return PayloadComparison(len(accuracy), len(performance), compared, mismatches, missing, mismatched, sampled,
                             duplicates, duplicate_mismatches)


@dataclass(frozen=True)
class Score:
    """A run's v0.5 audit score."""

    name: str
    value: float
    lower_is_better: bool  # latencies

    def shown(self) -> str:
        return f"{self.value / 1e6:.3f} ms" if self.lower_is_better else f"{self.value:,.2f} {self.name}"


def v05_score(summary: LoadGenSummary) -> Score:
    """The score the v0.5 verify scripts compare (see the module's docstring)."""
    if summary.scenario == "Server":
        scheduled = summary.fields.get("Scheduled samples per second")
        if scheduled is not None:
            return Score("scheduled samples/s", float(scheduled), False)
    if summary.metric_value is None:
        raise UsageError(f"{summary.path}: LoadGen printed no result (an accuracy-mode log?)")
    latency = summary.scenario in ("SingleStream", "MultiStream")
    name = "samples/s" if not latency else (summary.metric_name or "latency")
    return Score(name, float(summary.metric_value), latency)


def _threshold(reference: LoadGenSummary, score: Score) -> float:
    if reference.scenario == "SingleStream" and score.value <= SINGLESTREAM_FAST_NS:
        return SINGLESTREAM_FAST_TOLERANCE
    return TOLERANCE


@dataclass
class PerformanceCheck:
    passed: bool
    lines: list[str]
    figures: dict[str, Any]


def within_tolerance(reference: LoadGenSummary, test: LoadGenSummary, names: tuple[str, str] = ("reference", "test"),
                     require_valid: bool = True) -> PerformanceCheck:
    """verify_performance.py's rule: the test's score within the tolerance band of the reference's."""
    lines, problems = [], []
    if reference.scenario != test.scenario:
        return PerformanceCheck(False, [f"{names[0]} is {reference.scenario}, {names[1]} {test.scenario}: "
                                        f"the scenarios must match"], {})
    if require_valid:
        for name, summary in zip(names, (reference, test), strict=True):
            if summary.valid is not True:
                problems.append(f"the {name} run is INVALID ({summary.path})")
    ref, got = v05_score(reference), v05_score(test)
    threshold = _threshold(reference, ref)
    change = got.value / ref.value - 1 if ref.value else math.inf
    inside = abs(change) < threshold
    lines.append(f"{names[1]} {got.shown()} vs {names[0]} {ref.shown()}: {change:+.1%} "
                 f"(tolerance {threshold:.0%})")
    figures = {"reference_score": ref.value, "test_score": got.value, "score": ref.name, "change": change,
               "tolerance": threshold, "within": inside}
    return PerformanceCheck(inside and not problems, lines + problems, figures)


def compare_test04(unique: LoadGenSummary, same: LoadGenSummary) -> PerformanceCheck:
    """verify_test4_performance.py's rule: TEST04's B run within the band of its A run, or slower; FAIL when
    faster."""
    check = within_tolerance(unique, same, TEST04, require_valid=False)
    if check.passed or "change" not in check.figures:
        return check
    faster = check.figures["change"] < 0 if v05_score(unique).lower_is_better else check.figures["change"] > 0
    if faster:
        check.lines.append(f"{TEST04_B} is significantly faster than {TEST04_A}: the SUT gains from seeing one "
                           "sample again (results cached?)")
        return check
    check.lines.append(f"note: {TEST04_B} is significantly slower than {TEST04_A} (allowed)")
    return PerformanceCheck(True, check.lines, check.figures)
