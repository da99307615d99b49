"""The SUTs on LoadGen: every sample answered once with its own payload; Offline batches as block views."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import mlperf_loadgen as lg
import numpy as np
import pytest

from common.accuracy.log import read_accuracy_log
from common.backends.base import Backend, Result
from common.backends.engine_threads import EngineThreads
from common.benchmark import Dataset, ModelIO, Samples, Task
from common.qsl import SampleLibrary
from common.settings import Overrides, build_settings
from common.sut import BatchRunner, Failure, WorkerPool, WorkItem, make_sut

SAMPLES = 40


class IndexDataset(Dataset):
    """Sample i is a 3-vector of i, returned as rows of one array (as the image datasets do)."""

    def __init__(self) -> None:
        self.blocks: list[np.ndarray] = []

    def __len__(self) -> int:
        return SAMPLES

    def load(self, indices: Sequence[int]) -> np.ndarray:
        block = np.repeat(np.asarray(indices, np.float32)[:, None], 3, axis=1)
        self.blocks.append(block)
        return block


class EchoTask(Task):
    """The payload of a sample is its own first value (float32), read back from the collated batch."""

    io = ModelIO(inputs=("x",), outputs=("y",))

    def __init__(self) -> None:
        self.batches: list[Samples] = []
        self.collated_on: set[str] = set()
        self.postprocessed_on: set[str] = set()

    def collate(self, samples: Samples) -> dict[str, np.ndarray]:
        self.batches.append(samples)
        self.collated_on.add(threading.current_thread().name)
        return {"x": samples if isinstance(samples, np.ndarray) else np.stack(samples)}

    def postprocess(self, outputs: Sequence[np.ndarray], indices: Sequence[int]) -> list[bytes]:
        self.postprocessed_on.add(threading.current_thread().name)
        return [row.tobytes() for row in outputs[0]]


class EchoBackend(Backend):
    """Returns the first column of the input: each sample's payload proves which data it was given.
    Like the pytorch backend, it computes on an engine thread of its own."""

    name = "echo"

    def __init__(self) -> None:
        super().__init__(threads=1)
        self.engine = EngineThreads(1, "echo-engine")
        self.predicted_on: set[str] = set()

    def load(self, model_path: Path | None, io: ModelIO) -> None:
        self.io = io

    def run_on_engine(self, fn: Callable[..., Result], *args: object) -> Result:
        return self.engine.run(fn, *args)

    def predict(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        self.predicted_on.add(threading.current_thread().name)
        return [np.ascontiguousarray(feeds["x"][:, 0])]


def _run(scenario: str, tmp_path: Path, max_batchsize: int, backend: EchoBackend | None = None,
         dataset: IndexDataset | None = None) -> tuple[dict[int, bytes], EchoTask]:
    settings = build_settings("resnet50", scenario, "accuracy", overrides=Overrides(
        target_qps=2000, min_duration_ms=0, min_query_count=1, performance_sample_count=SAMPLES))
    log_settings = lg.LogSettings()
    log_settings.log_output.outdir = str(tmp_path)
    log_settings.log_output.copy_summary_to_stdout = False
    task = EchoTask()
    failure = Failure(fail_fast=False)
    qsl = SampleLibrary(dataset or IndexDataset(), SAMPLES)
    sut = make_sut(scenario, BatchRunner(qsl, task, backend or EchoBackend(), task.postprocess, failure), max_batchsize,
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


def test_offline_batches_are_views_of_the_block(tmp_path: Path) -> None:
    dataset = IndexDataset()
    _, task = _run("Offline", tmp_path, 8, dataset=dataset)
    (block,) = dataset.blocks
    assert len(task.batches) == SAMPLES // 8  # one pass over the 40 loaded rows, 5 batches
    assert all(batch.base is block for batch in task.batches)
    rows = sorted(int(value) for batch in task.batches for value in batch[:, 0])
    assert rows == list(range(SAMPLES))


def test_server_batches_are_arrays_of_their_samples(tmp_path: Path) -> None:
    payloads, task = _run("Server", tmp_path, 4)
    assert all(isinstance(batch, np.ndarray) and 1 <= len(batch) <= 4 for batch in task.batches)
    assert sum(len(batch) for batch in task.batches) == len(payloads) == SAMPLES


def test_worker_pool_runs_every_item_it_takes_until_the_end_marks() -> None:
    work: queue.SimpleQueue[WorkItem | None] = queue.SimpleQueue()
    done: list[tuple[list[int], list[int]]] = []
    lock = threading.Lock()

    def run_batch(ids: Sequence[int], indices: Sequence[int]) -> None:
        with lock:
            done.append((list(ids), list(indices)))

    pool = WorkerPool(3, work.get, run_batch)
    items = [([k, k + 100], [k % 7, k % 5]) for k in range(50)]
    for item in items:
        work.put(item)
    for _ in range(len(pool)):
        work.put(None)
    pool.join()
    assert len(pool) == 3 and sorted(done) == sorted(items)



@pytest.mark.parametrize("scenario", ["Offline", "SingleStream"])
def test_predict_and_postprocess_run_on_the_engine_thread_collate_does_not(scenario: str, tmp_path: Path) -> None:
    backend = EchoBackend()
    payloads, task = _run(scenario, tmp_path, 8, backend)
    assert len(payloads) == SAMPLES
    (engine,) = backend.predicted_on
    assert engine.startswith("echo-engine")
    assert task.postprocessed_on == {engine}
    assert engine not in task.collated_on
