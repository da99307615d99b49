"""Backends behind one contract (see base.Backend) and the factory the harness uses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from common.backends.base import Backend
from common.errors import UsageError

BACKENDS = ("onnxruntime", "pytorch", "tensorflow", "null")


def make_backend(
    name: str, threads: int, device: str = "cpu", load_torch_model: Callable[[Path], Any] | None = None
) -> Backend:
    """A backend by name; the pytorch backend needs the benchmark's model loader."""
    if name == "onnxruntime":
        from common.backends.onnxruntime_backend import OnnxRuntimeBackend

        return OnnxRuntimeBackend(threads, device)
    if name == "pytorch":
        from common.backends.pytorch_backend import PyTorchBackend

        if load_torch_model is None:
            raise UsageError("--backend pytorch: this benchmark has no pytorch model")
        return PyTorchBackend(threads, device, load_torch_model)
    if name == "tensorflow":
        from common.backends.tensorflow_backend import TensorFlowBackend

        return TensorFlowBackend(threads, device)
    if name == "null":
        from common.backends.null_backend import NullBackend

        return NullBackend(threads, device)
    raise UsageError(f"--backend {name}: unknown backend; choose one of {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "Backend", "make_backend"]
