"""Systems under test for the four LoadGen scenarios, over one backend and one task.

SingleStream runs each query inline in LoadGen's issue callback (no extra hops). Offline and MultiStream
cut each query into batches of ``max_batchsize`` that worker threads run, answering as batches finish.
Server batches dynamically: queued samples are coalesced up to ``max_batchsize`` or until the first one
has waited ``batch_timeout_ms``.
"""

from __future__ import annotations

import itertools
import queue
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

import mlperf_loadgen as lg
import numpy as np

from common.backends.base import Backend, Postprocess
from common.benchmark import Task
from common.disk_space import disk_full_line, is_disk_full
from common.interruption import hard_exit
from common.qsl import SampleLibrary, SampleStore


def respond(ids: Sequence[int], payloads: Sequence[bytes]) -> None:
    """Hand one payload per query sample to LoadGen; the buffer lives until LoadGen has copied it."""
    if len(ids) != len(payloads):
        raise ValueError(f"{len(payloads)} payloads for {len(ids)} samples")
    blob = b"".join(payloads)
    base = np.frombuffer(blob, dtype=np.uint8).ctypes.data if blob else 0
    sizes = list(map(len, payloads))
    response = lg.QuerySampleResponse
    offsets = itertools.accumulate(sizes, initial=0)
    lg.QuerySamplesComplete([response(sample_id, base + offset if size else 0, size)
                             for sample_id, offset, size in zip(ids, offsets, sizes, strict=False)])


BACKEND = "running the backend"
LOADING = "loading samples"


class Failure:
    """The first error of a run, or its interruption. With ``fail_fast`` the process ends at once with the
    error; after either, batches are answered empty so that LoadGen drains quickly."""

    def __init__(self, fail_fast: bool) -> None:
        self.fail_fast = fail_fast
        self.error: BaseException | None = None
        self.where = BACKEND
        self.interrupted = False
        self._lock = threading.Lock()

    @property
    def stopped(self) -> bool:
        return self.error is not None or self.interrupted

    def record(self, exc: BaseException, where: str = BACKEND) -> None:
        """Keep the first error and where it happened (BACKEND or LOADING)."""
        with self._lock:
            if self.error is not None:
                return
            self.error, self.where = exc, where
        if self.fail_fast:  # LoadGen cannot be stopped mid-test: end the process, do not hang
            said = "the backend failed mid-run" if where == BACKEND else f"{where} failed"
            line = disk_full_line(exc, None, f"while {where}") if is_disk_full(exc) else \
                f"{said}: {type(exc).__name__}: {exc}"
            print(f"error: {line}", file=sys.stderr, flush=True)
            hard_exit(1)


class BatchRunner:
    """Runs one batch: collate, predict, post-process, respond. After a failure it answers empty."""

    def __init__(self, qsl: SampleLibrary, task: Task, backend: Backend, postprocess: Postprocess,
                 failure: Failure) -> None:
        self.qsl = qsl
        self.task = task
        self.backend = backend
        self.postprocess = postprocess
        self.failure = failure
        self.answered = 0  # samples answered with a real payload

    def __call__(self, ids: Sequence[int], indices: Sequence[int]) -> None:
        payloads: list[bytes] | None = None
        if not self.failure.stopped:
            try:
                payloads = self.payloads(indices)
            except BaseException as exc:  # noqa: BLE001 - LoadGen must still get its answers
                self.failure.record(exc)
                payloads = None
        if payloads is not None:
            self.answered += len(ids)
        respond(ids, payloads if payloads is not None else [b""] * len(ids))

    def payloads(self, indices: Sequence[int]) -> list[bytes]:
        """The batch's payloads, computed here (a replica-backed runner asks a replica instead)."""
        return compute_payloads(self.qsl, self.task, self.backend, self.postprocess, indices)


def compute_payloads(qsl: SampleStore, task: Task, backend: Backend, postprocess: Postprocess,
                     indices: Sequence[int]) -> list[bytes]:
    """One batch's payloads: collate the loaded samples, predict and post-process on the engine's thread."""
    feeds = task.collate(qsl.batch(indices))
    payloads = backend.run_on_engine(_infer, backend, postprocess, feeds, indices)
    if len(payloads) != len(indices):
        raise RuntimeError(f"post-processing returned {len(payloads)} payloads for {len(indices)} samples")
    return payloads


def _infer(backend: Backend, postprocess: Postprocess, feeds: dict[str, np.ndarray],
           indices: Sequence[int]) -> list[bytes]:
    """Predict and post-process, on the engine's own thread where it has one."""
    return postprocess(backend.predict(feeds), indices)


class SystemUnderTest:
    """Base: owns the LoadGen SUT handle (LoadGen's fast form: the issue callback gets plain id and index
    lists, no QuerySample object per sample)."""

    def __init__(self, run_batch: BatchRunner) -> None:
        self.run_batch = run_batch
        self.handle = lg.ConstructFastSUT(self.issue, self.flush)

    def issue(self, ids: list[int], indices: list[int]) -> None:
        """LoadGen's query: the response ids and the QSL indices of its samples."""
        raise NotImplementedError

    def flush(self) -> None:
        """Nothing is held back by default."""

    def stop(self) -> None:
        lg.DestroyFastSUT(self.handle)


