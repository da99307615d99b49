"""Whether a LoadGen phase ran with the v0.5 settings, judged from what LoadGen logged it applied.

LoadGen 6.0.17 writes every setting twice in ``mlperf_log_detail.txt``: ``requested_*`` (what the harness
set, after any ``audit.config`` in the working directory) and ``effective_*`` (what the test ran with).
:func:`read_effective` reads the effective ones; :func:`phase_problems` compares them with the v0.5
values of ``common/mlperf.conf`` (through ``common/rules.py``: one source) and says, one line per setting,
why a phase is no v0.5 submission run. The verdict of a run, results.json and the checker all use it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from common.loadgen_log import MLLOG_FORMAT, V05_FORMAT, parse_detail
from common.rules import v05_rule

DETAIL_LOG = "mlperf_log_detail.txt"
SEED_KEYS = ("qsl_rng_seed", "sample_index_rng_seed", "schedule_rng_seed")
AUDIT_MESSAGE = "Found Audit Config file"  # LoadGen's warning when it read an audit.config
# LoadGen's note that its logger grew a thread's buffer: about the logger's own speed, not the result
LOGGER_NOTE = "Logging allocation detected"
OFFLINE_RAN_OUT = "Ending early: Ran out of generated queries"
LATENCY_SCENARIOS = ("SingleStream", "MultiStream", "Server")  # those whose metric or bound is a percentile
_MODES = {"accuracy": "AccuracyOnly", "performance": "PerformanceOnly"}
SUBMISSION_RUN = "SubmissionRun"  # 2019's LoadGen mode that runs the accuracy pass, then the performance pass

# effective_* keys as read_effective names them (LoadGen 6.0.17 logs all of them in every scenario)
_KEYS = (
    "scenario", "test_mode", "samples_per_query", "target_qps", "target_latency_ns", "target_latency_percentile",
    "max_async_queries", "min_duration_ms", "max_duration_ms", "min_query_count", "max_query_count",
    "min_sample_count", "qsl_rng_seed", "sample_index_rng_seed", "schedule_rng_seed", "accuracy_log_rng_seed",
    "accuracy_log_probability", "accuracy_log_sampling_target", "print_timestamps", "performance_issue_unique",
    "performance_issue_same", "performance_issue_same_index", "performance_sample_count",
    "accuracy_sample_count",
)


def read_effective(outdir: Path) -> dict[str, Any]:
    """The settings LoadGen applied in the phase logged in ``outdir`` (UsageError if it has no detail log).

    Keys: the ``effective_*`` entries without the prefix (``min_duration_ms``, ``qsl_rng_seed``,
    ``test_mode``, ...), ``latency_bound_ms`` (the scenario's bound in force: Server's
    ``target_latency_ns``; MultiStream's is one query interval, ``1000 / target_qps`` ms in this
    LoadGen; None elsewhere), ``qsl_total_count``, ``audit_config`` (LoadGen read an ``audit.config``),
    ``errors`` and ``warnings`` (the lines LoadGen flagged, the audit notice left out of the warnings)
    and ``loadgen_version``. A key LoadGen did not log is None.
    """
    detail = parse_detail(Path(outdir) / DETAIL_LOG)
    found: dict[str, Any] = {key: detail.get(f"effective_{key}") for key in _KEYS}
    warnings = [str(w) for w in detail["warnings"] if not str(w).startswith(LOGGER_NOTE)]
    audit = [w for w in warnings if w.startswith(AUDIT_MESSAGE)]
    found.update(
        latency_bound_ms=_bound_ms(found, detail["format"]),
        qsl_total_count=detail.get("qsl_reported_total_count"),
        audit_config=bool(audit),
        errors=[e for e in map(str, detail["errors"]) if not _spurious_error(e, found, detail)],
        warnings=[w for w in warnings if w not in audit],
        loadgen_version=detail.get("loadgen_version"),
        log_format=detail["format"],
        finished=detail["finished"],
    )
    return found


def _bound_ms(effective: dict[str, Any], log_format: str = MLLOG_FORMAT) -> float | None:
    if effective["scenario"] == "Server" and effective["target_latency_ns"]:
        return effective["target_latency_ns"] / 1e6
    if effective["scenario"] == "MultiStream" and log_format == V05_FORMAT and effective["target_latency_ns"]:
        return effective["target_latency_ns"] / 1e6  # 2019's LoadGen checked this bound itself
    if effective["scenario"] == "MultiStream" and effective["target_qps"]:
        return 1000 / effective["target_qps"]
    return None


def _spurious_error(error: str, effective: dict[str, Any], detail: dict[str, Any]) -> bool:
    """2019's Offline "Ran out of generated queries" error when the test did run its minimum duration.

    Offline issues its one query at once; when the SUT returns from IssueQuery before the minimum
    duration has passed, the 2019 LoadGen finds no query left to issue and logs this error although the
    test then runs on until the last sample completes. The span LoadGen stamped (POWER_BEGIN to
    POWER_END) shows whether the minimum duration was met; only then is the error no defect.
    """
    if not (error.startswith(OFFLINE_RAN_OUT) and effective["scenario"] == "Offline"):
        return False
    span, needed = detail.get("test_span_s"), effective["min_duration_ms"]
    return span is not None and needed is not None and span * 1000 >= needed


def phase_problems(outdir: Path, benchmark: str, scenario: str, phase: str) -> list[str]:
    """:func:`settings_problems` of the phase logged in ``outdir``, or why it has no detail log."""
    if not (Path(outdir) / DETAIL_LOG).is_file():
        return [f"no LoadGen detail log in {outdir}: the phase did not run or did not finish"]
    return settings_problems(read_effective(Path(outdir)), benchmark, scenario, phase)


def dataset_problems(effective: dict[str, Any], full: int | None, dataset: str, phase: str) -> list[str]:
    """Whether the phase ran on the whole dataset: the QSL total LoadGen logged (``qsl_reported_total_count``)
    against ``full``, the benchmark's own count of its full dataset (None: unknown, never submittable)."""
    total = effective.get("qsl_total_count")
    if full is None:
        return [f"the full {dataset}'s sample count is not known, so no {phase} phase of it is a submission run"]
    if total != full:
        return [f"{phase} phase on {total if total is not None else 'an unlogged number of'} samples (LoadGen's "
                f"qsl_reported_total_count), the full {dataset} has {full:,}: a run on part of the dataset is "
                f"no submission run"]
    return []


