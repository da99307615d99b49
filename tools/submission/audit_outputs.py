"""An audit folder of a submission tree judged from what it holds: the official verify outputs and the
LoadGen logs of the audit run, never from a file that only states a verdict (our audit.json).

The v0.5 audit scripts (mlcommons/inference, ``v0.5/audit/nvidia/TEST0x/verify_*.py``) print a short text
that the submitter keeps beside the run's logs at ``audit/<system>/<model>/<scenario>/<TEST>/``::

    verify_accuracy.txt            TEST01: "Verifying accuracy. ...", num_* counts, "TEST PASS"
    verify_performance.txt         TEST01, TEST03, TEST05: "reference score = X", "test score = Y", "TEST PASS"
    verify_test4_performance.txt   TEST04 (in the A run's folder; this project's audit puts it in the B run's):
                                   "<A> score = X", "<B> score = Y", "TEST PASS"

Published trees also name them ``accuracy-verify-result.txt``/``performance-verify-result.txt`` and keep
TEST04's under ``verify_performance.txt``, so an output is recognised by its first line, not its name. The
logs sit in ``performance/run_1/`` (some trees: the test folder itself).

Beyond reading the verdict line, the scores an output states are checked against the logs (the audit's
summary, the result's performance run) and the verdict is recomputed with the scripts' tolerances: 10 %,
20 % for a SingleStream reference of at most 200,000 ns; TEST04's B run may be slower than its A run.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from common.effective_settings import SEED_KEYS
from common.errors import UsageError
from common.loadgen_log import LoadGenSummary, parse_summary
from common.rules import v05_rule
from common.schema import SchemaError
from compliance.definitions import TEST04, TEST04_A, TEST04_B
from tools.submission.audits import AUDIT_FILE, audit_passed, failure_reasons, read_audit_json
from tools.submission.evidence import read_phase

SUMMARY, DETAIL, ACCURACY_LOG = "mlperf_log_summary.txt", "mlperf_log_detail.txt", "mlperf_log_accuracy.json"
# which verify outputs each test must have (TEST04's A and B runs share one, in either folder)
NEEDED = {"TEST01": ("accuracy", "performance"), "TEST03": ("performance",), TEST04_A: ("test4",),
          TEST04_B: ("test4",), "TEST05": ("performance",)}
OFFICIAL_NAMES = {"accuracy": "verify_accuracy.txt", "performance": "verify_performance.txt",
                  "test4": "verify_test4_performance.txt"}
_COUNT = re.compile(r"^(num_acc_log_entries|num_perf_log_entries) = (\d+)\s*$")
_SCORE = re.compile(rf"^(reference|test|{re.escape(TEST04_A)}|{re.escape(TEST04_B)}) score = "
                    r"([-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*$")


@dataclass
class VerifyOutput:
    """One verify output: its kind (accuracy|performance|test4), verdict (None: it states none), scores."""

    path: Path
    kind: str
    passed: bool | None
    verdict_line: str | None
    scores: dict[str, float]


def read_verify(path: Path) -> VerifyOutput | None:
    """A verify output, None when the file is not one (its first line is no "Verifying ...")."""
    lines = [line.strip() for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines()]
    # the script's first line; published outputs sometimes carry a stray line above it
    first = next((n for n, line in enumerate(lines[:3]) if line.startswith("Verifying")), None)
    if first is None:
        return None
    lines = lines[first:]
    scores = {}
    for line in lines:
        match = _SCORE.match(line) or _COUNT.match(line)
        if match:
            scores[match.group(1)] = float(match.group(2))
    kind = "accuracy" if lines[0].startswith("Verifying accuracy") else \
        "test4" if TEST04_A in scores or TEST04_B in scores else "performance"
    verdicts = [line for line in lines if line.startswith(("TEST PASS", "TEST FAIL"))]
    verdict = verdicts[-1] if verdicts else None
    return VerifyOutput(Path(path), kind, None if verdict is None else verdict.startswith("TEST PASS"),
                        verdict, scores)


def verify_outputs(folder: Path) -> dict[str, VerifyOutput]:
    """The verify outputs at the top of an audit folder, by kind."""
    found: dict[str, VerifyOutput] = {}
    for path in sorted(Path(folder).glob("*.txt")):
        output = read_verify(path)
        if output is not None:
            found.setdefault(output.kind, output)
    return found


def run_folder(folder: Path) -> Path | None:
    """Where the audit run's logs are: performance/run_1/, performance/ or the folder itself (None: none)."""
    for candidate in (Path(folder) / "performance" / "run_1", Path(folder) / "performance", Path(folder)):
        if (candidate / SUMMARY).is_file():
            return candidate
    return None


