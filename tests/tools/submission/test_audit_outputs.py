"""Audits judged from the official verify outputs and the audit runs' logs, on a published v0.5 audit folder
(data/v05_audit/README.md: Habana, Goya_1, resnet, Offline), and the same folder damaged."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tools.submission.audit_outputs import audit_problems, passes_test04, read_verify, verify_outputs, within

DATA = Path(__file__).parent / "data" / "v05_audit"
TESTS = ("TEST01", "TEST04-A", "TEST04-B", "TEST05")


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    shutil.copytree(DATA, tmp_path / "v05")
    return tmp_path / "v05"


def _problems(root: Path, test: str) -> list[str]:
    return audit_problems(root / "audit" / test, test, "Offline", [root / "results" / "performance" / "run_1"])


def test_official_verify_outputs_are_read() -> None:
    outputs = {test: verify_outputs(DATA / "audit" / test) for test in TESTS}
    assert sorted(outputs["TEST01"]) == ["accuracy", "performance"]
    assert outputs["TEST01"]["performance"].scores == {"reference": 14446.6, "test": 14457.8}
    assert outputs["TEST01"]["accuracy"].scores == {"num_acc_log_entries": 50000, "num_perf_log_entries": 102485}
    assert outputs["TEST04-A"]["test4"].scores == {"TEST04-A": 4615.81, "TEST04-B": 4616.45}
    assert outputs["TEST04-B"] == {}
    assert outputs["TEST05"]["performance"].scores == {"reference": 14446.6, "test": 14455.3}
    assert all(o.passed for found in outputs.values() for o in found.values())


@pytest.mark.parametrize("test", TESTS)
def test_published_audit_passes_by_its_logs(test: str) -> None:
    """The reference score the outputs state is the result run's summary; the test scores are the audit
    runs' summaries; TEST01's perf-log count is the 102,485 records of its sampled accuracy log."""
    assert _problems(DATA, test) == []


def test_tolerances_of_the_v05_scripts() -> None:
    assert within("Offline", 14446.6, 14457.8) and not within("Offline", 100.0, 111.0)
    assert within("SingleStream", 200_000, 239_000) and not within("SingleStream", 200_001, 230_000)
    assert passes_test04("Offline", 4615.81, 3000.0) and not passes_test04("Offline", 4615.81, 6000.0)
    assert passes_test04("SingleStream", 1e6, 2e6) and not passes_test04("SingleStream", 1e6, 0.5e6)


def test_verify_output_with_a_stray_first_line_is_read(tmp_path: Path) -> None:
    path = tmp_path / "accuracy-verify-result.txt"
    path.write_text("byte\n" + (DATA / "audit" / "TEST01" / "verify_accuracy.txt").read_text())
    assert read_verify(path).kind == "accuracy" and read_verify(path).passed is True


def test_failed_verify_output_is_named(copy: Path) -> None:
    path = copy / "audit" / "TEST05" / "verify_performance.txt"
    path.write_text(path.read_text().replace("TEST PASS", "TEST FAIL: Test score invalid"))
    assert _problems(copy, "TEST05") == ["audit TEST05 FAILED: verify_performance.txt says TEST FAIL: Test score "
                                         "invalid"]


def test_verify_output_cut_before_its_verdict_is_named(copy: Path) -> None:
    path = copy / "audit" / "TEST04-A" / "verify_test4_performance.txt"
    path.write_text(path.read_text().replace("TEST PASS", ""))
    expected = ["audit TEST04-A: verify_test4_performance.txt states no verdict (no TEST PASS line): the verify "
                "script stopped early"]
    assert _problems(copy, "TEST04-A") == expected
    assert _problems(copy, "TEST04-B") == [line.replace("TEST04-A:", "TEST04-B:", 1) for line in expected]


def test_audit_logs_deleted_are_named(copy: Path) -> None:
    shutil.rmtree(copy / "audit" / "TEST05" / "performance")
    assert _problems(copy, "TEST05") == [
        "audit TEST05: the audit run's LoadGen logs are missing (mlperf_log_summary.txt and mlperf_log_detail.txt "
        "in performance/run_1/): a verdict without the run it judges"]


def test_pass_over_failing_logs_is_named(copy: Path) -> None:
    """The output says TEST PASS, but the audit run's own summary is 30 % slower than the reference."""
    path = copy / "audit" / "TEST05" / "performance" / "run_1" / "mlperf_log_summary.txt"
    path.write_text(path.read_text().replace("Samples per second: 14455.3", "Samples per second: 10000"))
    assert _problems(copy, "TEST05") == [
        "audit TEST05: verify_performance.txt states test score 14455.3, the test run's mlperf_log_summary.txt "
        "gives 10000: the output is not of these logs",
        "audit TEST05 FAILED by its logs: test score 10000 vs reference 14446.6 is outside the v0.5 tolerance "
        "(10%), although verify_performance.txt says TEST PASS"]


def test_sampled_log_swapped_for_a_longer_one_is_named(copy: Path) -> None:
    """The published sampled log is truncated (10,000 of the 102,485 records, as the v0.5 TEST01 steps
    say); one holding more records than the output states is not the log it verified."""
    log = copy / "audit" / "TEST01" / "performance" / "run_1" / "mlperf_log_accuracy.json"
    records = json.loads(log.read_text())
    assert len(records) == 10000
    log.write_text(json.dumps(records * 11))
    assert _problems(copy, "TEST01") == [
        "audit TEST01: verify_accuracy.txt states num_perf_log_entries = 102485, the accuracy log here holds "
        "run_1/mlperf_log_accuracy.json 110000 records: the logs it verified are not these"]


def test_audit_json_passed_is_not_taken_over_the_evidence(copy: Path) -> None:
    folder = copy / "audit" / "TEST05"
    (folder / "audit.json").write_text(json.dumps({"test": "TEST05", "passed": True, "settings_problems": [
        "qsl_rng_seed 3133965575612453542 in force: TEST05 needs other seeds"]}))
    assert _problems(copy, "TEST05") == [
        "audit TEST05: audit.json says passed although it lists why it failed: qsl_rng_seed 3133965575612453542 "
        "in force: TEST05 needs other seeds"]
    (folder / "audit.json").write_text(json.dumps({"test": "TEST05", "passed": True}))
    (folder / "verify_performance.txt").write_text(
        (folder / "verify_performance.txt").read_text().replace("TEST PASS", "TEST FAIL: Test score invalid"))
    assert _problems(copy, "TEST05") == [
        "audit TEST05 FAILED: verify_performance.txt says TEST FAIL: Test score invalid",
        "audit TEST05: audit.json says passed, verify_performance.txt says TEST FAIL: Test score invalid: the "
        "verify output is what counts"]


def test_test04_output_is_read_from_either_folder(copy: Path) -> None:
    """Published trees keep verify_test4_performance.txt in TEST04-A; this project's audit writes it in
    TEST04-B (the test that compares): both pass, and without it both say so."""
    audit = copy / "audit"
    (audit / "TEST04-A" / "verify_test4_performance.txt").rename(audit / "TEST04-B" / "verify_test4_performance.txt")
    assert _problems(copy, "TEST04-A") == [] and _problems(copy, "TEST04-B") == []
    (audit / "TEST04-B" / "verify_test4_performance.txt").unlink()
    for test in ("TEST04-A", "TEST04-B"):
        assert _problems(copy, test) == [f"audit {test}: no verify_test4_performance.txt in TEST04-A's or TEST04-B's "
                                         f"folder (the official verify output)"]
