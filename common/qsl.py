"""The query sample library: keeps the samples LoadGen asks for in memory, preprocessed.

Each load's samples stay as the dataset returned them, one block per load: for array samples one
array with a row per sample. A batch of consecutive rows of one block is a view of it, any other batch
of array samples one gathered array (:meth:`SampleLibrary.batch`); the Offline and MultiStream SUTs
order their batches to be such runs (:meth:`SampleLibrary.block_order`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import mlperf_loadgen as lg
import numpy as np

from common.benchmark import Dataset, Samples, Task


class SampleStore:
    """The loaded samples of a Dataset, one block per load (no LoadGen handle: a Ray replica holds one)."""

    def __init__(self, dataset: Dataset, on_error: Callable[[BaseException], None] | None = None) -> None:
        self.dataset = dataset
        self.total = len(dataset)
        # Blocks are keyed by their first row's place in the order of all rows loaded so far, so that
        # key + row orders every loaded sample (block_order) and rows of one block are never mixed up.
        self.rows: dict[int, tuple[int, int]] = {}  # qsl index -> (block key, row)
        self._blocks: dict[int, Samples] = {}
        self._live: dict[int, int] = {}  # block key -> how many of its samples are still loaded
        self._next_key = 0
        self.error: BaseException | None = None  # set when loading failed (LoadGen cannot take exceptions)
        self._on_error = on_error  # told at once, so the run can end with the real cause

    def load(self, indices: Sequence[int]) -> None:
        """Load ``indices`` as one block (errors are kept in ``error`` and told to ``on_error``)."""
        self._load(list(indices))

    def unload(self, indices: Sequence[int]) -> None:
        self._unload(list(indices))

    def _load(self, indices: list[int]) -> None:
        if not indices:
            return
        try:
            block = self.dataset.load(indices)
            if len(block) != len(indices):
                raise RuntimeError(f"the dataset returned {len(block)} samples for {len(indices)} indices")
            if isinstance(block, np.ndarray):
                block = np.ascontiguousarray(block)  # views of its rows are then contiguous batches
            key = self._next_key
            self._next_key += len(indices)
            self._blocks[key] = block
            self._live[key] = len(indices)
            for row, index in enumerate(indices):
                self._release(index)  # loaded again: the newer row counts
                self.rows[index] = (key, row)
        except BaseException as exc:  # noqa: BLE001 - reported after StartTest returns
            self.error = self.error or exc
            if self._on_error is not None:
                self._on_error(exc)

    def _unload(self, indices: list[int]) -> None:
        for index in indices:
            self._release(index)

    def _release(self, index: int) -> None:
        """Forget one sample; its block goes with its last loaded sample."""
        place = self.rows.pop(index, None)
        if place is None:
            return
        key = place[0]
        self._live[key] -= 1
        if not self._live[key]:
            del self._live[key], self._blocks[key]

    def get(self, indices: Sequence[int]) -> list[Any]:
        """The loaded samples one by one, in the given order (rows of their blocks)."""
        blocks, rows = self._blocks, self.rows
        return [blocks[key][row] for key, row in map(rows.__getitem__, indices)]

    def batch(self, indices: Sequence[int]) -> Samples:
        """The samples of one batch, batch first.

        Array samples: a view of their block when they are its consecutive rows (in that order), else one
        array gathered from the blocks (one copy). Other samples (e.g. sentences): a list.
        """
        rows = self.rows
        key, first = rows[indices[0]]
        block = self._blocks[key]
        if not isinstance(block, np.ndarray):
            return self.get(indices)
        count = len(indices)
        if count == 1:  # SingleStream: skip the checks below
            return block[first:first + 1]
        places = list(map(rows.__getitem__, indices))
        if places == list(zip(itertools.repeat(key, count), range(first, first + count), strict=True)):
            return block[first:first + count]
        if all(place[0] == key for place in places):
            return block.take([row for _, row in places], axis=0)
        blocks = self._blocks
        return np.stack([blocks[k][row] for k, row in places])

    def batch_order(self, indices: Sequence[int], task: Task) -> list[int] | None:
        """How to order a query's samples before it is cut into batches: grouped by the task's sort key
        (e.g. sentence lengths) where it has one, else runs of consecutive rows; None keeps the order."""
        if type(task).sort_key is not Task.sort_key:
            keys = [task.sort_key(s) for s in self.get(indices)]
            if all(k is not None for k in keys):
                return sorted(range(len(indices)), key=keys.__getitem__)
        return self.block_order(indices)

    def block_order(self, indices: Sequence[int]) -> list[int] | None:
        """A permutation of ``indices`` positions that makes runs of consecutive block rows, or None.

        Each sample's k-th occurrence goes to the k-th pass over the rows, so a query that repeats
        samples (Offline) still comes out as long runs; None when some sample is not an array row.
        """
        if not indices:
            return None
        try:
            places = [self.rows[i] for i in indices]
        except KeyError:
            return None
        if not all(isinstance(self._blocks[key], np.ndarray) for key in {key for key, _ in places}):
            return None
        return row_order([key + row for key, row in places])


class SampleLibrary(SampleStore):
    """Loads and unloads samples of a Dataset on LoadGen's request (outside the timed part)."""

    def __init__(self, dataset: Dataset, performance_count: int,
                 on_error: Callable[[BaseException], None] | None = None) -> None:
        super().__init__(dataset, on_error)
        self.performance_count = min(performance_count, self.total)
        self.handle = lg.ConstructQSL(self.total, self.performance_count, self._load, self._unload)

    def destroy(self) -> None:
        lg.DestroyQSL(self.handle)


def row_order(positions: Sequence[int]) -> list[int]:
    """The permutation of ``positions`` (each sample's place among all rows loaded) that makes runs of
    consecutive rows: each sample's k-th occurrence goes to the k-th pass over the rows."""
    flat = np.asarray(positions, dtype=np.int64)
    by_row = np.argsort(flat, kind="stable")
    sorted_rows = flat[by_row]
    occurrence = np.arange(len(flat)) - np.searchsorted(sorted_rows, sorted_rows, side="left")
    return by_row[np.lexsort((sorted_rows, occurrence))].tolist()
