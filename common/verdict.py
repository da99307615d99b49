"""The PASS/FAIL policy of a run: the quality target, the latency bound, LoadGen's verdict, and the notes
that say why a result is no quality or submission result."""

from __future__ import annotations

from common.results import RunResults, Verdict

# Said of a run whose backend runs no model (its figures are the harness and LoadGen alone).
NO_MODEL_NOTE = "{backend} backend: measures the harness and LoadGen, no model runs"


def judge(results: RunResults, runs_model: bool) -> Verdict:
    """The verdict of a finished run; ``runs_model`` is the backend's (False for null)."""
    perf, acc = results.performance, results.accuracy
    latency_pass = None
    if perf is not None and perf.latency_bound_ms is not None and perf.bounded_latency_ms is not None:
        latency_pass = perf.bounded_latency_ms <= perf.latency_bound_ms
    accuracy_pass = acc.accuracy.passed if acc is not None and acc.accuracy is not None else None
    notes = []
    if results.quick:
        notes.append("QUICK mode: small counts and short durations, not valid for submission")
    if results.count:
        notes.append(f"--count {results.count}: a reduced dataset, not valid for submission")
    if results.synthetic_data:
        notes.append("SYNTHETIC sample data: accuracy here is no quality result")
    if results.random_weights:
        notes.append("RANDOM weights (export-model): accuracy here is no quality result")
    if not runs_model:
        notes.append(NO_MODEL_NOTE.format(backend=results.backend))
    if results.precision != "fp32":
        notes.append(f"reduced precision {results.precision}: only the accuracy pass shows whether it holds")
    calibration = results.engine.get("calibration") or {}
    unofficial = bool(calibration) and not calibration.get("official")
    if unofficial:
        notes.append(f"int8 calibrated on {calibration.get('list')}, not an official v0.5 calibration list: "
                     "not valid for submission")
    loadgen_valid = perf.loadgen.valid if perf is not None and perf.loadgen is not None else None
    logged = _logged_problems(results)
    notes.extend(logged)
    valid = bool(loadgen_valid) and not results.quick and not results.count and not logged
    submittable = (valid and accuracy_pass is not False and latency_pass is not False
                   and not results.synthetic_data and not results.random_weights and not unofficial)
    return Verdict(latency=latency_pass, accuracy=accuracy_pass, loadgen_valid=loadgen_valid,
                   submittable=submittable, notes=notes)


def _logged_problems(results: RunResults) -> list[str]:
    """Errors and warnings LoadGen wrote in the performance phase's detail log (a quick run's are expected:
    its small max_query_count ends the test early, which LoadGen logs as an error)."""
    perf = results.performance
    if results.quick or perf is None or perf.loadgen is None:
        return []
    found = []
    for kind, entries in (("error", perf.loadgen.errors), ("warning", perf.loadgen.warnings)):
        if entries:
            more = f" (and {len(entries) - 1} more)" if len(entries) > 1 else ""
            found.append(f"LoadGen logged {kind}: {entries[0]}{more}; not valid for submission "
                         f"(see {perf.log_dir}/mlperf_log_detail.txt)")
    return found


def exit_code(results: RunResults) -> int:
    """1 on a FAIL that means something (accuracy of real weights on real data, latency of a full run)."""
    verdict = results.verdict
    if verdict is None:
        return 0
    real_accuracy = not (results.synthetic_data or results.random_weights)
    failed = (verdict.accuracy is False and real_accuracy) or (verdict.latency is False and not results.quick)
    return 1 if failed else 0
