"""The query sample library: keeps the samples LoadGen asks for in memory, preprocessed.

Samples that are arrays of one shape and dtype are kept in one contiguous block per load ("slab"), one
row per sample, so that a batch of consecutive rows is a view of the block rather than a copy
(:meth:`SampleLibrary.batch`); the Offline SUT orders its batches to be such runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import mlperf_loadgen as lg
import numpy as np

from common.benchmark import Dataset


def as_slab(samples: Sequence[Any]) -> np.ndarray | None:
    """The samples as rows of one C-contiguous array, or None when they are not arrays of one shape/dtype.

    Samples that already are consecutive rows of one contiguous array (as a dataset that preprocesses a
    whole batch returns them) are used in place; others are copied once into a new block.
    """
    if not samples or not all(isinstance(s, np.ndarray) for s in samples):
        return None
    first = samples[0]
    if any(s.shape != first.shape or s.dtype != first.dtype for s in samples):
        return None
    base = first.base  # numpy points a view at the array that owns the memory
    if isinstance(base, np.ndarray) and base.flags.c_contiguous and base.dtype == first.dtype:
        start, step = first.ctypes.data, first.nbytes
        if all(s.base is base and s.flags.c_contiguous and s.ctypes.data == start + k * step
               for k, s in enumerate(samples)):
            offset = (start - base.ctypes.data) // first.itemsize
            return base.reshape(-1)[offset:offset + len(samples) * first.size].reshape(len(samples), *first.shape)
    return np.stack(samples)


class SampleLibrary:
    """Loads and unloads samples of a Dataset on LoadGen's request (outside the timed part)."""

    def __init__(self, dataset: Dataset, performance_count: int) -> None:
        self.dataset = dataset
        self.total = len(dataset)
        self.performance_count = min(performance_count, self.total)
        self.samples: dict[int, Any] = {}
        self.rows: dict[int, tuple[int, int]] = {}  # index -> (slab number, row) for array samples
        self._slabs: dict[int, np.ndarray] = {}
        self._next_slab = 0
        self.error: BaseException | None = None  # set when loading failed (LoadGen cannot take exceptions)
        self.handle = lg.ConstructQSL(self.total, self.performance_count, self._load, self._unload)

    def _load(self, indices: list[int]) -> None:
        try:
            loaded = self.dataset.load(indices)
            if len(loaded) != len(indices):
                raise RuntimeError(f"the dataset returned {len(loaded)} samples for {len(indices)} indices")
            slab = as_slab(loaded)
            if slab is None:
                self.samples.update(zip(indices, loaded, strict=True))
                return
            number = self._next_slab
            self._next_slab += 1
            self._slabs[number] = slab
            for row, index in enumerate(indices):
                self.samples[index] = slab[row]
                self.rows[index] = (number, row)
        except BaseException as exc:  # noqa: BLE001 - reported after StartTest returns
            self.error = self.error or exc

    def _unload(self, indices: list[int]) -> None:
        for index in indices:
            self.samples.pop(index, None)
            self.rows.pop(index, None)
        if not self.rows:
            self._slabs.clear()  # the blocks go with their last sample

    def get(self, indices: Sequence[int]) -> list[Any]:
        """The loaded samples, in the given order."""
        samples = self.samples
        return [samples[i] for i in indices]

    def batch(self, indices: Sequence[int]) -> Sequence[Any]:
        """The samples for one batch: a view of a slab when they are its consecutive rows, else a list."""
        rows = self.rows
        if len(indices) > 1 and indices[0] in rows:
            number, first = rows[indices[0]]
            expected = [(number, first + k) for k in range(len(indices))]
            if [rows.get(i) for i in indices] == expected:
                return self._slabs[number][first:first + len(indices)]
        return self.get(indices)

    def slab_order(self, indices: Sequence[int]) -> list[int] | None:
        """A permutation of ``indices`` positions that makes runs of consecutive slab rows, or None.

        Each sample's k-th occurrence goes to the k-th pass over the rows, so a query that repeats
        samples (Offline) still comes out as long runs; None when some sample is not in a slab.
        """
        rows = self.rows
        try:
            keys = np.array([rows[i] for i in indices], dtype=np.int64).reshape(len(indices), 2)
        except KeyError:
            return None
        if not len(indices):
            return None
        flat = keys[:, 0] * (keys[:, 1].max() + 1) + keys[:, 1]
        by_row = np.argsort(flat, kind="stable")
        sorted_rows = flat[by_row]
        occurrence = np.arange(len(flat)) - np.searchsorted(sorted_rows, sorted_rows, side="left")
        return by_row[np.lexsort((sorted_rows, occurrence))].tolist()

    def destroy(self) -> None:
        lg.DestroyQSL(self.handle)
