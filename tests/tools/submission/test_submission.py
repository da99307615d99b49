"""mlperf-ref submission and check, end to end on short runs of the sample data (null and onnxruntime).

The runs use short settings, so the checker must name exactly those settings (and the sample data, the
random weights, the null backend and the missing audits) and nothing else; each injected defect must then
add its own named line.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from common.rules import MLPERF_CONF
from compliance.definitions import AUDIT_TESTS
from tools.cli import main
from tools.submission.check import check_tree
from tools.submission.system_desc import FIELDS, REQUIRED_FIELDS

SYSTEM = "box"
BASE = "closed/Org"


def submit(output: Path, *words: str) -> int:
    return main(["submission", "--submitter", "Org", "--system", SYSTEM, "--division", "closed",
                 "--output", str(output), *words])


def problems_by_folder(root: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in check_tree(root):
        folder, _, text = line.partition(": ")
        found.setdefault(folder, []).append(text)
    return found


def logged_sample_count(folder: Path) -> int:
    for line in (folder / "mlperf_log_summary.txt").read_text().splitlines():
        if line.startswith("performance_sample_count"):
            return int(line.split(":")[1])
    raise AssertionError("no performance_sample_count in the summary")


@pytest.fixture(scope="module")
def tree(null_run: Path, onnx_run: Path, system_desc: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tree") / "submission"
    assert submit(out, "--runs", str(null_run), str(onnx_run), "--system-desc", str(system_desc)) == 0
    return out


def test_tree_is_complete_in_the_v05_layout(tree: Path, onnx_run: Path) -> None:
    base = tree / BASE
    logs = {"mlperf_log_accuracy.json", "mlperf_log_summary.txt", "mlperf_log_detail.txt", "results.json"}
    for model, scenario, implementation in (("resnet", "SingleStream", "null"),
                                            ("mobilenet", "Offline", "onnxruntime")):
        result = base / "results" / SYSTEM / model / scenario
        assert {p.name for p in (result / "accuracy").iterdir()} == logs | {"accuracy.txt"}
        assert [p.name for p in (result / "performance").iterdir()] == ["run_1"]
        assert {p.name for p in (result / "performance" / "run_1").iterdir()} == logs
        measurements = base / "measurements" / SYSTEM / model / scenario
        assert {p.name for p in measurements.iterdir()} == {
            "mlperf.conf", "user.conf", "README.md", f"{SYSTEM}_{implementation}_{scenario}.json"}
        assert (measurements / "mlperf.conf").read_bytes() == MLPERF_CONF.read_bytes()
        assert (base / "code" / model / implementation / "tools" / "cli.py").is_file()
    # the user's conf the runs read is the measurements' user.conf; the weights are the run's file
    user_conf = (base / "measurements" / SYSTEM / "mobilenet" / "Offline" / "user.conf").read_text()
    assert "*.Offline.min_duration = 0" in user_conf and "*.Offline.min_query_count = 20" in user_conf
    described = json.loads((base / "measurements" / SYSTEM / "mobilenet" / "Offline" /
                            f"{SYSTEM}_onnxruntime_Offline.json").read_text())
    assert described == {"input_data_types": "fp32", "retraining": "no",
                         "starting_weights_filename": "mobilenet_v1_1.0_224.onnx", "weight_data_types": "fp32",
                         "weight_transformations": "none"}
    # the LoadGen logs are the runs' own
    copied = base / "results" / SYSTEM / "mobilenet" / "Offline" / "accuracy" / "mlperf_log_accuracy.json"
    assert copied.read_bytes() == (onnx_run / "accuracy" / "mlperf_log_accuracy.json").read_bytes()
    system = json.loads((base / "systems" / f"{SYSTEM}.json").read_text())
    assert set(REQUIRED_FIELDS) <= set(system) <= set(FIELDS)
    assert (system["submitter"], system["division"], system["status"], system["system_name"]) == (
        "Org", "closed", "available", "Test box")
    assert system["framework"].startswith("none (null backend") and "onnxruntime " in system["framework"]
    assert int(system["host_processor_core_count"]) >= 1


def _expected(tree: Path, settings: dict[str, list[str]]) -> None:
    """Each folder's problems are exactly the expected patterns, one line each."""
    found = problems_by_folder(tree)
    assert sorted(found) == sorted(settings), found
    for folder, patterns in settings.items():
        lines = found[folder]
        assert len(lines) == len(patterns), (folder, lines)
        for pattern in patterns:
            assert sum(bool(re.search(pattern, line)) for line in lines) == 1, (folder, pattern, lines)


