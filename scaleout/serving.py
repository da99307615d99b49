"""The driver's side of one phase on Ray replicas: the LoadGen QSL that forwards LoadSamplesToRam and
Unload to every replica (sample indices only, never pixels), and the batch runner that sends each batch
of sample indices to a replica and hands its payloads to LoadGen."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import mlperf_loadgen as lg

from common.benchmark import Dataset, Task
from common.qsl import row_order
from common.sut import LOADING, BatchRunner, Failure
from scaleout.pool import IN_FLIGHT, ReplicaPool


class RemoteLibrary:
    """LoadGen's QSL over samples that the replicas hold; here only their load order is kept (so that
    batches are runs of consecutive rows of a replica's blocks, views there as in a local run)."""

    def __init__(self, pool: ReplicaPool, total: int, performance_count: int,
                 on_error: Callable[[BaseException], None]) -> None:
        self.pool = pool
        self.total = total
        self.performance_count = min(performance_count, total)
        self._on_error = on_error
        self._positions: dict[int, int] = {}  # qsl index -> its row among all rows loaded so far
        self._next = 0
        self.handle = lg.ConstructQSL(self.total, self.performance_count, self._load, self._unload)

    def _load(self, indices: list[int]) -> None:
        if not indices:
            return
        try:
            self.pool.load(indices)
        except BaseException as exc:  # noqa: BLE001 - LoadGen cannot take exceptions; the run ends with it
            self._on_error(exc)
        for row, index in enumerate(indices, start=self._next):
            self._positions[index] = row
        self._next += len(indices)

    def _unload(self, indices: list[int]) -> None:
        for index in indices:
            self._positions.pop(index, None)
        try:
            self.pool.unload(indices)
        except BaseException as exc:  # noqa: BLE001
            self._on_error(exc)

    def batch_order(self, indices: Sequence[int], task: Task) -> list[int] | None:
        """Runs of consecutive loaded rows; where the task has a sort key (GNMT's sentence lengths), the order
        a replica computes from the samples it holds, so batches are those of a local run."""
        if type(task).sort_key is not Task.sort_key:
            try:
                return self.pool.batch_order(list(indices))
            except Exception:  # noqa: BLE001 - in LoadGen's issue callback: the batches will report the error
                return None
        try:
            return row_order([self._positions[i] for i in indices]) if indices else None
        except KeyError:
            return None

    def destroy(self) -> None:
        lg.DestroyQSL(self.handle)


class RemoteRunner(BatchRunner):
    """A BatchRunner whose batches run on the replicas (collate, predict and post-process happen there)."""

    def __init__(self, qsl: RemoteLibrary, task: Task, failure: Failure, pool: ReplicaPool,
                 on_batch: Callable[[int], None] | None) -> None:
        super().__init__(qsl, task, None, None, failure)  # type: ignore[arg-type]
        self.pool = pool
        self.on_batch = on_batch

    def payloads(self, indices: Sequence[int]) -> list[bytes]:
        payloads = self.pool.run(list(indices))
        if len(payloads) != len(indices):
            raise RuntimeError(f"a replica returned {len(payloads)} payloads for {len(indices)} samples")
        if self.on_batch is not None:
            self.on_batch(len(indices))
        return payloads


class RayEngines:
    """The replicas as one phase's engines (common.loadgen_phase.Engines)."""

    def __init__(self, pool: ReplicaPool, task: Task) -> None:
        self.pool = pool
        self.task = task
        self.workers = IN_FLIGHT * max(1, len(pool.live))

    def serve(self, dataset: Dataset, performance_count: int, failure: Failure,
              on_batch: Callable[[int], None] | None) -> tuple[RemoteLibrary, RemoteRunner]:
        qsl = RemoteLibrary(self.pool, len(dataset), performance_count,
                            on_error=lambda exc: failure.record(exc, LOADING))
        return qsl, RemoteRunner(qsl, self.task, failure, self.pool, on_batch)
