"""The query sample library: keeps the samples LoadGen asks for in memory, preprocessed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import mlperf_loadgen as lg

from common.benchmark import Dataset


class SampleLibrary:
    """Loads and unloads samples of a Dataset on LoadGen's request (outside the timed part)."""

    def __init__(self, dataset: Dataset, performance_count: int) -> None:
        self.dataset = dataset
        self.total = len(dataset)
        self.performance_count = min(performance_count, self.total)
        self.samples: dict[int, Any] = {}
        self.error: BaseException | None = None  # set when loading failed (LoadGen cannot take exceptions)
        self.handle = lg.ConstructQSL(self.total, self.performance_count, self._load, self._unload)

    def _load(self, indices: list[int]) -> None:
        try:
            self.samples.update(zip(indices, self.dataset.load(indices), strict=True))
        except BaseException as exc:  # noqa: BLE001 - reported after StartTest returns
            self.error = self.error or exc

    def _unload(self, indices: list[int]) -> None:
        for index in indices:
            self.samples.pop(index, None)

    def get(self, indices: Sequence[int]) -> list[Any]:
        """The loaded samples, in the given order."""
        samples = self.samples
        return [samples[i] for i in indices]

    def destroy(self) -> None:
        lg.DestroyQSL(self.handle)
