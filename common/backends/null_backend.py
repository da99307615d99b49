"""A backend that returns at once: what is left of a run's time is the harness and LoadGen."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from common.backends.base import Backend, Postprocess, require_fp32
from common.benchmark import ModelIO, Task


def answer_as_is(outputs: Sequence[np.ndarray], indices: Sequence[int]) -> list[bytes]:
    """The null backend's payloads: its float32 per sample, as is."""
    return [value.tobytes() for value in outputs[0]]


class NullBackend(Backend):
    """Returns one float32 zero per sample of the batch, without touching the data.

    It runs with any benchmark, on the pre-processing of the benchmark's default backend.
    """

    name = "null"
    runs_model = False

    @classmethod
    def task_family(cls, supported: Sequence[str]) -> str | None:
        return supported[0] if supported else None

    def load(self, model_path: Path | None, io: ModelIO) -> None:
        require_fp32(self, "the null backend runs no arithmetic")
        self.io = io

    def predict(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        batch = len(next(iter(feeds.values()))) if feeds else 1
        return [np.zeros(batch, dtype=np.float32)]

    def postprocess_for(self, task: Task) -> Postprocess:
        return answer_as_is
