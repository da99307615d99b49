"""The harness end to end on the real LoadGen: four scenarios, both modes, results, failures."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from common.accuracy.log import read_accuracy_log
from common.backends.base import Backend
from common.benchmark import ModelIO
from common.errors import RunError
from common.runner import RunConfig, run_benchmark

SCENARIOS = ["SingleStream", "MultiStream", "Server", "Offline"]


class IdentityBackend(Backend):
    """Returns its input; records the batch sizes it saw; can fail on the n-th call or sleep per call."""

    name = "onnxruntime"

    def __init__(self, fail_at: int | None = None, sleep_s: float = 0.0) -> None:
        super().__init__(threads=1)
        self.fail_at = fail_at
        self.sleep_s = sleep_s
        self.batches: list[int] = []
        self.lock = threading.Lock()

    def load(self, model_path: Path | None, io: ModelIO) -> None:
        self.io = io

    def predict(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        with self.lock:
            self.batches.append(len(feeds["x"]))
            calls = len(self.batches)
        if self.fail_at is not None and calls >= self.fail_at:
            raise RuntimeError("engine exploded")
        time.sleep(self.sleep_s)
        return [feeds["x"]]


@pytest.fixture
def identity(monkeypatch: pytest.MonkeyPatch):
    def install(**kwargs) -> IdentityBackend:
        backend = IdentityBackend(**kwargs)
        monkeypatch.setattr("common.session.make_backend", lambda *a, **k: backend)
        return backend

    return install


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_null_backend_all_scenarios_both_modes(synthetic, tmp_path: Path, scenario: str) -> None:
    out = tmp_path / scenario
    run_benchmark(RunConfig("resnet50", "null", scenario, mode="both", dataset_path=tmp_path,
                                      output=out, quick=True, max_batchsize=4, progress=False))
    for phase in ("accuracy", "performance"):
        for name in ("mlperf_log_summary.txt", "mlperf_log_detail.txt", "mlperf_log_accuracy.json"):
            assert (out / phase / name).is_file()
    saved = json.loads((out / "results.json").read_text())
    assert saved["scenario"] == scenario and saved["backend"] == "null" and saved["mode"] == "both"
    assert saved["quick"] is True and saved["verdict"]["submittable"] is False
    assert saved["performance"]["loadgen"]["valid"] in (True, False)
    assert saved["performance"]["loadgen"]["metric_value"] > 0
    assert "mlcommons-loadgen" in saved["versions"] and saved["engine"]["threads"] >= 1
    assert saved["accuracy"]["accuracy"]["value"] is None  # the null backend is never scored
    # The accuracy log round-trips: every sample once, the null backend's float32 zero as payload.
    payloads = read_accuracy_log(out / "accuracy" / "mlperf_log_accuracy.json")
    assert sorted(payloads) == list(range(saved["accuracy"]["samples"]))
    assert all(np.frombuffer(p, np.float32).tolist() == [0.0] for p in payloads.values())
    assert (out / "accuracy" / "accuracy.txt").read_text().startswith("top-1 not scored")


def test_accuracy_is_scored_against_the_target(synthetic, identity, tmp_path: Path) -> None:
    identity()
    results = run_benchmark(RunConfig("resnet50", "onnxruntime", "Offline", mode="accuracy", model=None,
                                      dataset_path=tmp_path, output=tmp_path / "out", max_batchsize=8))
    accuracy = results.accuracy.accuracy
    assert accuracy.value == 100.0 and accuracy.passed is True
    assert accuracy.samples == 40  # the whole synthetic dataset, each sample once
    assert (tmp_path / "out" / "accuracy" / "accuracy.txt").read_text() == "accuracy=100.000%\n"
    assert results.verdict.accuracy is True


def test_offline_batches_never_exceed_max_batchsize(synthetic, identity, tmp_path: Path) -> None:
    backend = identity()
    run_benchmark(RunConfig("resnet50", "onnxruntime", "Offline", mode="accuracy", dataset_path=tmp_path,
                            output=tmp_path / "out", max_batchsize=16))
    served = backend.batches[3:]  # after the three warm-up runs
    assert served == [16, 16, 8]


def test_server_coalesces_queued_samples(synthetic, identity, tmp_path: Path) -> None:
    backend = identity(sleep_s=0.004)
    run_benchmark(RunConfig("resnet50", "onnxruntime", "Server", mode="performance", dataset_path=tmp_path,
                            output=tmp_path / "out", quick=True, max_batchsize=8, target_qps=2000,
                            batch_timeout_ms=5))
    served = backend.batches[3:]  # after the warm-up
    assert max(served) > 1 and max(served) <= 8


def test_backend_failure_ends_the_run_with_the_error(synthetic, identity, tmp_path: Path) -> None:
    identity(fail_at=6)
    started = time.monotonic()
    with pytest.raises(RunError, match="engine exploded"):
        run_benchmark(RunConfig("resnet50", "onnxruntime", "Offline", mode="accuracy", dataset_path=tmp_path,
                                output=tmp_path / "out", max_batchsize=2))
    assert time.monotonic() - started < 30  # a guard against a hang, not a timing measurement


def test_missing_dataset_and_bad_options_are_usage_errors(synthetic, tmp_path: Path) -> None:
    from common.errors import UsageError

    with pytest.raises(UsageError, match="--dataset-path"):
        run_benchmark(RunConfig("resnet50", "null", "Offline", dataset_path=tmp_path / "nope", output=tmp_path / "out"))
    with pytest.raises(UsageError, match="--max-batchsize"):
        run_benchmark(RunConfig("resnet50", "null", "Offline", dataset_path=tmp_path, max_batchsize=0,
                                output=tmp_path / "out"))
    with pytest.raises(UsageError, match=r"--count 1000: .* has only 40 samples for the performance phase"):
        run_benchmark(RunConfig("resnet50", "null", "Offline", dataset_path=tmp_path, count=1000,
                                output=tmp_path / "out"))
    with pytest.raises(UsageError, match="--batch-timeout-ms -5: must be at least 0"):
        run_benchmark(RunConfig("resnet50", "null", "Server", dataset_path=tmp_path, batch_timeout_ms=-5,
                                output=tmp_path / "out"))
    with pytest.raises(UsageError, match="--backend tensorflow"):
        run_benchmark(RunConfig("resnet50", "tensorflow", "Offline", dataset_path=tmp_path, output=tmp_path / "out"))


def test_multistream_search_finds_the_largest_samples_per_query(synthetic, identity, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A backend taking 40 ms per sample meets a 220 ms bound up to 5 samples per query, not 6 (20 ms either
    side: room for a busy machine's scheduling delays)."""
    from tools.search import multistream as multistream_search

    class PerSample(IdentityBackend):
        def predict(self, feeds):
            time.sleep(0.040 * len(feeds["x"]))
            return [feeds["x"]]

    backend = PerSample()
    monkeypatch.setattr("common.session.make_backend", lambda *a, **k: backend)
    user = tmp_path / "user.conf"
    user.write_text("*.MultiStream.target_latency = 220\n")
    outcome = multistream_search.find_samples_per_query(RunConfig(
        "resnet50", "onnxruntime", "MultiStream", dataset_path=tmp_path, output=tmp_path / "search",
        quick=True, count=8, max_batchsize=64, user_conf=user))
    assert outcome["samples_per_query"] == 5
    assert [t["samples_per_query"] for t in outcome["trials"]] == [1, 2, 4, 5, 6, 8]  # doubling, then bisection
    assert (tmp_path / "search" / "multistream_search.json").is_file()


def test_invalid_run_prints_a_plain_reason_and_the_setting(synthetic, tmp_path: Path, capsys) -> None:
    """A full (not quick) run that LoadGen calls INVALID: the summary says why and what to change."""
    user = tmp_path / "user.conf"
    user.write_text("*.SingleStream.min_duration = 0\n*.SingleStream.min_query_count = 100\n"
                    "*.SingleStream.max_query_count = 10\n")
    results = run_benchmark(RunConfig("resnet50", "null", "SingleStream", dataset_path=tmp_path,
                                      output=tmp_path / "out", user_conf=user))
    loadgen = results.performance.loadgen
    assert loadgen.valid is False
    assert any("too few queries" in r and "10 of the 100" in r for r in loadgen.reasons), loadgen.reasons
    out = capsys.readouterr().out
    assert "LoadGen                         : INVALID\n      - too few queries" in out
    assert results.verdict.submittable is False