def _summary(folder: Path | None) -> LoadGenSummary | None:
    if folder is None or not (folder / SUMMARY).is_file():
        return None
    try:
        summary = parse_summary(folder / SUMMARY)
    except UsageError:
        return None
    return summary if summary.metric_value is not None else None


def _threshold(scenario: str, reference: float) -> float:
    return 0.20 if scenario == "SingleStream" and reference <= 200_000 else 0.10


def within(scenario: str, reference: float, test: float) -> bool:
    """The v0.5 verify_performance rule: the test score within the threshold of the reference score."""
    threshold = _threshold(scenario, reference)
    return reference * (1 - threshold) < test < reference * (1 + threshold)


def passes_test04(scenario: str, a: float, b: float) -> bool:
    """verify_test4_performance's rule: B within the threshold of A, or B slower (a higher SingleStream
    latency, a lower throughput elsewhere)."""
    if within(scenario, a, b):
        return True
    return b > a if scenario == "SingleStream" else b < a


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-9)


def audit_problems(folder: Path, test: str, scenario: str, reference_runs: list[Path]) -> list[str]:
    """What is wrong with the audit ``test`` in ``folder`` (empty: it passed, by its logs and verify outputs).

    ``reference_runs`` are the result's ``performance/run_N`` folders (TEST01 and TEST05 compare with one).
    """
    folder = Path(folder)
    problems: list[str] = []
    outputs = verify_outputs(folder)
    source = folder.parent / TEST04_A if test in TEST04 else folder
    if test in TEST04:  # the pair's output: published trees keep it in the A run's folder, ours in the B run's
        pair = verify_outputs(folder.parent / (TEST04_B if test == TEST04_A else TEST04_A))
        outputs = {**pair, **outputs}
    run = run_folder(folder)
    if run is None or not (run / DETAIL).is_file():
        problems.append(f"audit {test}: the audit run's LoadGen logs are missing ({SUMMARY} and {DETAIL} in "
                        f"performance/run_1/): a verdict without the run it judges")
    if run is not None and (run / DETAIL).is_file():
        problems += _run_problems(run, test)
    if test == "TEST01" and run is not None and not any(
            (where / ACCURACY_LOG).is_file() for where in (run, folder / "accuracy")):
        problems.append(f"audit {test}: the audit run's {ACCURACY_LOG} is missing (the payloads TEST01 compares)")
    for kind in NEEDED.get(test, ()):
        output = outputs.get(kind)
        if output is None:
            where = f"{TEST04_A}'s or {TEST04_B}'s folder" if test in TEST04 else "the folder"
            problems.append(f"audit {test}: no {OFFICIAL_NAMES[kind]} in {where} (the official verify output)")
            continue
        if output.passed is None:
            problems.append(f"audit {test}: {output.path.name} states no verdict (no TEST PASS line): the verify "
                            f"script stopped early")
        elif not output.passed:
            problems.append(f"audit {test} FAILED: {output.path.name} says {output.verdict_line}")
        problems += _score_problems(output, test, scenario, run, source, reference_runs)
    problems += _audit_json_problems(folder, test, [o for o in outputs.values() if o.passed is False])
    return problems


# what each test's audit.config sets, as the audit run's detail log must show it in force
_SIGNATURES = {
    "TEST01": ("accuracy logging on (accuracy_log_probability above 0)",
               lambda d: (d.get("effective_accuracy_log_probability") or 0) > 0
               or (d.get("effective_accuracy_log_sampling_target") or 0) > 0),
    TEST04_A: ("performance_issue_unique on", lambda d: d.get("effective_performance_issue_unique") is True),
    TEST04_B: ("performance_issue_same on", lambda d: d.get("effective_performance_issue_same") is True),
    "TEST05": ("seeds other than v0.5's",
               lambda d: any(d.get(f"effective_{key}") != v05_rule("resnet50", "Offline", key) for key in SEED_KEYS)),
}


def _run_problems(run: Path, test: str) -> list[str]:
    """The audit run's own logs: readable, finished, agreeing with their summary, and run with the settings
    the test's audit.config sets (else it is no run of that test)."""
    logs = read_phase(run)
    problems = [f"audit {test}: {text}" for text in logs.problems]
    signature = _SIGNATURES.get(test)
    if logs.detail is not None and signature and not signature[1](logs.detail):
        problems.append(f"audit {test}: its run's {DETAIL} does not show {signature[0]}, which {test}'s audit.config "
                        f"sets: it is no {test} run")
    return problems


