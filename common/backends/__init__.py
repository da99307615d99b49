"""The backend registry: every backend by name, loaded on first use, and the factory the harness uses.

Backend names are spelled here and in each backend's class only; the harness asks a backend class what
it does (``runs_model``, ``task_family``, ``postprocess_for``) instead of comparing names.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.choices import PRECISIONS
from common.errors import UsageError

if TYPE_CHECKING:  # importing the package stays light (the command line's --help reads BACKENDS)
    from common.backends.base import Backend
    from common.benchmark import DynamicInt8

# name -> "module:class"; the engines themselves are imported only when a backend loads a model
_CLASSES = {
    "onnxruntime": "common.backends.onnxruntime_backend:OnnxRuntimeBackend",
    "pytorch": "common.backends.pytorch_backend:PyTorchBackend",
    "tensorflow": "common.backends.tensorflow_backend:TensorFlowBackend",
    "openvino": "common.backends.openvino_backend:OpenVINOBackend",
    "null": "common.backends.null_backend:NullBackend",
}
BACKENDS = tuple(_CLASSES)


def known_backend(name: str) -> str:
    """``name`` when it names a backend, else a clear error listing the known ones (nothing imported)."""
    if name not in _CLASSES:
        raise UsageError(f"--backend {name}: unknown backend; choose one of {', '.join(BACKENDS)}")
    return name


def backend_class(name: str) -> type[Backend]:
    """The class of a backend by name, or a clear error listing the known ones."""
    module, cls = _CLASSES[known_backend(name)].split(":")
    return getattr(importlib.import_module(module), cls)


def backends_for(supported: Sequence[str]) -> list[str]:
    """Every backend that can run a benchmark whose tasks are written for ``supported`` backends."""
    return [name for name in BACKENDS if backend_class(name).task_family(supported) is not None]


def make_backend(
    name: str,
    threads: int,
    device: str = "cpu",
    load_torch_model: Callable[[Path], Any] | None = None,
    precision: str = "fp32",
    workers: int = 1,
    dynamic_int8: DynamicInt8 | None = None,
) -> Backend:
    """A backend by name; the pytorch backend needs the benchmark's model loader, runs on ``workers``
    engine threads (one per SUT worker that calls it at once) and takes int8 from ``dynamic_int8``."""
    cls = backend_class(name)
    if name == "pytorch":
        if load_torch_model is None:
            raise UsageError("--backend pytorch: this benchmark has no pytorch model")
        return cls(threads, device, load_torch_model, precision, workers, dynamic_int8)
    return cls(threads, device, precision, workers)


def check_precision(precision: str) -> None:
    if precision not in PRECISIONS:
        raise UsageError(f"--precision {precision}: choose one of {', '.join(PRECISIONS)}")


__all__ = ["BACKENDS", "PRECISIONS", "backend_class", "backends_for", "check_precision", "make_backend"]
