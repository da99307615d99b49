"""The hostile tester's cases against ``mlperf-ref check``, as one table: a tree the project makes itself
(null-backend ResNet50 SingleStream with its four audits in the official form, onnxruntime MobileNet
Offline on seeded random weights), one file damaged per case. Each case must add exactly its named
lines to what the check says of the untouched tree, and take none away (a damaged accuracy.txt must not
make the "below target" line vanish).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from compliance.definitions import AUDIT_TESTS
from tools.cli import main
from tools.submission.check import check_report

BASE = "closed/Org"
RESNET = f"{BASE}/results/box/resnet/SingleStream"
MOBILENET = f"{BASE}/results/box/mobilenet/Offline"
AUDIT = f"{BASE}/audit/box/resnet/SingleStream"
DETAIL, SUMMARY, ACCURACY = "mlperf_log_detail.txt", "mlperf_log_summary.txt", "mlperf_log_accuracy.json"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new))


def accuracy_txt_99(tree: Path) -> None:
    """accuracy.txt edited to 99 % while its log gives the random weights' score."""
    (tree / MOBILENET / "accuracy" / "accuracy.txt").write_text("accuracy=99.000%, good=20, total=20\n")


def accuracy_log_of_another_run(tree: Path) -> None:
    """mobilenet's accuracy log swapped for the ResNet50 null run's (same 20 images, other payloads)."""
    shutil.copy(tree / RESNET / "accuracy" / ACCURACY, tree / MOBILENET / "accuracy" / ACCURACY)


