"""The PASS/FAIL policy: what makes a run not submittable, and the notes that say why."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from recorded import recorded_run

from common.results import RunResults
from common.verdict import exit_code, judge

LOGS = Path(__file__).parent / "data" / "loadgen"


def _full_run(name: str, log_dir: Path, accuracy_log_dir: Path = LOGS / "singlestream_accuracy") -> RunResults:
    """A recorded run as if it had been a full one on real data and weights, its performance phase's LoadGen
    logs in ``log_dir`` and its accuracy phase's (if it has one) in ``accuracy_log_dir``."""
    results = recorded_run(name, Path("/nonexistent-run-root"))
    results = dataclasses.replace(results, quick=False, synthetic_data=False, random_weights=False, verdict=None)
    results.performance = dataclasses.replace(results.performance, log_dir=str(log_dir))
    if results.accuracy is not None:
        results.accuracy = dataclasses.replace(results.accuracy, log_dir=str(accuracy_log_dir))
    return results


def test_a_run_without_its_detail_log_is_not_submittable(tmp_path: Path) -> None:
    results = _full_run("null-Offline", tmp_path / "performance", tmp_path / "accuracy")
    assert results.performance.loadgen.valid is True and not results.performance.loadgen.errors
    verdict = judge(results, runs_model=True)
    assert verdict.submittable is False
    assert verdict.problems == [
        f"no LoadGen detail log in {tmp_path / phase}: the phase did not run or did not finish"
        for phase in ("accuracy", "performance")]


def test_a_loadgen_error_makes_a_run_not_submittable_and_is_said() -> None:
    # a SingleStream detail log whose max_query_count ended the run: LoadGen logged it as an error
    results = _full_run("null-SingleStream", LOGS / "singlestream_too_few_queries")
    results.performance.loadgen.valid = True
    verdict = judge(results, runs_model=True)
    assert verdict.submittable is False
    assert "LoadGen logged error: IssueQueryThread 0 Ending early: Max query count reached. query_count 50" \
        in verdict.problems
    assert "max_query_count 50 in force, v0.5 sets none (0): it can end the run early" in verdict.problems


def test_quick_runs_are_never_submittable() -> None:
    results = dataclasses.replace(_full_run("null-SingleStream", LOGS / "singlestream_valid"), quick=True)
    verdict = judge(results, runs_model=False)
    assert verdict.problems[-1] == "--quick run: small counts and no minimum duration"
    assert verdict.submittable is False


def test_exit_code_follows_meaningful_failures() -> None:
    results = _full_run("ort-r50", LOGS / "singlestream_valid")  # 0% top-1 against 75.6954%
    results.verdict = judge(results, runs_model=True)
    assert results.verdict.accuracy is False and exit_code(results) == 1
    results = dataclasses.replace(results, synthetic_data=True)
    results.verdict = judge(results, runs_model=True)
    assert exit_code(results) == 0  # accuracy on synthetic data means nothing
