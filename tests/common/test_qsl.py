"""The QSL's blocks: each load kept as one array, batches of consecutive rows handed out as views."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pytest

from common.benchmark import Dataset, Samples
from common.qsl import SampleLibrary


class RowsDataset(Dataset):
    """Sample i is a 2x3 float32 array filled with i, returned as rows of one array (``ragged``: int64
    vectors of different lengths, returned as a list)."""

    def __init__(self, count: int, ragged: bool = False) -> None:
        self.count, self.ragged = count, ragged
        self.returned: list[Samples] = []

    def __len__(self) -> int:
        return self.count

    def load(self, indices: Sequence[int]) -> Samples:
        if self.ragged:
            samples: Samples = [np.full(1 + i % 3, i, dtype=np.int64) for i in indices]
        else:
            samples = np.stack([np.full((2, 3), i, dtype=np.float32) for i in indices])
        self.returned.append(samples)
        return samples


def first_values(batch: Samples) -> list[int]:
    return [int(np.ravel(sample)[0]) for sample in batch]


@pytest.fixture
def library() -> Iterator[SampleLibrary]:
    qsl = SampleLibrary(RowsDataset(10), performance_count=10)
    qsl._load([7, 2, 5, 9])
    yield qsl
    qsl.destroy()


def test_batch_of_consecutive_rows_is_a_view_of_the_block(library: SampleLibrary) -> None:
    (block,) = library.dataset.returned
    batch = library.batch([2, 5, 9])  # rows 1, 2, 3 of the load [7, 2, 5, 9]
    assert isinstance(batch, np.ndarray) and batch.shape == (3, 2, 3) and batch.flags.c_contiguous
    assert np.shares_memory(batch, block) and batch.base is block
    assert first_values(batch) == [2, 5, 9]
    single = library.batch([5])  # SingleStream: one row, still a view
    assert single.shape == (1, 2, 3) and single.base is block and first_values(single) == [5]


def test_batch_of_other_rows_is_one_array_of_those_rows_in_order(library: SampleLibrary) -> None:
    (block,) = library.dataset.returned
    for indices in ([9, 2, 7], [5, 5], [7, 5]):  # out of order, repeated, a gap
        batch = library.batch(indices)
        assert isinstance(batch, np.ndarray) and batch.shape == (len(indices), 2, 3) and batch.flags.c_contiguous
        assert not np.shares_memory(batch, block)
        assert first_values(batch) == indices
    assert first_values(library.get([5, 9, 5])) == [5, 9, 5]


def test_block_order_makes_one_pass_over_the_rows_per_repeat(library: SampleLibrary) -> None:
    indices = [9, 7, 5, 2, 7, 9, 5, 2]  # each loaded sample twice, rows 3 0 2 1 0 3 2 1
    order = library.block_order(indices)
    assert order is not None and sorted(order) == list(range(len(indices)))
    ordered = [indices[i] for i in order]
    assert ordered == [7, 2, 5, 9, 7, 2, 5, 9]  # two runs of rows 0..3
    assert library.batch(ordered[:4]).base is library.dataset.returned[0]


def test_blocks_of_two_loads_do_not_join(library: SampleLibrary) -> None:
    library._load([0, 1])
    first, second = library.dataset.returned
    assert library.batch([0, 1]).base is second
    across = library.batch([9, 0])  # last row of one block, first of the next: gathered
    assert first_values(across) == [9, 0]
    assert not np.shares_memory(across, first) and not np.shares_memory(across, second)
    indices = [1, 9, 0, 7, 2, 5]
    assert [indices[i] for i in library.block_order(indices)] == [7, 2, 5, 9, 0, 1]  # load order, then rows


def test_unload_frees_each_block_with_its_last_sample(library: SampleLibrary) -> None:
    library._load([0, 1])
    library._unload([7, 2, 5])
    assert first_values(library.batch([9, 0, 1])) == [9, 0, 1]  # both blocks still hold loaded samples
    library._unload([9])
    assert len(library._blocks) == 1 and library.batch([0, 1]).base is library.dataset.returned[1]
    library._unload([0, 1])
    assert library.rows == {} and library._blocks == {}
    assert library.block_order([7]) is None


def test_a_sample_loaded_again_is_read_from_its_newer_row(library: SampleLibrary) -> None:
    library._load([9, 3])
    library._unload([7, 2, 5])
    assert len(library._blocks) == 1  # the first block's last sample (9) now lives in the second
    assert library.batch([9, 3]).base is library.dataset.returned[1]


def test_a_strided_block_is_made_contiguous_once_at_load() -> None:
    class Strided(RowsDataset):
        def load(self, indices: Sequence[int]) -> Samples:
            return np.asfortranarray(super().load(indices))  # rows of it are not contiguous

    qsl = SampleLibrary(Strided(4), performance_count=4)
    try:
        qsl._load([0, 1, 2, 3])
        batch = qsl.batch([1, 2])
        assert batch.flags.c_contiguous and batch.shape == (2, 2, 3) and first_values(batch) == [1, 2]
    finally:
        qsl.destroy()


def test_ragged_samples_are_kept_as_a_list() -> None:
    qsl = SampleLibrary(RowsDataset(6, ragged=True), performance_count=6)
    try:
        qsl._load([0, 1, 2])
        assert qsl.block_order([0, 1, 2]) is None  # LoadGen's order stays
        batch = qsl.batch([2, 0, 1])
        assert isinstance(batch, list) and [len(s) for s in batch] == [3, 1, 2]
        assert batch[0] is qsl.dataset.returned[0][2]  # the samples themselves, not copies
        qsl._unload([0, 1, 2])
        assert qsl._blocks == {}
    finally:
        qsl.destroy()


def test_a_dataset_returning_too_few_samples_is_an_error() -> None:
    class Short(RowsDataset):
        def load(self, indices: Sequence[int]) -> Samples:
            return super().load(indices)[:-1]

    qsl = SampleLibrary(Short(4), performance_count=4)
    try:
        qsl._load([0, 1, 2])
        assert "returned 2 samples for 3 indices" in str(qsl.error)
        assert qsl.rows == {}
    finally:
        qsl.destroy()
