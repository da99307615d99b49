"""The calibration images as onnxruntime's calibrators read them: the benchmark's own samples, one at a time.

The samples come from the benchmark's Dataset (its preprocessing and cache, exactly as a run loads them)
and become feeds through its Task. They are loaded in chunks, so that the preprocessing of a chunk runs
on all cores, and handed out one sample at a time: the calibrators keep every intermediate tensor of
what they are given until they fold it into their ranges or histograms, and one SSD-ResNet34 sample's
tensors take gigabytes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from onnxruntime.quantization import CalibrationDataReader
from tqdm import tqdm

from common.benchmark import Dataset, Task
from common.progress import progress_enabled

CHUNK = 16  # samples preprocessed (or read from the cache) at once


class DatasetReader(CalibrationDataReader):
    """Feeds of one sample each, samples ``start`` to ``end`` (``set_range``) of the dataset."""

    def __init__(self, dataset: Dataset, task: Task, show_progress: bool = True) -> None:
        self.dataset = dataset
        self.task = task
        self._count = len(dataset)
        self._next, self._end = 0, self._count
        self._chunk_start = -1
        self._chunk: Any = None
        self._bar = tqdm(total=self._count, desc="calibrating", unit="image", leave=False,
                         disable=not progress_enabled(show_progress))

    def __len__(self) -> int:
        return self._count

    def set_range(self, start_index: int, end_index: int) -> None:
        """Serve samples ``start_index`` to ``end_index`` next (onnxruntime calls this per stride)."""
        self._next, self._end = start_index, min(end_index, self._count)

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self._next >= self._end:
            return None
        index = self._next
        self._next += 1
        start = index - index % CHUNK
        if start != self._chunk_start:
            self._chunk_start = start
            self._chunk = self.dataset.load(list(range(start, min(start + CHUNK, self._count))))
        sample = self._chunk[index - start]
        self._bar.update(1)
        return self.task.collate(sample[np.newaxis] if isinstance(self._chunk, np.ndarray) else [sample])

    def close(self) -> None:
        self._bar.close()