def _reference(output: VerifyOutput, runs: list[Path]) -> LoadGenSummary | None:
    """The result's performance run the output compared with: the one whose score it states (else run_1)."""
    summaries = [s for s in map(_summary, runs) if s is not None]
    stated = output.scores.get("reference")
    matching = [s for s in summaries if stated is not None and _close(stated, float(s.metric_value))]
    return (matching or summaries or [None])[0]


def _score_problems(output: VerifyOutput, test: str, scenario: str, run: Path | None, source: Path,
                    reference_runs: list[Path]) -> list[str]:
    """The scores the output states against the logs, and the verdict recomputed from the logs."""
    if output.kind == "accuracy":
        audit_logs = [p for p in (source / "performance" / "run_1" / ACCURACY_LOG, source / "performance" /
                                  ACCURACY_LOG, source / "accuracy" / ACCURACY_LOG) if p.is_file()]
        result_logs = [run.parents[1] / "accuracy" / ACCURACY_LOG for run in reference_runs[:1]]
        return _count_problems(output, test, {"num_acc_log_entries": result_logs,
                                              "num_perf_log_entries": audit_logs})
    if output.kind == "test4":
        pairs = ((TEST04_A, _summary(run_folder(source))),
                 (TEST04_B, _summary(run_folder(source.parent / TEST04_B))))
    else:
        pairs = (("reference", _reference(output, reference_runs)), ("test", _summary(run)))
    problems, logged = [], {}
    for name, summary in pairs:
        stated = output.scores.get(name)
        if summary is None:
            continue
        logged[name] = float(summary.metric_value)
        if stated is not None and not _close(stated, logged[name]):
            problems.append(f"audit {test}: {output.path.name} states {name} score {stated:g}, the {name} run's "
                            f"{SUMMARY} gives {logged[name]:g}: the output is not of these logs")
    if len(logged) == 2 and output.passed:
        a, b = logged[pairs[0][0]], logged[pairs[1][0]]
        ok = passes_test04(scenario, a, b) if output.kind == "test4" else within(scenario, a, b)
        if not ok:
            problems.append(f"audit {test} FAILED by its logs: {pairs[1][0]} score {b:g} vs {pairs[0][0]} {a:g} "
                            f"is outside the v0.5 tolerance ({_threshold(scenario, a):.0%}), although "
                            f"{output.path.name} says TEST PASS")
    return problems


def _records(path: Path) -> int | None:
    try:
        records = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError):
        return None
    return len(records) if isinstance(records, list) else None


def _count_problems(output: VerifyOutput, test: str, logs: dict[str, list[Path]]) -> list[str]:
    """verify_accuracy's record counts against the accuracy logs it read: the result's accuracy log holds
    exactly num_acc_log_entries; the audit run's sampled log (in performance/ or the accuracy/ copy published
    trees keep) at most num_perf_log_entries, since the v0.5 TEST01 instructions truncate it before upload
    (truncate_log.sh keeps its first records). A log beyond those counts is not the one verified."""
    problems = []
    for name, paths in logs.items():
        stated = output.scores.get(name)
        counts = {path: _records(path) for path in paths if path.is_file()}
        counts = {path: count for path, count in counts.items() if count is not None}
        if stated is None or not counts:
            continue
        exact = name == "num_acc_log_entries"
        if any(count == int(stated) if exact else count <= int(stated) for count in counts.values()):
            continue
        held = ", ".join(f"{path.parent.name}/{path.name} {count}" for path, count in counts.items())
        problems.append(f"audit {test}: {output.path.name} states {name} = {int(stated)}, the accuracy log here "
                        f"holds {held} records: the logs it verified are not these")
    return problems


def _audit_json_problems(folder: Path, test: str, failed: list[VerifyOutput]) -> list[str]:
    """audit.json (this project's) where it contradicts the evidence: a 'passed' over failure reasons it lists
    itself, or over a failed verify output, is named, never taken."""
    try:
        data = read_audit_json(folder)
    except SchemaError as exc:
        return [f"audit {test}: {exc}"]
    if data is None:
        return []
    passed, reasons = audit_passed(folder), failure_reasons(data)
    if passed and reasons:
        return [f"audit {test}: {AUDIT_FILE} says passed although it lists why it failed: {'; '.join(reasons)}"]
    if passed and failed:
        return [f"audit {test}: {AUDIT_FILE} says passed, {failed[0].path.name} says {failed[0].verdict_line}: "
                f"the verify output is what counts"]
    return []