class SingleStreamSUT(SystemUnderTest):
    """One sample at a time, run inline in LoadGen's issue thread."""

    def issue(self, ids: list[int], indices: list[int]) -> None:
        self.run_batch(ids, indices)


# One batch of work: the response ids of its query samples and their QSL indices.
WorkItem = tuple[list[int], list[int]]


class WorkerPool:
    """Worker threads that take work items until ``take`` returns None, and run each as one batch."""

    def __init__(self, workers: int, take: Callable[[], WorkItem | None],
                 run_batch: Callable[[Sequence[int], Sequence[int]], None]) -> None:
        self._take = take
        self._run_batch = run_batch
        self._threads = [threading.Thread(target=self._loop, daemon=True, name=f"sut-worker-{i}")
                         for i in range(workers)]
        for thread in self._threads:
            thread.start()

    def __len__(self) -> int:
        return len(self._threads)

    def _loop(self) -> None:
        take, run_batch = self._take, self._run_batch
        while (item := take()) is not None:
            run_batch(*item)

    def join(self) -> None:
        for thread in self._threads:
            thread.join()


class QuerySplittingSUT(SystemUnderTest):
    """Offline and MultiStream: each query is cut into batches that worker threads run."""

    def __init__(self, run_batch: BatchRunner, max_batchsize: int, workers: int) -> None:
        super().__init__(run_batch)
        self.max_batchsize = max_batchsize
        self._work: queue.SimpleQueue[WorkItem | None] = queue.SimpleQueue()
        self._pool = WorkerPool(workers, self._work.get, run_batch)

    def issue(self, ids: list[int], indices: list[int]) -> None:
        order = self._batch_order(indices)
        if order is not None:
            ids = [ids[i] for i in order]
            indices = [indices[i] for i in order]
        step = self.max_batchsize
        for start in range(0, len(ids), step):
            self._work.put((ids[start:start + step], indices[start:start + step]))

    def _batch_order(self, indices: list[int]) -> list[int] | None:
        """Group similar samples (e.g. sentence lengths) when the task offers a sort key; otherwise make
        batches of consecutive rows of the QSL's blocks (views, not copies), where the samples are in one."""
        if len(indices) <= self.max_batchsize:
            return None
        return self.run_batch.qsl.batch_order(indices, self.run_batch.task)

    def stop(self) -> None:
        for _ in range(len(self._pool)):  # after the queued batches: one end mark per worker
            self._work.put(None)
        self._pool.join()
        super().stop()


class ServerSUT(SystemUnderTest):
    """Dynamic batching: coalesce queued samples up to max_batchsize or the wait bound."""

    def __init__(self, run_batch: BatchRunner, max_batchsize: int, workers: int, batch_timeout_ms: float) -> None:
        super().__init__(run_batch)
        self.max_batchsize = max_batchsize
        self.timeout_s = batch_timeout_ms / 1000
        self._pending: deque[tuple[int, int, float]] = deque()  # (id, index, arrival time)
        self._ready = threading.Condition()
        self._stopping = False
        self._flushing = False
        self._pool = WorkerPool(workers, self._take, run_batch)

    def issue(self, ids: list[int], indices: list[int]) -> None:
        now = time.monotonic()
        with self._ready:
            self._pending.extend(zip(ids, indices, itertools.repeat(now, len(ids)), strict=True))
            self._ready.notify()

    def flush(self) -> None:
        with self._ready:
            self._flushing = True
            self._ready.notify_all()

    def _take(self) -> WorkItem | None:
        """The next batch: the queued samples up to max_batchsize, once full, or once the first one has
        waited the timeout (at once when flushing or stopping); None once stopped with nothing queued."""
        with self._ready:
            while not self._pending:
                if self._stopping:
                    return None
                self._ready.wait()
            deadline = self._pending[0][2] + self.timeout_s
            while len(self._pending) < self.max_batchsize and not (self._stopping or self._flushing):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._ready.wait(left)
            count = min(self.max_batchsize, len(self._pending))
            batch = [self._pending.popleft() for _ in range(count)]
            if self._pending:
                self._ready.notify()
        return [b[0] for b in batch], [b[1] for b in batch]

    def stop(self) -> None:
        with self._ready:
            self._stopping = True
            self._ready.notify_all()
        self._pool.join()
        super().stop()


def make_sut(scenario: str, run_batch: BatchRunner, max_batchsize: int, workers: int,
             batch_timeout_ms: float) -> SystemUnderTest:
    """The SUT for a scenario."""
    if scenario == "SingleStream":
        return SingleStreamSUT(run_batch)
    if scenario == "Server":
        return ServerSUT(run_batch, max_batchsize, workers, batch_timeout_ms)
    return QuerySplittingSUT(run_batch, max_batchsize, workers)
