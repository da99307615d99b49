"""Finished runs on the sample data, made once for the submission tests: short settings, real LoadGen logs."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tools.cli import main
from vision.imagenet.samples import write_samples


def run(*words: str) -> None:
    """``mlperf-ref run ...`` in this process; it must finish."""
    assert main(["run", *words]) in (0, 1)


@pytest.fixture(scope="session")
def imagenet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_samples(tmp_path_factory.mktemp("submission-samples"))


def short_conf(folder: Path, scenario: str, *extra: str) -> Path:
    """A user conf with the short settings the tests run with (far below the v0.5 minimums)."""
    path = folder / f"short-{scenario}.conf"
    lines = [f"*.{scenario}.min_duration = 0", f"*.{scenario}.min_query_count = 100", *extra]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="session")
def null_run(imagenet: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """resnet50 on the null backend, SingleStream, accuracy and performance, short settings (VALID)."""
    out = tmp_path_factory.mktemp("null-run")
    conf = short_conf(out, "SingleStream")
    run("resnet50", "--backend", "null", "--scenario", "SingleStream", "--both", "--dataset-path", str(imagenet),
        "--user-conf", str(conf), "--output", str(out / "run"))
    return out / "run"


@pytest.fixture(scope="session")
def quick_run(imagenet: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same in --quick mode: too few queries, so LoadGen says INVALID."""
    out = tmp_path_factory.mktemp("quick-run") / "run"
    run("resnet50", "--backend", "null", "--scenario", "SingleStream", "--dataset-path", str(imagenet), "--quick",
        "--output", str(out))
    return out


@pytest.fixture(scope="session")
def seed_run(imagenet: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The short null run with another qsl_rng_seed set by the user's conf."""
    out = tmp_path_factory.mktemp("seed-run")
    conf = short_conf(out, "SingleStream", "*.*.qsl_rng_seed = 12345")
    run("resnet50", "--backend", "null", "--scenario", "SingleStream", "--dataset-path", str(imagenet),
        "--user-conf", str(conf), "--output", str(out / "run"))
    return out / "run"


@pytest.fixture(scope="session")
def onnx_run(imagenet: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """MobileNet with seeded random weights on onnxruntime, Offline, both phases, short settings."""
    out = tmp_path_factory.mktemp("onnx-run")
    model = out / "mobilenet_v1_1.0_224.onnx"
    assert main(["export-model", "mobilenet", "--output", str(model)]) == 0
    conf = out / "short.conf"
    conf.write_text("*.Offline.min_duration = 0\n*.Offline.min_query_count = 20\n")
    run("mobilenet", "--backend", "onnxruntime", "--model", str(model), "--scenario", "Offline", "--both",
        "--dataset-path", str(imagenet), "--user-conf", str(conf), "--output", str(out / "run"))
    return out / "run"


@pytest.fixture(scope="session")
def system_desc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("desc") / "system.json"
    # host_storage_type too: the machine tells it only for a folder on a block device (not on a tmpfs /tmp)
    path.write_text(json.dumps({"status": "available", "system_name": "Test box", "host_storage_type": "SSD"}))
    return path


def _metric(folder: Path) -> str:
    """The metric figure of a summary, as LoadGen printed it (what the v0.5 verify scripts quote)."""
    text = (folder / "mlperf_log_summary.txt").read_text()
    return re.search(r"^(?:90\.0th percentile latency \(ns\)|Samples per second)\s*:\s*(\S+)", text, re.M).group(1)


def _records(path: Path) -> int:
    return len(json.loads(path.read_text()))


# the setting each test's audit.config puts in force, as LoadGen logs it in the detail log
AUDIT_SETTINGS = {"TEST01": {"effective_accuracy_log_probability": 0.1},
                  "TEST04-A": {"effective_performance_issue_unique": True},
                  "TEST04-B": {"effective_performance_issue_same": True},
                  "TEST05": {"effective_qsl_rng_seed": 195, "effective_sample_index_rng_seed": 235,
                             "effective_schedule_rng_seed": 634}}


def _in_force(logs: Path, settings: dict[str, object]) -> None:
    """Rewrite the entries ``settings`` (key -> value) in the detail log (one :::MLLOG JSON line each) and
    the summary's Test Parameters (``key : value``, a bool as LoadGen prints it: 0 or 1)."""
    lines = []
    for line in (logs / "mlperf_log_detail.txt").read_text().splitlines():
        entry = json.loads(line.removeprefix(":::MLLOG ")) if line.startswith(":::MLLOG ") else None
        if entry is not None and entry.get("key") in settings:
            line = ":::MLLOG " + json.dumps({**entry, "value": settings[entry["key"]]})
        lines.append(line)
    (logs / "mlperf_log_detail.txt").write_text("\n".join(lines) + "\n")
    summary = (logs / "mlperf_log_summary.txt").read_text()
    for key, value in settings.items():
        name = key.removeprefix("effective_")
        summary, count = re.subn(rf"^{name} : .*$", f"{name} : {int(value) if isinstance(value, bool) else value}",
                                 summary, flags=re.M)
        assert count == 1, (name, count)
    (logs / "mlperf_log_summary.txt").write_text(summary)


def _audit_folder(root: Path, test: str, run: Path, verdict: str = "TEST PASS") -> Path:
    """An audit folder as the official v0.5 steps leave it (the audit run's logs in performance/run_1, the
    official verify outputs with ``verdict``) plus our audit.json. The audit run is the performance phase of
    ``run`` with the test's setting marked in force in its logs: its scores are then the reference's
    exactly (a real audit run on the null backend varies by more than the 20 % tolerance), so each table
    case's verdict is exact."""
    folder = root / "audits" / test
    logs = folder / "performance" / "run_1"
    logs.mkdir(parents=True)
    for name in ("mlperf_log_summary.txt", "mlperf_log_detail.txt", "mlperf_log_accuracy.json"):
        shutil.copy(run / "performance" / name, logs / name)
    _in_force(logs, AUDIT_SETTINGS[test])
    score = _metric(run / "performance")
    if test == "TEST01":
        (folder / "verify_accuracy.txt").write_text(
            "Verifying accuracy. This might take a while...\nReading accuracy mode results...\nReading performance "
            f"mode results...\nnum_acc_log_entries = {_records(run / 'accuracy' / 'mlperf_log_accuracy.json')}\n"
            f"num_perf_log_entries = {_records(logs / 'mlperf_log_accuracy.json')}\nnum_perf_log_data_mismatch = 0\n"
            "TEST PASS\n")
    if test in ("TEST01", "TEST05"):
        (folder / "verify_performance.txt").write_text(
            f"Verifying performance.\nreference score = {score}\ntest score = {score}\n{verdict}\n")
    if test == "TEST04-A":
        (folder / "verify_test4_performance.txt").write_text(
            f"Verifying performance.\nTEST04-A score = {score}\nTEST04-B score = {score}\n{verdict}\n")
    results = json.loads((run / "results.json").read_text())  # the implementation the audit ran: the run's
    identity = {key: results.get(key) for key in ("benchmark", "scenario", "backend", "precision", "model_sha256",
                                                  "quick", "count")}
    (folder / "audit.json").write_text(json.dumps({"test": test, **identity, "passed": verdict == "TEST PASS"}))
    return folder


@pytest.fixture(scope="session")
def make_audit() -> Callable[..., Path]:
    """``make_audit(root, test, run, verdict="TEST PASS")``: an audit folder in the official v0.5 form."""
    return _audit_folder
