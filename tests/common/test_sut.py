"""The SUTs on LoadGen: every sample answered once with its own payload; Offline batches as slab views."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import mlperf_loadgen as lg
import numpy as np
import pytest

from common.accuracy.log import read_accuracy_log
from common.benchmark import Dataset, ModelIO, Task
from common.qsl import SampleLibrary
from common.settings import Overrides, build_settings
from common.sut import BatchRunner, Failure, make_sut

SAMPLES = 40


class IndexDataset(Dataset):
    """Sample i is a 3-vector of i, returned as rows of one batch array (as the image datasets do)."""

    def __len__(self) -> int:
        return SAMPLES

    def load(self, indices: Sequence[int]) -> list[np.ndarray]:
        return list(np.repeat(np.asarray(indices, np.float32)[:, None], 3, axis=1))


class EchoTask(Task):
    """The payload of a sample is its own first value (float32), read back from the collated batch."""

    io = ModelIO(inputs=("x",), outputs=("y",))

    def __init__(self) -> None:
        self.batch_kinds: list[str] = []

    def collate(self, samples: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
        self.batch_kinds.append("view" if isinstance(samples, np.ndarray) else "list")
        return {"x": samples if isinstance(samples, np.ndarray) else np.stack(samples)}

    def postprocess(self, outputs: Sequence[np.ndarray], indices: Sequence[int]) -> list[bytes]:
        return [row.tobytes() for row in outputs[0]]


class EchoBackend:
    """Returns the first column of the input: each sample's payload proves which data it was given."""

    def predict(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        return [np.ascontiguousarray(feeds["x"][:, 0])]


def _run(scenario: str, tmp_path: Path, max_batchsize: int) -> tuple[dict[int, bytes], EchoTask]:
    settings = build_settings("resnet50", scenario, "accuracy", overrides=Overrides(
        target_qps=2000, min_duration_ms=0, min_query_count=1, performance_sample_count=SAMPLES))
    log_settings = lg.LogSettings()
    log_settings.log_output.outdir = str(tmp_path)
    log_settings.log_output.copy_summary_to_stdout = False
    task = EchoTask()
    failure = Failure(fail_fast=False)
    qsl = SampleLibrary(IndexDataset(), SAMPLES)
    sut = make_sut(scenario, BatchRunner(qsl, task, EchoBackend(), task.postprocess, failure), max_batchsize,
                   1, 1.0)
    try:
        lg.StartTestWithLogSettings(sut.handle, qsl.handle, settings, log_settings)
    finally:
        sut.stop()
        qsl.destroy()
    assert failure.error is None and qsl.error is None
    return read_accuracy_log(tmp_path / "mlperf_log_accuracy.json"), task


@pytest.mark.parametrize(("scenario", "max_batchsize"), [("Offline", 8), ("Server", 4), ("SingleStream", 1)])
def test_every_sample_gets_its_own_payload(scenario: str, max_batchsize: int, tmp_path: Path) -> None:
    payloads, _ = _run(scenario, tmp_path, max_batchsize)
    assert sorted(payloads) == list(range(SAMPLES))
    assert all(np.frombuffer(p, np.float32).tolist() == [float(i)] for i, p in payloads.items())


def test_offline_batches_are_views_of_the_slab(tmp_path: Path) -> None:
    _, task = _run("Offline", tmp_path, 8)
    assert task.batch_kinds == ["view"] * (SAMPLES // 8)  # one pass over the 40 loaded rows, 5 batches

