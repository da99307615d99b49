"""What a result folder's LoadGen logs prove, read first-hand: the detail log (primary), the summary checked
against it, the accuracy log checked against the QSL the detail log states, and the accuracy re-scored
from that log when the dataset is given. Each problem names the file it is about.

A v0.5 (2019) detail log states the settings but not the result: its summary alone says VALID, so there
the summary is cross-checked on everything both state (scenario, mode, the test parameters, the error
count). Today's detail log states the result too (``result_validity``, ``result_*_met``), and the summary
must agree with it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.errors import UsageError
from common.loadgen_log import MLLOG_FORMAT, LoadGenSummary, parse_detail, parse_summary

DETAIL, SUMMARY, ACCURACY_LOG = "mlperf_log_detail.txt", "mlperf_log_summary.txt", "mlperf_log_accuracy.json"
# summary flag -> the detail log's entry (today's format only)
_RESULT_FLAGS = {"min_duration_satisfied": "result_min_duration_met",
                 "min_queries_satisfied": "result_min_queries_met",
                 "performance_constraints_satisfied": "result_perf_constraints_met"}
# the summary's Test Parameters -> the detail log's effective setting
_PARAMETERS = {"min_duration (ms)": "min_duration_ms", "max_duration (ms)": "max_duration_ms",
               "target_latency (ns)": "target_latency_ns"}
_MODES = {"Performance": "PerformanceOnly", "Accuracy": "AccuracyOnly", "Submission": "SubmissionRun"}


@dataclass
class PhaseLogs:
    """The LoadGen logs of one phase folder as read: the detail (None: unreadable) and the problems found."""

    folder: Path
    detail: dict[str, Any] | None = None
    summary: LoadGenSummary | None = None
    problems: list[str] = field(default_factory=list)


def read_phase(folder: Path) -> PhaseLogs:
    """Read and cross-check the detail and summary logs of ``folder`` (missing files are the caller's to say)."""
    logs = PhaseLogs(Path(folder))
    if (logs.folder / DETAIL).is_file():
        try:
            logs.detail = parse_detail(logs.folder / DETAIL)
        except UsageError as exc:
            logs.problems.append(str(exc).replace(str(logs.folder / DETAIL), DETAIL))
    if logs.detail is not None and not logs.detail["finished"]:
        logs.problems.append(f"{DETAIL} ends before LoadGen finished the test (no log contention counters after "
                             f"the settings): the log is cut short or the run died; nothing in it is a result")
    if (logs.folder / SUMMARY).is_file():
        if not (logs.folder / SUMMARY).read_text(encoding="utf-8", errors="replace").strip():
            logs.problems.append(f"{SUMMARY} is empty: LoadGen writes its counts of errors and warnings there "
                                 f"in every phase; put the run's own summary back")
        else:
            logs.summary = parse_summary(logs.folder / SUMMARY)
            if logs.summary.error_count is None:  # LoadGen ends every summary with its error count
                logs.problems.append(f"{SUMMARY} is not a LoadGen summary (no 'errors encountered' line): damaged "
                                     f"or another file; put the run's own summary back")
                logs.summary = None
    if logs.detail is not None and logs.summary is not None:
        logs.problems += [f"{SUMMARY} disagrees with {DETAIL}: {text}"
                          for text in summary_disagreements(logs.summary, logs.detail)]
    return logs


def _plain(value: Any) -> Any:
    return {"true": True, "false": False}.get(value.strip().lower(), value) if isinstance(value, str) else value


def _same(a: Any, b: Any) -> bool:
    a, b = _plain(a), _plain(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
    return str(a).strip().lower() == str(b).strip().lower()


def summary_disagreements(summary: LoadGenSummary, detail: Mapping[str, Any]) -> list[str]:
    """Where the summary says something the detail log contradicts (empty: they agree)."""
    found = []
    scenario = detail.get("effective_scenario")
    if summary.scenario and scenario and summary.scenario != scenario:
        found.append(f"scenario {summary.scenario} in the summary, {scenario} in force")
    mode = detail.get("effective_test_mode")
    if summary.mode and mode and _MODES.get(summary.mode, summary.mode) != mode:
        found.append(f"mode {summary.mode} in the summary, {mode} in force")
    validity = detail.get("result_validity")
    if validity is not None and summary.valid is not None and (validity == "VALID") != summary.valid:
        found.append(f"the summary says {'VALID' if summary.valid else 'INVALID'}, the detail log's "
                     f"result_validity is {validity}")
    if validity is not None and summary.valid is None and detail.get("effective_test_mode") == "PerformanceOnly":
        found.append(f"the summary states no result, the detail log's result_validity is {validity}")
    for flag, key in _RESULT_FLAGS.items():
        said, logged = getattr(summary, flag), detail.get(key)
        if said is not None and logged is not None and said != bool(logged):
            found.append(f"{flag.replace('_', ' ')}: {'Yes' if said else 'No'} in the summary, "
                         f"{key} {logged} in the detail log")
    span, minimum = detail.get("test_span_s"), detail.get("effective_min_duration_ms")
    if ("result_min_duration_met" not in detail and summary.min_duration_satisfied and span is not None
            and minimum and span * 1000 < minimum):  # 2019's logs state no result, but they stamp the span
        found.append(f"min duration satisfied: Yes in the summary, the detail log's POWER_BEGIN to POWER_END "
                     f"span is {span:g} s, under the {minimum / 1000:g} s minimum")
    for printed, value in summary.test_parameters.items():
        key = f"effective_{_PARAMETERS.get(printed, printed)}"
        if key in detail and detail[key] is not None and not _same(value, detail[key]):
            found.append(f"{printed} {value} in the summary, {detail[key]} in force")
    errors = len(detail.get("errors", []))
    if summary.error_count is not None and summary.error_count != errors:
        found.append(f"the summary counts {summary.error_count} error(s), the detail log has {errors}")
    return found


# ---------------------------------------------------------------------------------------------------
# The accuracy log


@dataclass
class AccuracyLog:
    """An accuracy log as read: payloads by qsl_idx (first record wins, as the v0.5 scripts read it)."""

    payloads: dict[int, bytes]
    records: int
    issued: list[int]  # the records' qsl_idx in issue (seq_id) order


def read_accuracy_records(path: Path) -> AccuracyLog:
    """``mlperf_log_accuracy.json`` read whole; UsageError naming the file when it is no LoadGen accuracy log."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{ACCURACY_LOG} is not valid JSON ({exc.msg}; character {exc.pos} of {len(text)}): "
                         f"the log is cut short or damaged") from None
    if not isinstance(records, list):
        raise UsageError(f"{ACCURACY_LOG} is not a JSON list of LoadGen records")
    payloads: dict[int, bytes] = {}
    issued: list[tuple[int, int]] = []
    for number, record in enumerate(records):
        try:
            payloads.setdefault(int(record["qsl_idx"]), bytes.fromhex(record["data"]))
            issued.append((int(record["seq_id"]), int(record["qsl_idx"])))
        except (TypeError, KeyError, ValueError):
            raise UsageError(f"{ACCURACY_LOG}: record {number} is no LoadGen record (seq_id, qsl_idx and hex "
                             f"data)") from None
    return AccuracyLog(payloads, len(records), [index for _, index in sorted(issued)])


def accuracy_log_problems(log: AccuracyLog, detail: Mapping[str, Any] | None) -> list[str]:
    """The accuracy phase logs every sample of the QSL once: the log's qsl_idx set must be the QSL's, whose
    size the phase's detail log states. A log cut short, or another run's, does not cover it."""
    total = (detail or {}).get("qsl_reported_total_count")
    if not isinstance(total, int) or total <= 0:
        return [f"{DETAIL} states no QSL size: the accuracy log's coverage cannot be checked"]
    indices = set(log.payloads)
    outside = sorted(i for i in indices if not 0 <= i < total)
    problems = []
    if outside:
        problems.append(f"{ACCURACY_LOG} has qsl_idx {outside[0]}"
                        f"{f' and {len(outside) - 1} more' if len(outside) > 1 else ''} outside the QSL of "
                        f"{total} samples that {DETAIL} states: it is another run's log")
    missing = total - len(indices - set(outside))
    if missing:
        first = next(i for i in range(total) if i not in indices)
        problems.append(f"{ACCURACY_LOG} covers {total - missing} of the {total} samples that {DETAIL} states "
                        f"(qsl_idx {first} first missing): the log is cut short or another run's")
    return problems or _issue_order_problems(log, detail or {})


def _issue_order_problems(log: AccuracyLog, detail: Mapping[str, Any]) -> list[str]:
    """In the accuracy phase LoadGen loads the QSL set by set and issues every sample of a set before the
    next: the records in seq_id order go through the sets the detail log says were loaded, set by set
    (Offline: in the loaded order itself, one query per set). Seen on every published v0.5 accuracy log
    and on today's LoadGen; another run's log (another scenario, seed or set size) does not."""
    sets = detail.get("loaded_qsl_sets") or []
    if not sets or sum(map(len, sets)) != len(log.issued):
        return []
    exact = detail.get("effective_scenario") == "Offline"
    start = 0
    for number, loaded in enumerate(sets, start=1):
        chunk = log.issued[start:start + len(loaded)]
        if (chunk != list(loaded)) if exact else (sorted(chunk) != sorted(loaded)):
            how = "in the loaded order" if exact else "set by set"
            return [f"{ACCURACY_LOG} does not issue the samples {how} as {DETAIL} loaded them (set {number} of "
                    f"{len(sets)}, from seq_id {start}): it is another run's log"]
        start += len(loaded)
    return []


# ---------------------------------------------------------------------------------------------------
# accuracy.txt against the log


_FIGURE = re.compile(r"^(?:accuracy=|mAP=|BLEU:\s*)([\d.]+)")


def stated_figure(folder: Path) -> tuple[float, int] | None:
    """accuracy.txt's figure and how many decimals it was printed with (None: no such line)."""
    try:
        lines = (Path(folder) / "accuracy.txt").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        match = _FIGURE.match(line.strip())
        if match:
            text = match.group(1).rstrip(".")
            try:
                return float(text), len(text.partition(".")[2])
            except ValueError:
                return None
    return None


def figure_disagrees(stated: tuple[float, int], scored: float) -> bool:
    """Whether ``scored`` does not round to the figure accuracy.txt printed (half a unit of its last digit)."""
    value, decimals = stated
    return abs(value - scored) > 0.5 * 10 ** -decimals + 1e-9


def rescore(benchmark: str, log: AccuracyLog, dataset: Path) -> float:
    """The benchmark's own scorer on the log's payloads (UsageError when they are not its kind)."""
    from common.accuracy.payloads import require_kind
    from common.registry import get_benchmark

    bench = get_benchmark(benchmark)
    require_kind(log.payloads, bench.payload_kind, Path(ACCURACY_LOG), benchmark)
    return float(bench.score(log.payloads, Path(dataset)).value)


def is_mllog(detail: Mapping[str, Any] | None) -> bool:
    return bool(detail) and detail.get("format") == MLLOG_FORMAT
