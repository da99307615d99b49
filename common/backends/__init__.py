"""Backends behind one contract (see base.Backend) and the factory the harness uses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from common.backends.base import Backend
from common.choices import BACKENDS, PRECISIONS
from common.errors import UsageError


def make_backend(
    name: str,
    threads: int,
    device: str = "cpu",
    load_torch_model: Callable[[Path], Any] | None = None,
    precision: str = "fp32",
    workers: int = 1,
) -> Backend:
    """A backend by name; the pytorch backend needs the benchmark's model loader and runs on ``workers``
    engine threads (one per SUT worker that calls it at once)."""
    if name == "onnxruntime":
        from common.backends.onnxruntime_backend import OnnxRuntimeBackend

        return OnnxRuntimeBackend(threads, device, precision)
    if name == "pytorch":
        from common.backends.pytorch_backend import PyTorchBackend

        if load_torch_model is None:
            raise UsageError("--backend pytorch: this benchmark has no pytorch model")
        return PyTorchBackend(threads, device, load_torch_model, precision, workers)
    if name == "tensorflow":
        from common.backends.tensorflow_backend import TensorFlowBackend

        return TensorFlowBackend(threads, device, precision)
    if name == "openvino":
        from common.backends.openvino_backend import OpenVINOBackend

        return OpenVINOBackend(threads, device, precision)
    if name == "null":
        from common.backends.null_backend import NullBackend

        return NullBackend(threads, device, precision)
    raise UsageError(f"--backend {name}: unknown backend; choose one of {', '.join(BACKENDS)}")


def check_precision(precision: str) -> None:
    if precision not in PRECISIONS:
        raise UsageError(f"--precision {precision}: choose one of {', '.join(PRECISIONS)}")


__all__ = ["BACKENDS", "PRECISIONS", "Backend", "check_precision", "make_backend"]
