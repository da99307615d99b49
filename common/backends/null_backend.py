"""A backend that returns at once: what is left of a run's time is the harness and LoadGen."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from common.backends.base import Backend, require_fp32
from common.benchmark import ModelIO


class NullBackend(Backend):
    """Returns one float32 zero per sample of the batch, without touching the data."""

    name = "null"

    def load(self, model_path: Path | None, io: ModelIO) -> None:
        require_fp32(self, "the null backend runs no arithmetic")
        self.io = io

    def predict(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        batch = len(next(iter(feeds.values()))) if feeds else 1
        return [np.zeros(batch, dtype=np.float32)]