def test_check_names_exactly_the_short_settings(tree: Path) -> None:
    results = f"{BASE}/results/{SYSTEM}"
    audits = {f"{BASE}/audit/{SYSTEM}/{model}/{scenario}": [rf"^audit {', '.join(AUDIT_TESTS)} missing: run "
                                                            rf"'mlperf-ref audit TEST"]
              for model, scenario in (("resnet", "SingleStream"), ("mobilenet", "Offline"))}
    sample_data = r"^ran on SYNTHETIC sample data"
    short_duration = r"^min_duration 0 ms in force, v0\.5 needs 60000 ms$"
    null_perf = [short_duration, r"^min_query_count 100 in force, v0\.5 needs 1024$", sample_data,
                 r"^ran the null backend"]
    onnx_perf = [short_duration, sample_data, r"^ran a model with RANDOM weights",
                 r"^min_query_count \(Offline samples\) 20 in force, v0\.5 needs 24576$"]
    for perf, model, scenario in ((null_perf, "resnet", "SingleStream"), (onnx_perf, "mobilenet", "Offline")):
        count = logged_sample_count(tree / results / model / scenario / "performance" / "run_1")
        if count < 1024:  # the sample data has 20 pictures: LoadGen loads (and logs) no more
            perf += [rf"^performance_sample_count {count} in the summary, the v0\.5 checker wants at least 1024$",
                     rf"^performance sample count {count} in force, v0\.5 needs 1024$"]
    _expected(tree, {
        f"{results}/resnet/SingleStream/accuracy": [r"^accuracy\.txt has no 'accuracy=', 'mAP=' or 'BLEU:' line",
                                                    sample_data, r"^ran the null backend"],
        f"{results}/resnet/SingleStream/performance/run_1": null_perf,
        f"{results}/mobilenet/Offline/accuracy": [
            r"^accuracy [\d.]+% is below the quality target top-1 >= 70\.2464% \(98% of 71\.68\)$", sample_data,
            r"^ran a model with RANDOM weights"],
        f"{results}/mobilenet/Offline/performance/run_1": onnx_perf,
        **audits,
    })