def run_problems(flags: dict[str, Any]) -> list[str]:
    """The harness's own reasons (from results.json's fields): a quick run, a reduced dataset."""
    problems = []
    if flags.get("unreadable"):
        problems.append(f"{flags['unreadable']} is unreadable: the run's flags are unknown")
    if flags.get("quick"):
        problems.append("--quick run: small counts and no minimum duration")
    if flags.get("count"):
        problems.append(f"--count {flags['count']} run: only the first {flags['count']} samples")
    return problems


def settings_problems(effective: dict[str, Any], benchmark: str, scenario: str, phase: str) -> list[str]:
    """Compare :func:`read_effective`'s settings with the v0.5 ones for ``phase`` (accuracy|performance)."""
    problems = []
    if effective["scenario"] != scenario:
        problems.append(f"scenario {effective['scenario']} in force, this is a {scenario} result")
    if effective["test_mode"] not in (_MODES[phase], SUBMISSION_RUN):
        problems.append(f"LoadGen ran the {phase} phase in {effective['test_mode']} mode "
                        f"(an audit.config's 'mode' in the working directory?), it needs {_MODES[phase]}")
    if effective["audit_config"]:
        problems.append("audit.config in force: LoadGen read an audit.config from the working directory; a "
                        "submission run is made without one (it may override any setting, and the log does not "
                        "say which)")
    if phase == "performance":
        problems += _performance_problems(effective, benchmark, scenario)
    problems += [f"LoadGen logged error: {e}" for e in effective["errors"]]
    problems += [f"LoadGen logged warning: {w}" for w in effective["warnings"]]
    return problems


def _performance_problems(effective: dict[str, Any], benchmark: str, scenario: str) -> list[str]:
    def rule(key: str) -> Any:
        return v05_rule(benchmark, scenario, key)

    problems = []
    problems += _at_least(effective, "min_duration_ms", rule("min_duration"), "min_duration", "ms")
    if scenario == "Offline":  # this LoadGen reads the conf's min_query_count as the Offline sample count
        problems += _at_least(effective, "min_sample_count", rule("min_query_count"),
                              "min_query_count (Offline samples)")
    else:
        problems += _at_least(effective, "min_query_count", rule("min_query_count"), "min_query_count")
    for key, name, unit in (("max_duration_ms", "max_duration", " ms"), ("max_query_count", "max_query_count", "")):
        if effective[key]:
            problems.append(f"{name} {effective[key]}{unit} in force, v0.5 sets none (0): it can end the run early")
    problems += _at_least(effective, "performance_sample_count", rule("performance_sample_count_override"),
                          "performance sample count")
    for key in SEED_KEYS:
        if effective[key] != rule(key):
            problems.append(f"{key} {effective[key]} in force, v0.5 needs {rule(key)}")
    if scenario in LATENCY_SCENARIOS:
        want = float(rule("target_latency_percentile"))
        have = effective["target_latency_percentile"]
        if have is None or not math.isclose(100 * have, want, abs_tol=1e-6):
            shown = "none" if have is None else f"{100 * have:g}th"
            problems.append(f"latency percentile {shown} in force, v0.5 needs the {want:g}th")
    if scenario in ("Server", "MultiStream"):
        bound, limit = effective["latency_bound_ms"], float(rule("target_latency"))
        if bound is None or bound > limit * (1 + 1e-9):
            shown = "none" if bound is None else f"{bound:g} ms"
            problems.append(f"{scenario} latency bound {shown} in force, v0.5 needs at most {limit:g} ms")
    if scenario == "Server" and not (effective["target_qps"] or 0) > 0:
        problems.append(f"Server target_qps {effective['target_qps']} in force: it must be above 0")
    if effective["accuracy_log_probability"] or effective["accuracy_log_sampling_target"]:
        problems.append(f"accuracy log sampling on (accuracy_log_probability {effective['accuracy_log_probability']}, "
                        f"accuracy_log_sampling_target {effective['accuracy_log_sampling_target']}), "
                        f"v0.5 submission runs log no responses (0)")
    for key in ("performance_issue_unique", "performance_issue_same"):
        if effective[key]:
            problems.append(f"{key} on (an audit setting, TEST04), v0.5 submission runs have it off")
    return problems


def _at_least(effective: dict[str, Any], key: str, needed: Any, name: str, unit: str = "") -> list[str]:
    have = effective[key]
    if have is not None and have >= needed:
        return []
    unit = f" {unit}" if unit else ""
    return [f"{name} {have}{unit} in force, v0.5 needs {needed}{unit}"]
