"""The PASS/FAIL policy: what makes a run not submittable, and the notes that say why."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from common.results import RunResults
from common.verdict import exit_code, judge

BEFORE = Path(__file__).parent / "data" / "results_before"


def _full_run(name: str) -> RunResults:
    """A recorded run as if it had been a full one on real data and weights."""
    results = RunResults.load(BEFORE / f"{name}.json")
    return dataclasses.replace(results, quick=False, synthetic_data=False, random_weights=False, verdict=None)


def test_a_valid_full_run_with_no_logged_problem_is_submittable() -> None:
    results = _full_run("null-Offline")
    assert results.performance.loadgen.valid is True and not results.performance.loadgen.errors
    verdict = judge(results, runs_model=True)
    assert verdict.submittable is True and verdict.notes == []


def test_a_loadgen_error_makes_a_run_not_submittable_and_is_said() -> None:
    results = _full_run("null-Server")  # its detail log holds LoadGen's "Max query count reached" error
    results.performance.loadgen.valid = True
    verdict = judge(results, runs_model=True)
    assert verdict.submittable is False
    assert any(n.startswith("LoadGen logged error: IssueQueryThread 0 Ending early: Max query count reached")
               for n in verdict.notes), verdict.notes
    warned = dataclasses.replace(results.performance.loadgen, errors=[], warnings=["a warning", "another"])
    results.performance.loadgen = warned
    verdict = judge(results, runs_model=True)
    assert verdict.submittable is False
    assert any("LoadGen logged warning: a warning (and 1 more)" in n for n in verdict.notes)


def test_quick_runs_expect_their_early_end() -> None:
    results = dataclasses.replace(_full_run("null-Server"), quick=True)
    verdict = judge(results, runs_model=False)
    assert not any("LoadGen logged" in n for n in verdict.notes)
    assert verdict.notes[0].startswith("QUICK mode") and verdict.submittable is False


def test_exit_code_follows_meaningful_failures() -> None:
    results = _full_run("ort-r50")  # 0% top-1 against 75.6954%
    results.verdict = judge(results, runs_model=True)
    assert results.verdict.accuracy is False and exit_code(results) == 1
    results = dataclasses.replace(results, synthetic_data=True)
    results.verdict = judge(results, runs_model=True)
    assert exit_code(results) == 0  # accuracy on synthetic data means nothing
