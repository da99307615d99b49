"""The v0.5 audit tests catch what they exist to catch, on the real LoadGen with small test-only backends.

The synthetic benchmark (40 vectors, argmax payloads) stands in as resnet50; runs are short SingleStream
runs (no minimum duration, 100 queries), the audits' own settings checked as in force in the detail log.
"""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from common.backends.base import Backend
from common.benchmark import ModelIO
from common.effective_settings import read_effective
from common.loadgen_log import LoadGenSummary
from common.samples import SYNTHETIC_MARKER
from compliance.definitions import AUDIT_TESTS, audit_dir
from compliance.verify import compare_payloads, compare_test04, not_in_force, within_tolerance
from tools.cli import main

SHORT = "*.*.min_duration = 0\n*.*.min_query_count = 100\n"
HEADER = """\
# The format of this config file is 'key = value'.
# The key has the format 'model.scenario.key'. Value is mostly int64_t.
# Model maybe '*' as wildcard. In that case the value applies to all models.
# All times are in milli seconds

# mode dictionary (0 = submission, 1 = accuracy, 2 = performance, 3 = find peak perf)
"""


class AnswerBackend(Backend):
    """Answers ``sign * input`` (a negative sign changes every argmax); with ``cache_s`` it takes that long
    for an input it has not seen and answers a seen one from its cache at once (a caching SUT)."""

    name = "onnxruntime"

    def __init__(self, sign: float = 1.0, cache_s: float | None = None) -> None:
        super().__init__(threads=1)
        self.sign, self.cache_s = sign, cache_s
        self.cache: dict[bytes, np.ndarray] = {}
        self.lock = threading.Lock()

    def load(self, model_path: Path | None, io: ModelIO) -> None:
        self.io = io

    def predict(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        x = feeds["x"]
        if self.cache_s is None:
            return [self.sign * x]
        key = x.tobytes()
        with self.lock:
            hit = self.cache.get(key)
        if hit is None:
            time.sleep(self.cache_s)
            hit = self.sign * x
            with self.lock:
                self.cache[key] = hit
        return [hit]


@pytest.fixture
def bench(synthetic, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """cli(args..., backend=AnswerBackend) -> exit code; runs in tmp_path with the synthetic data and SHORT."""
    conf = tmp_path / "short.conf"
    conf.write_text(SHORT)
    monkeypatch.chdir(tmp_path)

    def cli(*args: str, backend: AnswerBackend | None = None, conf_file: Path | None = conf) -> int:
        monkeypatch.setattr("common.session.make_backend", lambda *a, **k: backend or AnswerBackend())
        extra = ["--user-conf", str(conf_file)] if conf_file else []
        return main([*args, "--backend", "onnxruntime", "--scenario", "SingleStream", "--dataset-path",
                     str(tmp_path), *extra])

    return cli


def _audit(out: Path) -> dict:
    return json.loads((out / "audit.json").read_text())


def test_test01_passes_an_honest_sut_and_fails_one_that_answers_otherwise_in_performance_mode(
        bench, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert bench("run", "resnet50", "--both", "--output", "ref") == 0
    assert bench("audit", "TEST01", "resnet50", "--output", "honest", "--reference", "ref") in (0, 1)
    honest = _audit(tmp_path / "honest")
    effective = read_effective(tmp_path / "honest" / "performance" / "run_1")
    assert effective["accuracy_log_probability"] == pytest.approx(0.1) and effective["accuracy_log_rng_seed"] == 789
    assert honest["settings_in_force"] is True and honest["accuracy_passed"] is True
    sampled = honest["accuracy"]
    assert 0 < sampled["compared"] == sampled["performance_entries"] < 100 and sampled["mismatches"] == 0
    assert sampled["accuracy_entries"] == 40  # every sample once in the reference's accuracy pass
    capsys.readouterr()
    (tmp_path / SYNTHETIC_MARKER).touch()  # the sampled set's score below is then said to be no quality result
    # the same run options, a SUT whose performance-mode answers differ from its accuracy-mode ones
    assert bench("audit", "TEST01", "resnet50", "--output", "liar", "--reference", "ref",
                 backend=AnswerBackend(sign=-1.0)) == 1
    liar = _audit(tmp_path / "liar")
    assert liar["accuracy_passed"] is False and liar["passed"] is False
    assert liar["accuracy"]["mismatches"] == liar["accuracy"]["compared"] > 0
    assert liar["accuracy_quality"]["passed"] is False and liar["accuracy_quality"]["value"] == 0.0
    assert liar["accuracy_quality"]["line"].endswith("below the target; NOT a quality result: synthetic data")
    printed = capsys.readouterr().out
    assert f"{liar['accuracy']['compared']} differ" in printed and printed.rstrip().endswith("TEST FAIL")
    assert (tmp_path / "liar" / "audit.config").read_text() == HEADER + "".join(
        f"*.{s}.mode = 2\n*.{s}.accuracy_log_rng_seed = {seed}\n*.{s}.accuracy_log_probability = 10\n"
        for s, seed in (("MultiStream", 123), ("Offline", 456), ("SingleStream", 789), ("Server", 147)))


def test_test04_fails_a_sut_that_caches_results(bench, tmp_path: Path) -> None:
    caching = AnswerBackend(cache_s=0.01)
    assert bench("audit", "TEST04-A", "resnet50", "--output", "a", backend=caching) == 0
    assert bench("audit", "TEST04-B", "resnet50", "--output", "b", "--reference", "a",
                 backend=AnswerBackend(cache_s=0.01)) == 1
    a, b = _audit(tmp_path / "a"), _audit(tmp_path / "b")
    assert a["run_problems"] == [] and a["passed"] is True  # TEST04 sets its own run length
    assert a["settings"] == {"performance_issue_unique": True} and a["settings_in_force"] is True
    assert b["settings"] == {"performance_issue_same": True, "performance_issue_same_index": 3}
    assert b["settings_in_force"] is True and b["performance_passed"] is False
    # A answered 40 unseen samples (10 ms each), B one sample 40 times (from its cache after the first)
    assert b["performance"]["change"] < -0.5
    for out, unique in ((tmp_path / "a", True), (tmp_path / "b", False)):
        effective = read_effective(out / "performance" / "run_1")
        assert effective["performance_issue_unique"] is unique and effective["performance_issue_same"] is not unique
        assert effective["min_query_count"] == 40 and effective["min_duration_ms"] == 0  # P queries, P = 40 loaded


def test_test05_runs_with_its_seeds_in_force(bench, tmp_path: Path) -> None:
    assert bench("run", "resnet50", "--output", "ref") == 0
    assert bench("audit", "TEST05", "resnet50", "--output", "t5", "--reference", "ref") in (0, 1)
    effective = read_effective(tmp_path / "t5" / "performance" / "run_1")
    assert (effective["qsl_rng_seed"], effective["sample_index_rng_seed"], effective["schedule_rng_seed"]) == \
        (195, 235, 634)
    found = _audit(tmp_path / "t5")
    assert found["settings_in_force"] is True and found["performance"]["score"].startswith("90.0th percentile")
    # the short conf is what keeps it from being a valid audit, and it says so
    assert found["run_problems"] == ["min_duration 0 ms in force, v0.5 needs 60000 ms",
                                     "min_query_count 100 in force, v0.5 needs 1024"]
    assert found["passed"] is False
    assert (tmp_path / "t5" / "audit.config").read_text() == HEADER + "".join(
        f"*.{s}.mode = 2\n*.{s}.qsl_rng_seed = 195\n*.{s}.sample_index_rng_seed = 235\n*.{s}.schedule_rng_seed = 634\n"
        for s in ("MultiStream", "Offline", "SingleStream", "Server"))
    # a normal run has none of the audits' settings in force, and each is named
    normal = read_effective(tmp_path / "ref" / "performance")
    assert not_in_force(normal, AUDIT_TESTS["TEST05"].fields("SingleStream"))[0].startswith(
        "qsl_rng_seed 3133965575612453542 in force, the audit sets 195")
    assert not_in_force(normal, AUDIT_TESTS["TEST01"].fields("Server")) == [
        "accuracy_log_probability 0 in force, the audit sets 0.1",
        "accuracy_log_rng_seed 0 in force, the audit sets 147"]


def test_a_stray_audit_config_is_refused_or_loudly_honoured(bench, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "audit.config").write_text("*.*.mode = 2\n*.*.accuracy_log_rng_seed = 5\n")
    assert bench("run", "resnet50", "--output", "stray") == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "--allow-audit-config" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "stray" / "results.json").exists()
    assert bench("audit", "TEST05", "resnet50", "--output", "t5", "--reference", "stray") == 2  # the audit too
    # --accuracy under mode = 2 would score a random subset in performance mode: refused even when allowed
    assert bench("run", "resnet50", "--accuracy", "--allow-audit-config", "--output", "stray") == 2
    assert "sets mode = 2 (PerformanceOnly)" in capsys.readouterr().err
    assert bench("run", "resnet50", "--allow-audit-config", "--output", "stray") == 0
    captured = capsys.readouterr()
    assert "WARNING:" in captured.err and "never submittable" in captured.err
    verdict = json.loads((tmp_path / "stray" / "results.json").read_text())["verdict"]
    assert verdict["submittable"] is False
    assert any(p.startswith("audit.config in force") for p in verdict["problems"])
    assert read_effective(tmp_path / "stray" / "performance")["accuracy_log_rng_seed"] == 5  # LoadGen read it


def test_bad_audit_input_gets_one_line(bench, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert bench("audit", "TEST01", "resnet50", "--output", "x") == 2
    assert "needs --reference RUN_DIR" in capsys.readouterr().err
    assert bench("run", "resnet50", "--output", "ref") == 0
    capsys.readouterr()
    assert bench("audit", "TEST04-B", "resnet50", "--output", "x", "--reference", "ref") == 2
    assert "compares with the TEST04-A folder" in capsys.readouterr().err
    assert bench("audit", "TEST01", "resnet50", "--output", "x", "--reference", "ref") == 2  # no accuracy pass
    assert "no accuracy/mlperf_log_accuracy.json" in capsys.readouterr().err
    assert bench("audit", "TEST05", "resnet50", "--output", "ref", "--reference", "ref") == 2
    assert "holds a run's results.json" in capsys.readouterr().err
    assert main(["run", "resnet50", "--backend", "null", "--scenario", "Offline", "--dataset-path", str(tmp_path),
                 "--output", "offline", "--quick"]) == 0
    capsys.readouterr()
    assert bench("audit", "TEST05", "resnet50", "--output", "x", "--reference", "offline") == 2
    assert "scenario SingleStream (this audit) vs Offline (the reference)" in capsys.readouterr().err
    (tmp_path / "offline" / "results.json").unlink()  # a folder of logs only: no finished run
    assert bench("audit", "TEST05", "resnet50", "--output", "x", "--reference", "offline") == 2
    assert "no results.json, so not a finished 'mlperf-ref run'" in capsys.readouterr().err


def test_test04_is_refused_for_gnmt_as_in_v05(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "TEST04-A", "gnmt", "--backend", "null", "--dataset-path", str(tmp_path),
                 "--output", str(tmp_path / "out")]) == 2
    assert "does not apply to GNMT" in capsys.readouterr().err and not (tmp_path / "out").exists()


def _summary(scenario: str, value: float, valid: bool = True, scheduled: float | None = None) -> LoadGenSummary:
    metric = {"SingleStream": "90.0th percentile latency (ns)", "Offline": "Samples per second",
              "Server": "Completed samples per second"}[scenario]
    fields = {"Scheduled samples per second": str(scheduled)} if scheduled is not None else {}
    return LoadGenSummary(path=Path(f"{scenario}-{value}"), scenario=scenario, valid=valid, metric_name=metric,
                          metric_value=value, fields=fields)


def test_the_v05_performance_rules() -> None:
    # verify_performance.py: within 10 % (SingleStream: 20 % when the reference is at most 0.2 ms)
    assert within_tolerance(_summary("Offline", 100.0), _summary("Offline", 91.0)).passed is True
    check = within_tolerance(_summary("Offline", 100.0), _summary("Offline", 89.0))
    assert check.passed is False and check.figures["change"] == pytest.approx(-0.11)
    assert within_tolerance(_summary("SingleStream", 150_000), _summary("SingleStream", 175_000)).passed is True
    assert within_tolerance(_summary("SingleStream", 300_000), _summary("SingleStream", 350_000)).passed is False
    assert within_tolerance(_summary("Offline", 100.0, valid=False), _summary("Offline", 100.0)).passed is False
    # Server compares the scheduled rate, as v0.5 did
    check = within_tolerance(_summary("Server", 90.0, scheduled=100.0), _summary("Server", 50.0, scheduled=105.0))
    assert check.passed is True and check.figures["test_score"] == 105.0
    # verify_test4_performance.py: B within the band, or slower, passes; B much faster fails
    assert compare_test04(_summary("SingleStream", 1e6), _summary("SingleStream", 1.3e6)).passed is True
    assert compare_test04(_summary("SingleStream", 1e6), _summary("SingleStream", 0.8e6)).passed is False
    assert compare_test04(_summary("Offline", 100.0), _summary("Offline", 70.0)).passed is True
    assert compare_test04(_summary("Offline", 100.0), _summary("Offline", 115.0)).passed is False


def test_payloads_are_compared_as_the_benchmarks_data(tmp_path: Path) -> None:
    def log(name: str, rows: list[tuple[int, list[float]]]) -> Path:
        path = tmp_path / name
        path.write_text(json.dumps([{"seq_id": n, "qsl_idx": idx, "data": np.float32(values).tobytes().hex()}
                                    for n, (idx, values) in enumerate(rows)]))
        return path

    accuracy = log("acc.json", [(0, [0.0, 1.0, 2.0]), (1, [5.0, 6.0, 7.0])])
    # sample 1 differs only in its second value (the v0.5 script compared the first one only); -0.0 == 0.0
    performance = log("perf.json", [(0, [-0.0, 1.0, 2.0]), (1, [5.0, 6.5, 7.0]), (1, [5.0, 6.0, 7.0]), (2, [1.0])])
    found = compare_payloads(accuracy, performance, lambda b: np.frombuffer(b, np.float32))
    assert (found.compared, found.mismatches, found.missing, found.mismatched) == (3, 1, 1, [1])


def test_names_and_layout() -> None:
    assert tuple(AUDIT_TESTS) == ("TEST01", "TEST04-A", "TEST04-B", "TEST05")
    assert audit_dir(Path("sub"), "closed", "Org", "sys1", "resnet", "Offline", "TEST01") == \
        Path("sub/closed/Org/audit/sys1/resnet/Offline/TEST01")


def test_each_benchmark_decodes_its_payloads_as_its_data() -> None:
    from common.registry import get_benchmark
    from vision.classification.task import label_payloads
    from vision.detection.payload import pack_detections

    label = get_benchmark("resnet50").decode_payload(label_payloads(np.array([65]))[0])
    assert label.dtype == np.float32 and label.tolist() == [64.0]  # the v0.5 offset: output 0 is background
    rows = get_benchmark("ssd-mobilenet").decode_payload(
        pack_detections(7, np.array([[0.1, 0.2, 0.3, 0.4], [0.5, 0.5, 0.6, 0.7]]), np.array([0.9, 0.8]),
                        np.array([1, 18])))
    assert rows.shape == (2, 7) and rows[1, 6] == 18 and rows[0, 0] == 7
    assert get_benchmark("gnmt").decode_payload(b"Ein Haus .") == "Ein Haus ."


V05_AUDIT = Path(__file__).parent / "data" / "v05_audit"  # published v0.5 audit outputs (see ORIGIN.md there)


def _shape(text: str) -> list[str]:
    """The lines of a verify script's output with the figures taken out."""
    return [re.sub(r"\d+(\.\d+)?", "N", line) for line in text.splitlines()]


def _interrupted(out: Path) -> None:
    """What an interrupted rerun leaves in a run folder: results.json cleared, the phase marked INCOMPLETE."""
    (out / "results.json").unlink()
    (out / "performance" / "INCOMPLETE").write_text("interrupted during the performance phase\n")


def _marked_only(out: Path) -> None:
    (out / "performance" / "INCOMPLETE").write_text("interrupted during the performance phase\n")


def _cut_accuracy_log(out: Path) -> None:
    log = out / "accuracy" / "mlperf_log_accuracy.json"
    text = log.read_text()
    log.write_text(text[: len(text) // 2])


def _foreign_entry(out: Path) -> None:
    log = out / "accuracy" / "mlperf_log_accuracy.json"
    records = json.loads(log.read_text())
    records[3]["data"] = "not hex"
    log.write_text(json.dumps(records))


def _garbage_detail_log(out: Path) -> None:
    (out / "performance" / "mlperf_log_detail.txt").write_bytes(bytes(range(256)) * 8)


# (case, how the reference is made, what is done to it, the audit, its extra words, the refusal's words)
REFERENCE_CASES = [
    ("TEST04-A of another backend", ("audit", "TEST04-A", "--backend", "null"), None, "TEST04-B", (),
     "backend onnxruntime (this audit) vs null (the reference)"),
    ("TEST04-A of the int8 file, B fp32", ("audit", "TEST04-A", "--model", "int8.onnx", "--precision", "int8"), None,
     "TEST04-B", ("--model", "fp32.onnx"), "precision fp32 (this audit) vs int8 (the reference); model file (sha256)"),
    ("TEST04-A a --quick run", ("audit", "TEST04-A", "--quick"), None, "TEST04-B", (),
     "--quick off (this audit) vs on (the reference)"),
    ("interrupted reference run", ("run", "--both"), _interrupted, "TEST05", (),
     "no results.json, so not a finished 'mlperf-ref run'"),
    ("reference run marked interrupted", ("run", "--both"), _marked_only, "TEST05", (),
     "INCOMPLETE says the run was interrupted"),
    ("reference detail log replaced by binary garbage", ("run", "--both"), _garbage_detail_log, "TEST05", (),
     "ref/performance/mlperf_log_detail.txt is not a LoadGen detail log"),
    ("corrupt reference accuracy log (cut in half)", ("run", "--both"), _cut_accuracy_log, "TEST01", (),
     "mlperf_log_accuracy.json: not a LoadGen accuracy log"),
    ("reference accuracy log with a foreign entry", ("run", "--both"), _foreign_entry, "TEST01", (),
     "mlperf_log_accuracy.json: entry 3 is not a LoadGen response"),
]


@pytest.mark.parametrize(("case", "made", "damage", "test", "extra", "said"), REFERENCE_CASES,
                         ids=[case[0] for case in REFERENCE_CASES])
def test_a_reference_that_does_not_match_is_refused_before_the_audit_runs(
        bench, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, made: tuple[str, ...], damage,
        test: str, extra: tuple[str, ...], said: str) -> None:
    (tmp_path / "int8.onnx").write_bytes(b"the int8 file")
    (tmp_path / "fp32.onnx").write_bytes(b"the fp32 file")
    command, *words = made
    words = [words[0], "resnet50", *words[1:]] if command == "audit" else ["resnet50", *words]
    backend = words.index("--backend") if "--backend" in words else None
    if backend is not None:  # the fixture names onnxruntime last; this reference ran another backend
        assert main([command, *words, "--scenario", "SingleStream", "--dataset-path", str(tmp_path),
                     "--user-conf", str(tmp_path / "short.conf"), "--output", "ref"]) in (0, 1)
    else:
        assert bench(command, *words, "--output", "ref") in (0, 1)
    if damage is not None:
        damage(tmp_path / "ref")
    capsys.readouterr()
    assert bench("audit", test, "resnet50", *extra, "--output", "audit", "--reference", "ref") == 2, case
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ") and said in err, err
    assert not (tmp_path / "audit" / "performance").exists()  # refused before the audit ran


def test_a_matching_reference_is_taken_and_the_official_outputs_are_written(bench, tmp_path: Path) -> None:
    """TEST01, TEST05 and TEST04-B against references of the same implementation: the verify files are those
    of the published v0.5 audits, line for line but the figures, and say what audit.json says."""
    assert bench("run", "resnet50", "--both", "--output", "ref") == 0
    assert bench("audit", "TEST01", "resnet50", "--output", "t1", "--reference", "ref") in (0, 1)
    assert bench("audit", "TEST05", "resnet50", "--output", "t5", "--reference", "ref") in (0, 1)
    assert bench("audit", "TEST04-A", "resnet50", "--output", "a") == 0
    assert bench("audit", "TEST04-B", "resnet50", "--output", "b", "--reference", "a") in (0, 1)
    t1, t5, b = _audit(tmp_path / "t1"), _audit(tmp_path / "t5"), _audit(tmp_path / "b")
    accuracy = (tmp_path / "t1" / "verify_accuracy.txt").read_text()
    assert _shape(accuracy) == _shape((V05_AUDIT / "verify_accuracy.txt").read_text())
    counts = dict(line.split(" = ") for line in accuracy.splitlines() if " = " in line)
    assert counts["num_acc_log_entries"] == "40" and counts["num_perf_log_data_mismatch"] == "0"
    assert int(counts["num_perf_log_qsl_idx_match"]) == t1["accuracy"]["compared"] > 0
    for folder, found, real in ((tmp_path / "t5", t5, "verify_performance.txt"),
                                (tmp_path / "b", b, "verify_test4_performance.txt")):
        text = (folder / real).read_text()
        wanted = _shape((V05_AUDIT / real).read_text())
        if not found["performance_passed"]:  # a busy machine: the scores out of the band
            wanted[-1] = "TEST FAIL: Test score invalid"
        shown = _shape(text)
        note = _shape("Note: TEST04-B is significantly slower than TEST04-A")  # verify_test4_performance.py's
        assert shown[:len(wanted)] == wanted and shown[len(wanted):] in ([], note)
        assert str(int(found["performance"]["test_score"])) in text  # a SingleStream latency in ns
    assert not (tmp_path / "b" / "verify_performance.txt").exists()
    assert (b["backend"], b["precision"], b["model_sha256"], b["quick"]) == ("onnxruntime", "fp32", None, False)
