"""The audit's verdicts written as the v0.5 verify scripts wrote theirs, so an audit folder we make reads as
the folders of the published v0.5 submissions (mlcommons/inference_results_v0.5: ``verify_accuracy.txt``,
``verify_performance.txt``, ``verify_test4_performance.txt`` under ``audit/<system>/<model>/<scenario>/``).

The lines and their order follow the scripts of mlcommons/inference ``compliance/audit_v0.5/nvidia``
(``TEST01/verify_accuracy.py``, ``TEST01|TEST05/verify_performance.py``, TEST04's ``verify_test4_performance.py``);
the figures and the PASS/FAIL are this project's (compliance/verify.py), which is stricter where it says so.
Where a script stopped early (an INVALID run, settings not in force, scenarios that differ), the line it
printed on stopping ends the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from common.loadgen_log import LoadGenSummary
from compliance.definitions import TEST04_A, TEST04_B
from compliance.verify import PerformanceCheck, v05_score

PASS = "TEST PASS"
SCORE_FAIL = "TEST FAIL: Test score invalid"
ACCURACY_KEYS = ("num_acc_log_entries", "num_acc_log_duplicate_keys", "num_acc_log_data_mismatch",
                 "num_perf_log_entries", "num_perf_log_qsl_idx_match", "num_perf_log_data_mismatch",
                 "num_missing_qsl_idxs")


def _text(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


def _score(summary: LoadGenSummary) -> str:
    """The score as the scripts printed it: the summary's figure (an integer latency stays an integer)."""
    value = v05_score(summary).value
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _warning(errors: int, whose: str) -> list[str]:
    return [f"WARNING: {errors} ERROR reported in {whose} results"] if errors else []


def accuracy_text(counts: Mapping[str, Any]) -> str:
    """verify_accuracy.txt: the counts of TEST01's comparison, then TEST PASS or TEST FAIL."""
    lines = ["Verifying accuracy. This might take a while...", "Reading accuracy mode results...",
             "Reading performance mode results..."]
    lines += [f"{key} = {counts[key]}" for key in ACCURACY_KEYS]
    return _text([*lines, PASS if counts["passed"] else "TEST FAIL"])


def performance_text(reference: LoadGenSummary, test: LoadGenSummary, passed: bool, errors: tuple[int, int]) -> str:
    """verify_performance.txt (TEST01, TEST05): the two scores, then TEST PASS or why not."""
    lines = ["Verifying performance."]
    for summary, count, whose in ((reference, errors[0], "reference"), (test, errors[1], "test")):
        if summary.valid is not True:
            return _text([*lines, f"TEST FAIL: {whose.capitalize()} results are invalid"])
        lines += _warning(count, whose)
    if reference.scenario != test.scenario:
        return _text([*lines, "Test and reference scenarios do not match!"])
    lines += [f"reference score = {_score(reference)}", f"test score = {_score(test)}"]
    return _text([*lines, PASS if passed else SCORE_FAIL])


def test04_text(unique: LoadGenSummary, same: LoadGenSummary, check: PerformanceCheck,
                settings_wrong: tuple[bool, bool], errors: tuple[int, int]) -> str:
    """verify_test4_performance.txt: the scores of TEST04's A and B runs, TEST PASS (with the note when B is
    much slower) or TEST FAIL."""
    lines = ["Verifying performance."]
    for name, count, wrong in ((TEST04_A, errors[0], settings_wrong[0]), (TEST04_B, errors[1], settings_wrong[1])):
        lines += _warning(count, name)
        if wrong:
            return _text([*lines, f"TEST FAIL: Invalid test settings in {name} summary."])
    if unique.scenario != same.scenario:
        return _text([*lines, "Test and reference scenarios do not match!"])
    lines += [f"{TEST04_A} score = {_score(unique)}", f"{TEST04_B} score = {_score(same)}"]
    if not check.passed:
        return _text([*lines, SCORE_FAIL])
    slower = [] if check.figures.get("within") else [f"Note: {TEST04_B} is significantly slower than {TEST04_A}"]
    return _text([*lines, PASS, *slower])
