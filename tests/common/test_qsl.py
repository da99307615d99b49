"""The QSL's slabs: samples kept as rows of one block, batches of consecutive rows handed out as views."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from common.benchmark import Dataset
from common.qsl import SampleLibrary, as_slab


class RowsDataset(Dataset):
    """Sample i is a 2x3 float32 array filled with i; ``as_views`` returns rows of one batch array."""

    def __init__(self, count: int, as_views: bool = True, ragged: bool = False) -> None:
        self.count, self.as_views, self.ragged = count, as_views, ragged

    def __len__(self) -> int:
        return self.count

    def load(self, indices: Sequence[int]) -> list[np.ndarray]:
        if self.ragged:
            return [np.full(1 + i % 3, i, dtype=np.int64) for i in indices]
        batch = np.stack([np.full((2, 3), i, dtype=np.float32) for i in indices])
        return list(batch) if self.as_views else [row.copy() for row in batch]


def test_as_slab_uses_rows_of_one_contiguous_array_in_place() -> None:
    batch = np.arange(36, dtype=np.float32).reshape(6, 2, 3)
    slab = as_slab(list(batch[1:5]))  # rows 1..4 of a reshaped array (their base is the 1-D arange)
    assert slab is not None and slab.shape == (4, 2, 3) and np.shares_memory(slab, batch)
    np.testing.assert_array_equal(slab, batch[1:5])


def test_as_slab_copies_separate_arrays_and_refuses_mixed_samples() -> None:
    samples = [np.full((2, 3), i, dtype=np.float32) for i in range(3)]
    slab = as_slab(samples)
    assert slab is not None and slab.shape == (3, 2, 3) and slab.flags.c_contiguous
    np.testing.assert_array_equal(slab[2], samples[2])
    assert as_slab([np.zeros(2), np.zeros(3)]) is None  # shapes differ (e.g. sentences)
    assert as_slab([np.zeros(2, np.float32), np.zeros(2, np.float64)]) is None
    assert as_slab(["text", "more"]) is None
    assert as_slab([]) is None
    reversed_rows = list(np.arange(12.0).reshape(2, 2, 3))[::-1]  # rows of one array, but out of order
    assert not np.shares_memory(as_slab(reversed_rows), reversed_rows[0])


@pytest.fixture
def library() -> SampleLibrary:
    qsl = SampleLibrary(RowsDataset(10), performance_count=10)
    qsl._load([7, 2, 5, 9])
    yield qsl
    qsl.destroy()


def test_batch_of_consecutive_rows_is_a_view_of_the_slab(library: SampleLibrary) -> None:
    batch = library.batch([2, 5, 9])  # rows 1, 2, 3 of the load [7, 2, 5, 9]
    assert isinstance(batch, np.ndarray) and batch.shape == (3, 2, 3)
    assert np.shares_memory(batch, library.samples[2]) and np.shares_memory(batch, library.samples[9])
    np.testing.assert_array_equal(batch[:, 0, 0], [2, 5, 9])


def test_batch_of_other_rows_is_the_samples_in_order(library: SampleLibrary) -> None:
    batch = library.batch([9, 2, 7])
    assert isinstance(batch, list)
    assert [int(s[0, 0]) for s in batch] == [9, 2, 7]
    assert [int(s[0, 0]) for s in library.get([5, 5])] == [5, 5]


def test_slab_order_makes_one_pass_over_the_rows_per_repeat(library: SampleLibrary) -> None:
    indices = [9, 7, 5, 2, 7, 9, 5, 2]  # each loaded sample twice, rows 3 0 2 1 0 3 2 1
    order = library.slab_order(indices)
    assert sorted(order) == list(range(len(indices)))
    assert [indices[i] for i in order] == [7, 2, 5, 9, 7, 2, 5, 9]  # two runs of rows 0..3
    assert isinstance(library.batch([indices[i] for i in order][:4]), np.ndarray)


def test_slabs_of_two_loads_do_not_join(library: SampleLibrary) -> None:
    library._load([0, 1])
    assert isinstance(library.batch([0, 1]), np.ndarray)
    assert isinstance(library.batch([9, 0]), list)  # last row of one slab, first of the next


def test_unload_forgets_rows_and_samples(library: SampleLibrary) -> None:
    library._unload([7, 2, 5, 9])
    assert library.samples == {} and library.rows == {}
    assert library.slab_order([7]) is None


def test_ragged_samples_are_kept_as_they_are() -> None:
    qsl = SampleLibrary(RowsDataset(6, ragged=True), performance_count=6)
    try:
        qsl._load([0, 1, 2])
        assert qsl.rows == {}
        assert qsl.slab_order([0, 1, 2]) is None
        assert [len(s) for s in qsl.batch([0, 1, 2])] == [1, 2, 3]
    finally:
        qsl.destroy()


def test_a_dataset_returning_too_few_samples_is_an_error() -> None:
    class Short(RowsDataset):
        def load(self, indices: Sequence[int]) -> list[np.ndarray]:
            return super().load(indices)[:-1]

    qsl = SampleLibrary(Short(4), performance_count=4)
    try:
        qsl._load([0, 1, 2])
        assert "returned 2 samples for 3 indices" in str(qsl.error)
    finally:
        qsl.destroy()
