"""PyTorch: the benchmark's own plain-torch model, with weights read from the official files."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from common.backends.base import Backend, require_file
from common.benchmark import ModelIO
from common.errors import UsageError


class PyTorchBackend(Backend):
    """Runs ``load_module(model_path)`` under inference mode."""

    name = "pytorch"

    def __init__(self, threads: int, device: str, load_module: Callable[[Path], Any]) -> None:
        super().__init__(threads, device)
        self._load_module = load_module

    def load(self, model_path: Path | None, io: ModelIO) -> None:
        import torch

        model_file = require_file(model_path, self.name)
        if self.device == "cuda" and not torch.cuda.is_available():
            raise UsageError("--device cuda: this torch build sees no CUDA device (use --device cpu)")
        if self.device not in ("cpu", "cuda"):
            raise UsageError(f"--device {self.device}: pytorch runs on cpu or cuda")
        torch.set_num_threads(self.threads)
        with contextlib.suppress(RuntimeError):  # it may be set once per process only
            torch.set_num_interop_threads(1)
        # Random weights can drive activations into denormal floats, which are ~100x slower on CPUs.
        torch.set_flush_denormal(True)
        self.module = self._load_module(model_file).eval().to(self.device)
        self.io = io
        self._torch = torch

    def predict(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        torch = self._torch
        assert self.io is not None
        with torch.inference_mode():
            args = [torch.from_numpy(np.ascontiguousarray(feeds[name])).to(self.device) for name in self.io.inputs]
            out = self.module(*args)
        if isinstance(out, torch.Tensor):
            out = (out,)
        return [o.cpu().numpy() for o in out]

    def describe(self) -> dict[str, Any]:
        import torch

        facts = super().describe()
        facts.update(engine=f"torch {torch.__version__}", interop_threads=torch.get_num_interop_threads())
        return facts