def _copy(tree: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(tree, target)
    return target


def _new_lines(tree: Path, changed: Path) -> list[str]:
    before = set(check_tree(tree))
    return [line for line in check_tree(changed) if line not in before]


RUN_1 = f"{BASE}/results/{SYSTEM}/resnet/SingleStream/performance/run_1"
ACCURACY = f"{BASE}/results/{SYSTEM}/resnet/SingleStream/accuracy"
ERROR_LINE = (':::MLLOG {"key": "error_runtime", "value": "injected failure", "time_ms": 1.0, "namespace": '
              '"mlperf::logging", "event_type": "POINT_IN_TIME", "metadata": {"is_error": true, "is_warning": false, '
              '"file": "loadgen.cc", "line_no": 1, "pid": 1, "tid": 1}}\n')


def _replace_run(copy: Path, run: Path) -> None:
    target = copy / RUN_1
    shutil.rmtree(target)
    target.mkdir()
    for name in ("mlperf_log_accuracy.json", "mlperf_log_summary.txt", "mlperf_log_detail.txt"):
        shutil.copy(run / "performance" / name, target / name)
    shutil.copy(run / "results.json", target / "results.json")


def test_missing_file_is_named(tree: Path, tmp_path: Path) -> None:
    copy = _copy(tree, tmp_path)
    (copy / RUN_1 / "mlperf_log_detail.txt").unlink()
    assert _new_lines(tree, copy) == [f"{RUN_1}: file list mismatch: missing mlperf_log_detail.txt"]


def test_invalid_quick_run_is_named(tree: Path, quick_run: Path, tmp_path: Path) -> None:
    copy = _copy(tree, tmp_path)
    _replace_run(copy, quick_run)
    new = _new_lines(tree, copy)
    for pattern in (r"does not say 'Result is : VALID'$", r": INVALID: too few queries", r": --quick run"):
        assert any(re.search(pattern, line) for line in new), (pattern, new)


def test_changed_seed_is_named(tree: Path, seed_run: Path, tmp_path: Path) -> None:
    copy = _copy(tree, tmp_path)
    _replace_run(copy, seed_run)
    assert _new_lines(tree, copy) == [f"{RUN_1}: qsl_rng_seed 12345 in force, v0.5 needs 3133965575612453542"]


def test_loadgen_error_is_named(tree: Path, tmp_path: Path) -> None:
    copy = _copy(tree, tmp_path)
    with open(copy / RUN_1 / "mlperf_log_detail.txt", "a") as log:
        log.write(ERROR_LINE)
    assert _new_lines(tree, copy) == [
        f"{RUN_1}: mlperf_log_summary.txt disagrees with mlperf_log_detail.txt: the summary counts 0 error(s), the "
        f"detail log has 1", f"{RUN_1}: LoadGen logged error: injected failure"]


def test_accuracy_below_target_is_named(tree: Path, tmp_path: Path) -> None:
    copy = _copy(tree, tmp_path)
    (copy / ACCURACY / "accuracy.txt").write_text("accuracy=75.690%, good=15138, total=20000\n")
    found = problems_by_folder(copy)[ACCURACY]
    assert "accuracy 75.69% is below the quality target top-1 >= 75.6954% (99% of 76.46)" in found
    (copy / ACCURACY / "accuracy.txt").write_text("accuracy=75.700%, good=15140, total=20000\n")
    assert not any("quality target" in line for line in problems_by_folder(copy)[ACCURACY])


def test_missing_system_field_is_named(tree: Path, tmp_path: Path) -> None:
    copy = _copy(tree, tmp_path)
    path = copy / BASE / "systems" / f"{SYSTEM}.json"
    system = json.loads(path.read_text())
    del system["status"]
    system["host_memory_capacity"] = ""
    path.write_text(json.dumps(system))
    assert sorted(_new_lines(tree, copy)) == [f"{BASE}/systems/{SYSTEM}.json: field host_memory_capacity missing",
                                              f"{BASE}/systems/{SYSTEM}.json: field status missing"]


def _audit_folders(tmp_path: Path, run: Path, failed: str | None = None, **changed: object) -> list[Path]:
    """Audit folders of ``run``'s implementation, each with a detail log (``run``'s: its scenario is the
    evidence) and audit.json (its fields ``changed``)."""
    folders = []
    results = json.loads((run / "results.json").read_text())
    for test in AUDIT_TESTS:
        folder = tmp_path / "audits" / test
        (folder / "performance" / "run_1").mkdir(parents=True)
        shutil.copy2(run / "performance" / "mlperf_log_detail.txt", folder / "performance" / "run_1")
        record = {"test": test, "passed": test != failed,
                  **{key: results.get(key) for key in ("benchmark", "scenario", "backend", "precision",
                                                        "model_sha256", "quick", "count")}}
        (folder / "audit.json").write_text(json.dumps({**record, **changed}))
        folders.append(folder)
    return folders


def test_audits_collected_then_missing_or_failed_are_named(tree: Path, null_run: Path, system_desc: Path,
                                                           make_audit: Callable[..., Path], tmp_path: Path) -> None:
    out = tmp_path / "tree"
    audits = [make_audit(tmp_path, test, null_run, "TEST FAIL: Test score invalid" if test == "TEST01" else
                         "TEST PASS") for test in list(AUDIT_TESTS)[:-1]]
    assert submit(out, "--runs", str(null_run), "--system-desc", str(system_desc), "--audits",
                  *map(str, audits)) == 0
    where = f"{BASE}/audit/{SYSTEM}/resnet/SingleStream"
    moved = json.loads((out / where / "TEST04-B" / "audit.json").read_text())
    (out / where / "TEST04-B" / "audit.json").write_text(json.dumps({**moved, "scenario": "Offline"}))
    assert f"{where}/TEST04-B: audit TEST04-B: audit.json is the audit of TEST04-B resnet50 Offline, not of this " \
           f"result" in check_tree(out)
    (out / where / "TEST04-B" / "audit.json").write_text(json.dumps(moved))
    lines = [line for line in check_tree(out) if "/audit/" in line]
    assert (out / where / "TEST04-A" / "audit.json").is_file()
    assert lines == [f"{where}: audit TEST05 missing: run 'mlperf-ref audit TEST resnet50 --scenario SingleStream "
                     f"--reference RUN_DIR ...' and add it with 'mlperf-ref submission ... --audits DIR' (the r0.5 "
                     f"checker does not look for audits; the v0.5 rules want them)",
                     f"{where}/TEST01: audit TEST01 FAILED: verify_performance.txt says TEST FAIL: Test score invalid"]


def _edited_scenario(run: Path, tmp_path: Path) -> Path:
    """The Offline run with its results.json edited to say SingleStream."""
    copy = tmp_path / "edited"
    shutil.copytree(run, copy)
    results = json.loads((copy / "results.json").read_text())
    (copy / "results.json").write_text(json.dumps({**results, "scenario": "SingleStream"}))
    return copy


# (case, the --runs and --audits words, what the one line says); the hostile cases of issue 21
INPUT_CASES = {
    "audit of another backend": (
        lambda null, onnx, tmp: ["--runs", str(null), "--audits",
                                 str(_audit_folders(tmp, null, backend="onnxruntime")[3])],
        r"--audits \S+/TEST05: the TEST05 of another implementation than the result resnet50 SingleStream "
        r"\(\S+\): backend onnxruntime \(the audit\) vs null \(the result\)"),
    "audit of the int8 file for an fp32 result": (
        lambda null, onnx, tmp: ["--runs", str(null), "--audits",
                                 str(_audit_folders(tmp, null, precision="int8", model_sha256="ab" * 32)[0])],
        r"precision int8 \(the audit\) vs fp32 \(the result\); model file \(sha256\) abababababab \(the audit\) "
        r"vs none \(the result\)"),
    "two TEST05 folders for one result": (
        lambda null, onnx, tmp: ["--runs", str(null), "--audits", str(_audit_folders(tmp / "one", null)[3]),
                                 str(_audit_folders(tmp / "two", null)[3])],
        r"--audits: two TEST05 audits of resnet50 SingleStream \(\S+/one/audits/TEST05 and \S+/two/audits/TEST05\)"),
    "audit whose JSON names another scenario than its log": (
        lambda null, onnx, tmp: ["--runs", str(null), str(onnx), "--audits",
                                 str(_audit_folders(tmp, null, scenario="Offline", benchmark="mobilenet")[3])],
        r"audit.json says Offline, LoadGen's \S+/mlperf_log_detail.txt ran SingleStream"),
    "Offline logs with a results.json edited to SingleStream": (
        lambda null, onnx, tmp: ["--runs", str(_edited_scenario(onnx, tmp))],
        r"--runs \S+/edited: results.json says SingleStream, LoadGen's accuracy/mlperf_log_detail.txt ran Offline"),
}


@pytest.mark.parametrize("case", list(INPUT_CASES))
def test_runs_and_audits_that_do_not_match_are_refused(case: str, null_run: Path, onnx_run: Path,
                                                       system_desc: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    words, said = INPUT_CASES[case]
    out = tmp_path / "tree"
    assert submit(out, *words(null_run, onnx_run, tmp_path), "--system-desc", str(system_desc)) == 2, case
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and re.search(said, err[0]), err
    assert not out.exists()


def test_matching_audits_are_filed_with_the_official_outputs(null_run: Path, system_desc: Path,
                                                              tmp_path: Path) -> None:
    """Audits of the result's own implementation go in; TEST04's verdict is also filed beside TEST04-A."""
    out = tmp_path / "tree"
    audits = _audit_folders(tmp_path, null_run)
    (audits[2] / "verify_test4_performance.txt").write_text((Path(__file__).parents[2] / "compliance" / "data" /
                                                             "v05_audit" / "verify_test4_performance.txt").read_text())
    assert submit(out, "--runs", str(null_run), "--audits", *map(str, audits), "--system-desc", str(system_desc)) == 0
    where = out / BASE / "audit" / SYSTEM / "resnet" / "SingleStream"
    assert sorted(p.name for p in where.iterdir()) == sorted(AUDIT_TESTS)
    assert (where / "TEST04-A" / "verify_test4_performance.txt").read_text() == \
        (where / "TEST04-B" / "verify_test4_performance.txt").read_text()


def test_a_verdict_edited_to_submittable_is_judged_again(null_run: Path, system_desc: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """The null backend's run on sample data, its results.json edited to say submittable: the submission
    judges it again from its logs (null backend, 20 sample images where ImageNet val has 50,000)."""
    run = tmp_path / "run"
    shutil.copytree(null_run, run)
    results = json.loads((run / "results.json").read_text())
    results["verdict"] = {**results["verdict"], "submittable": True, "problems": []}
    (run / "results.json").write_text(json.dumps(results))
    capsys.readouterr()
    assert submit(tmp_path / "tree", "--runs", str(run), "--system-desc", str(system_desc)) == 0
    assert f"1 of 1 run(s) are not submittable, judged again from their logs ({run})" in capsys.readouterr().out


def test_same_submission_grows_and_a_failed_write_changes_nothing(
        null_run: Path, onnx_run: Path, system_desc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "tree"
    assert submit(out, "--runs", str(null_run), "--system-desc", str(system_desc)) == 0
    assert submit(out, "--runs", str(onnx_run), "--system-desc", str(system_desc)) == 0
    results = out / BASE / "results" / SYSTEM
    assert sorted(p.name for p in results.iterdir()) == ["mobilenet", "resnet"]
    framework = json.loads((out / BASE / "systems" / f"{SYSTEM}.json").read_text())["framework"]
    assert framework.startswith("onnxruntime ") and "none (null backend: no model)" in framework
    before = sorted(str(p.relative_to(out)) for p in out.rglob("*"))

    def broken(root: Path, *args: object) -> None:
        (root / "half-written").write_text("")
        raise OSError("disk full")

    monkeypatch.setattr("tools.submission.command.write_tree", broken)
    with pytest.raises(OSError):
        submit(out, "--runs", str(null_run), "--system-desc", str(system_desc))
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tree"]  # no temporary folder left beside it


def test_check_exit_codes(tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tree)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1].endswith("is not a valid v0.5 submission") and len(out) == len(check_tree(tree)) + 2
    assert out[0] == ("note: accuracy not re-scored for mobilenet, resnet50 (give --dataset-path BENCH=DIR): the "
                      "quality target is judged on the figure accuracy.txt states, which nothing here recomputed")
    assert main(["check", str(tmp_path / "nothing")]) == 2


def test_missing_runs_are_run(imagenet: Path, system_desc: Path, tmp_path: Path) -> None:
    """--benchmarks/--scenarios run the accuracy pass, the 5 Server performance runs and the audits (quick)."""
    out = tmp_path / "tree"
    assert submit(out, "--benchmarks", "resnet50", "--scenarios", "Server", "--backend", "null", "--dataset-path",
                  str(imagenet), "--quick", "--system-desc", str(system_desc)) == 0
    result = out / BASE / "results" / SYSTEM / "resnet" / "Server"
    assert sorted(p.name for p in (result / "performance").iterdir()) == [f"run_{n}" for n in range(1, 6)]
    assert (result / "accuracy" / "accuracy.txt").is_file()
    runs = sorted((tmp_path / "tree-runs" / "resnet50" / "Server").iterdir())
    assert [r.name for r in runs] == [f"run_{n}" for n in range(1, 6)]
    assert [json.loads((r / "results.json").read_text())["mode"] for r in runs] == ["both"] + ["performance"] * 4
    found = problems_by_folder(out)
    assert all(any(line == "--quick run: small counts and no minimum duration" for line in found[f"{p}"])
               for p in found if "/performance/run_" in p and "/audit/" not in p)
    # the audits ran against run_1 (TEST04-B against TEST04-A) and are in the tree with their verdicts
    audits = out / BASE / "audit" / SYSTEM / "resnet" / "Server"
    assert sorted(p.name for p in audits.iterdir()) == sorted(AUDIT_TESTS)
    for test in AUDIT_TESTS:
        record = json.loads((audits / test / "audit.json").read_text())
        assert (record["test"], record["benchmark"], record["scenario"]) == (test, "resnet50", "Server")
        against = "audits/resnet50/Server/TEST04-A" if test == "TEST04-B" else "resnet50/Server/run_1"
        assert record["reference"] == str(tmp_path / "tree-runs" / against)
        lines = found.get(f"{BASE}/audit/{SYSTEM}/resnet/Server/{test}", [])
        assert not any(line.startswith(f"audit {test} missing") for line in lines)


@pytest.mark.parametrize("case", ["other benchmark", "unknown field", "other submission", "missing field"])
def test_bad_input_one_line_exit_2(case: str, null_run: Path, system_desc: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "tree"
    words = ["--runs", str(null_run), "--system-desc", str(system_desc)]
    if case == "other benchmark":
        words += ["--benchmarks", "mobilenet", "--scenarios", "SingleStream"]
        expected = "a run of resnet50, not of --benchmarks mobilenet"
    elif case == "unknown field":
        bad = tmp_path / "desc.json"
        bad.write_text(json.dumps({"status": "available", "cpu_speed": "fast"}))
        words[-1] = str(bad)
        expected = "unknown field(s) cpu_speed"
    elif case == "other submission":
        assert main(["submission", "--submitter", "Other", "--system", SYSTEM, "--output", str(out), *words]) == 0
        capsys.readouterr()
        expected = "holds another submission"
    else:
        words = words[:2]
        expected = "'status'"  # with every other field the machine cannot tell here, in the same line
    before = sorted(p.name for p in tmp_path.iterdir())
    assert submit(out, *words) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and expected in err[0], err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing half-written beside it


def test_missing_dataset_refused_before_any_run(system_desc: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert submit(tmp_path / "tree", "--benchmarks", "resnet50", "mobilenet", "--scenarios", "Offline", "--backend",
                  "null", "--dataset-path", f"resnet50={tmp_path}", "--quick", "--system-desc", str(system_desc)) == 2
    assert capsys.readouterr().err.strip() == (
        "error: --dataset-path: needed to run mobilenet Offline (give BENCH=DIR per benchmark)")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


FULL_RUN = Path(__file__).parent / "data" / "mobilenet-singlestream-full"


def test_full_length_run_has_no_settings_problem(system_desc: Path, tmp_path: Path) -> None:
    """A tree from a full-length run (kept as data: 60 s) passes the v0.5 checker's rules and every settings
    check; what is left is the truth about it: sample data, random weights, their accuracy, no audits."""
    run = tmp_path / "full"  # the recorded paths are "@RUN_ROOT@/full/...": the run's own folder
    shutil.copytree(FULL_RUN, run)
    recorded = run / "results.json"
    recorded.write_text(recorded.read_text().replace("@RUN_ROOT@", str(tmp_path)))
    out = tmp_path / "tree"
    assert submit(out, "--runs", str(run), "--system-desc", str(system_desc)) == 0
    results = f"{BASE}/results/{SYSTEM}/mobilenet/SingleStream"
    _expected(out, {
        f"{results}/accuracy": [r"^ran on SYNTHETIC sample data", r"^ran a model with RANDOM weights",
                                r"^accuracy 0% is below the quality target top-1 >= 70\.2464%"],
        f"{results}/performance/run_1": [r"^ran on SYNTHETIC sample data", r"^ran a model with RANDOM weights"],
        f"{BASE}/audit/{SYSTEM}/mobilenet/SingleStream": [rf"^audit {', '.join(AUDIT_TESTS)} missing"],
    })


def test_the_tree_holds_the_conf_the_run_read_not_the_file_as_it_is_now(imagenet: Path, system_desc: Path,
                                                                         tmp_path: Path) -> None:
    conf = tmp_path / "short.conf"
    read = "*.SingleStream.min_duration = 0\n*.SingleStream.min_query_count = 100\n"
    conf.write_text(read)
    assert main(["run", "resnet50", "--backend", "null", "--scenario", "SingleStream", "--both", "--dataset-path",
                 str(imagenet), "--user-conf", str(conf), "--output", str(tmp_path / "run")]) in (0, 1)
    kept = (tmp_path / "run" / "user.conf").read_text()
    assert kept == f"# mlperf-ref: the --user-conf this run read, copied when it started: {conf}\n{read}"
    conf.write_text("*.SingleStream.min_query_count = 999\n")  # changed after the run, then gone
    conf.unlink()
    assert main(["submission", "--submitter", "org", "--system", "box", "--system-desc", str(system_desc),
                 "--runs", str(tmp_path / "run"), "--output", str(tmp_path / "tree")]) == 0
    written = (tmp_path / "tree" / "closed" / "org" / "measurements" / "box" / "resnet" / "SingleStream" /
               "user.conf").read_text()
    assert kept.rstrip("\n") in written and "999" not in written and "no longer there" not in written