def accuracy_log_cut_in_half(tree: Path) -> None:
    path = tree / MOBILENET / "accuracy" / ACCURACY
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def accuracy_log_half_its_records(tree: Path) -> None:
    path = tree / MOBILENET / "accuracy" / ACCURACY
    records = json.loads(path.read_text())
    path.write_text(json.dumps(records[: len(records) // 2]))


def summary_valid_over_invalid_detail(tree: Path) -> None:
    """The detail log's result_validity made INVALID; the summary still says VALID."""
    _edit(tree / RESNET / "performance" / "run_1" / DETAIL, '"key": "result_validity", "value": "VALID"',
          '"key": "result_validity", "value": "INVALID"')


def detail_cut_after_settings(tree: Path) -> None:
    path = tree / RESNET / "performance" / "run_1" / DETAIL
    lines = path.read_text().splitlines(keepends=True)
    last = max(n for n, line in enumerate(lines) if '"key": "effective_' in line)
    path.write_text("".join(lines[: last + 1]))


def accuracy_summary_emptied(tree: Path) -> None:
    (tree / RESNET / "accuracy" / SUMMARY).write_text("")


def accuracy_summary_garbage(tree: Path) -> None:
    (tree / RESNET / "accuracy" / SUMMARY).write_bytes(bytes(range(256)) * 8)


def detail_binary_garbage(tree: Path) -> None:
    (tree / RESNET / "performance" / "run_1" / DETAIL).write_bytes(bytes(range(256)) * 64)


def audit_json_passed_over_failed_test05(tree: Path) -> None:
    """TEST05's verify output says TEST FAIL and audit.json lists why, but says passed: true."""
    folder = tree / AUDIT / "TEST05"
    _edit(folder / "verify_performance.txt", "TEST PASS", "TEST FAIL: Test score invalid")
    data = json.loads((folder / "audit.json").read_text())
    data.update(passed=True, performance_passed=False, performance_lines=["test score 40% above the reference"])
    (folder / "audit.json").write_text(json.dumps(data))


def audit_logs_deleted(tree: Path) -> None:
    shutil.rmtree(tree / AUDIT / "TEST05" / "performance")


def audit_run_without_its_settings(tree: Path) -> None:
    """TEST05's logs swapped for the result's own performance run (the v0.5 seeds, not TEST05's)."""
    for name in (DETAIL, SUMMARY):
        shutil.copy(tree / RESNET / "performance" / "run_1" / name, tree / AUDIT / "TEST05" / "performance" / "run_1")


def audit_verify_of_other_logs(tree: Path) -> None:
    """TEST04-A's verify output states scores its runs' summaries do not give."""
    path = tree / AUDIT / "TEST04-A" / "verify_test4_performance.txt"
    path.write_text(re.sub(r"TEST04-B score = \S+", "TEST04-B score = 1", path.read_text()))


# case -> (damage, the lines it must add: (folder, pattern))
CASES: dict[str, tuple[Callable[[Path], None], list[tuple[str, str]]]] = {
    "accuracy.txt says 99% over a log that gives less": (accuracy_txt_99, [
        (f"{MOBILENET}/accuracy", r"^accuracy\.txt states 99, its own mlperf_log_accuracy\.json gives [\d.]+: "
                                  r"accuracy\.txt is not this log's score$")]),
    "accuracy log swapped for another run's": (accuracy_log_of_another_run, [
        (f"{MOBILENET}/accuracy", r"^mlperf_log_accuracy\.json does not issue the samples in the loaded order as "
                                  r"mlperf_log_detail\.txt loaded them \(set 1 of 1, from seq_id 0\): it is "
                                  r"another run's log$")]),
    "accuracy log cut in half": (accuracy_log_cut_in_half, [
        (f"{MOBILENET}/accuracy", r"^mlperf_log_accuracy\.json is not valid JSON \(.*; character \d+ of \d+\): "
                                  r"the log is cut short or damaged$")]),
    "accuracy log holding half its records": (accuracy_log_half_its_records, [
        (f"{MOBILENET}/accuracy", r"^mlperf_log_accuracy\.json covers 10 of the 20 samples that "
                                  r"mlperf_log_detail\.txt states \(qsl_idx \d+ first missing\)")]),
    "summary VALID over a detail log INVALID": (summary_valid_over_invalid_detail, [
        (f"{RESNET}/performance/run_1", r"^mlperf_log_summary\.txt disagrees with mlperf_log_detail\.txt: the "
                                        r"summary says VALID, the detail log's result_validity is INVALID$")]),
    "detail log cut right after its settings": (detail_cut_after_settings, [
        (f"{RESNET}/performance/run_1", r"^mlperf_log_detail\.txt ends before LoadGen finished the test")]),
    "accuracy-phase summary emptied": (accuracy_summary_emptied, [
        (f"{RESNET}/accuracy", r"^mlperf_log_summary\.txt is empty: LoadGen writes its counts")]),
    "accuracy-phase summary replaced by binary garbage": (accuracy_summary_garbage, [
        (f"{RESNET}/accuracy", r"^mlperf_log_summary\.txt is not a LoadGen summary \(no 'errors encountered' "
                               r"line\): damaged or another file")]),
    "detail log replaced by binary garbage": (detail_binary_garbage, [
        (f"{RESNET}/performance/run_1", r"^mlperf_log_detail\.txt is not a LoadGen detail log: it holds no "
                                        r":::MLLOG line nor any 2019 LoadGen line \(empty, binary or another "
                                        r"file\); put the run's own log back$")]),
    "audit.json passed: true over a failed TEST05": (audit_json_passed_over_failed_test05, [
        (f"{AUDIT}/TEST05", r"^audit TEST05 FAILED: verify_performance\.txt says TEST FAIL: Test score invalid$"),
        (f"{AUDIT}/TEST05", r"^audit TEST05: audit\.json says passed although it lists why it failed: test "
                            r"score 40% above the reference$")]),
    "audit folder with its logs deleted": (audit_logs_deleted, [
        (f"{AUDIT}/TEST05", r"^audit TEST05: the audit run's LoadGen logs are missing")]),
    "audit run without its test's settings": (audit_run_without_its_settings, [
        (f"{AUDIT}/TEST05", r"^audit TEST05: its run's mlperf_log_detail\.txt does not show seeds other than "
                            r"v0\.5's, which TEST05's audit\.config sets: it is no TEST05 run$")]),
    "verify output of other logs": (audit_verify_of_other_logs, [
        (f"{AUDIT}/TEST04-A", r"^audit TEST04-A: verify_test4_performance\.txt states TEST04-B score 1, the "
                              r"TEST04-B run's mlperf_log_summary\.txt gives "),
        (f"{AUDIT}/TEST04-B", r"^audit TEST04-B: verify_test4_performance\.txt states TEST04-B score 1, the "
                              r"TEST04-B run's mlperf_log_summary\.txt gives ")]),
}


@pytest.fixture(scope="module")
def tree(null_run: Path, onnx_run: Path, system_desc: Path, make_audit: Callable[..., Path],
         tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tampering")
    audits = [make_audit(root, test, null_run) for test in AUDIT_TESTS]
    out = root / "submission"
    assert main(["submission", "--submitter", "Org", "--system", "box", "--division", "closed", "--output",
                 str(out), "--runs", str(null_run), str(onnx_run), "--system-desc", str(system_desc),
                 "--audits", *map(str, audits)]) == 0
    return out


def test_untouched_tree_has_no_audit_or_log_problem(tree: Path, imagenet: Path) -> None:
    report = check_report(tree, {"mobilenet": imagenet, "resnet50": imagenet})
    assert not [line for line in report.problems if line.startswith(AUDIT)], report.problems
    assert not [line for line in report.problems if "disagrees" in line or "not valid JSON" in line]
    assert report.notes == []
    assert check_report(tree).notes == [
        "accuracy not re-scored for mobilenet, resnet50 (give --dataset-path BENCH=DIR): the quality target is "
        "judged on the figure accuracy.txt states, which nothing here recomputed"]


@pytest.mark.parametrize("case", CASES)
def test_tampering_is_named(case: str, tree: Path, imagenet: Path, tmp_path: Path) -> None:
    damage, expected = CASES[case]
    datasets = {"mobilenet": imagenet, "resnet50": imagenet}
    before = check_report(tree, datasets).problems
    copy = tmp_path / "copy"
    shutil.copytree(tree, copy)
    damage(copy)
    after = check_report(copy, datasets).problems
    added = [line for line in after if line not in before]
    removed = [line for line in before if line not in after]
    if damage is detail_binary_garbage:  # the settings it stated cannot be judged: the unreadable log is named
        removed = [line for line in removed if not line.startswith(f"{RESNET}/performance/run_1: ")]
    assert removed == [], "a damaged file hid a problem"
    assert len(added) == len(expected), added
    for folder, pattern in expected:
        matching = [line for line in added if line.startswith(f"{folder}: ")
                    and re.search(pattern, line.removeprefix(f"{folder}: "))]
        assert len(matching) == 1, (folder, pattern, added)


def test_dataset_path_option(tree: Path, imagenet: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(tree, copy)
    accuracy_txt_99(copy)
    assert main(["check", str(copy), "--dataset-path", f"mobilenet={imagenet}"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == ("note: accuracy not re-scored for resnet50 (give --dataset-path BENCH=DIR): the quality target "
                      "is judged on the figure accuracy.txt states, which nothing here recomputed")
    assert any(line.startswith(f"{MOBILENET}/accuracy: accuracy.txt states 99, its own") for line in out)
    for value, problem in ((f"mobilenet={tmp_path / 'none'}", "no such folder"), (str(imagenet), "give BENCH=DIR")):
        assert main(["check", str(copy), "--dataset-path", value]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"error: --dataset-path {value}: ") and problem in err[0]
