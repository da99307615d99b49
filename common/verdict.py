"""The PASS/FAIL policy of a run: the quality target, the latency bound, LoadGen's verdict, the settings
LoadGen logged in force (a run is submittable only with the v0.5 ones), and the notes that say why a
result is no quality or submission result."""

from __future__ import annotations

from pathlib import Path

from common.effective_settings import DETAIL_LOG, dataset_problems, phase_problems, read_effective, run_problems
from common.registry import get_benchmark
from common.results import PHASES, RunResults, Verdict

# Said of a run whose backend runs no model (its figures are the harness and LoadGen alone).
NO_MODEL_NOTE = "{backend} backend: measures the harness and LoadGen, no model runs"
NO_MODEL_PROBLEM = "{backend} backend: no model ran, so there is no result to submit"


def judge(results: RunResults, runs_model: bool) -> Verdict:
    """The verdict of a finished run; ``runs_model`` is the backend's (False for null)."""
    perf, acc = results.performance, results.accuracy
    latency_pass = None
    if perf is not None and perf.latency_bound_ms is not None and perf.bounded_latency_ms is not None:
        latency_pass = perf.bounded_latency_ms <= perf.latency_bound_ms
    accuracy_pass = acc.accuracy.passed if acc is not None and acc.accuracy is not None else None
    notes = []
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
    problems = submission_problems_of(results)
    if not runs_model:
        problems.insert(0, NO_MODEL_PROBLEM.format(backend=results.backend))
    submittable = (bool(loadgen_valid) and not problems and accuracy_pass is not False and latency_pass is not False
                   and not results.synthetic_data and not results.random_weights and not unofficial)
    return Verdict(latency=latency_pass, accuracy=accuracy_pass, loadgen_valid=loadgen_valid,
                   submittable=submittable, notes=notes, problems=problems)


def submission_problems_of(results: RunResults) -> list[str]:
    """Why the run's phases are no v0.5 submission run: the settings LoadGen logged it applied in each
    phase (common/effective_settings.py, as the checker reads them), the dataset's size LoadGen logged
    against the benchmark's full dataset, and the harness's quick/--count flags."""
    bench = get_benchmark(results.benchmark)
    problems = []
    for phase in PHASES:
        found = getattr(results, phase)
        if found is not None:
            log_dir = Path(found.log_dir)
            problems += phase_problems(log_dir, results.benchmark, results.scenario, phase)
            if (log_dir / DETAIL_LOG).is_file():
                problems += dataset_problems(read_effective(log_dir), bench.full_dataset_size(phase),
                                             bench.info.dataset, phase)
    return problems + run_problems({"quick": results.quick, "count": results.count})


def exit_code(results: RunResults) -> int:
    """1 on a FAIL that means something (accuracy of real weights on real data, latency of a full run)."""
    verdict = results.verdict
    if verdict is None:
        return 0
    real_accuracy = not (results.synthetic_data or results.random_weights)
    failed = (verdict.accuracy is False and real_accuracy) or (verdict.latency is False and not results.quick)
    return 1 if failed else 0
