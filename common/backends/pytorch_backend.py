"""PyTorch: the benchmark's own plain-torch model, with weights read from the official files."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from common.backends.base import Backend, Result, require_file
from common.backends.engine_threads import EngineThreads
from common.backends.heap import HeapSettings, keep_freed_memory
from common.benchmark import DynamicInt8, ModelIO
from common.errors import UsageError


def _flush_denormals() -> None:
    """Random weights can drive activations into denormal floats, which are ~100x slower on CPUs; the
    flag is per thread, so every engine thread sets it."""
    import torch

    torch.set_flush_denormal(True)


class PyTorchBackend(Backend):
    """Runs ``load_module(model_path)`` under inference mode, all of it on ``workers`` engine threads.

    ``--precision int8`` runs the benchmark's dynamic int8 form of the model (``dynamic_int8``), where it
    has one: weights converted at load, activations quantized at run time, so no calibration data.
    """

    name = "pytorch"

    def __init__(self, threads: int, device: str, load_module: Callable[[Path], Any], precision: str = "fp32",
                 workers: int = 1, dynamic_int8: DynamicInt8 | None = None) -> None:
        super().__init__(threads, device, precision, workers)
        self._load_module = load_module
        self._dynamic_int8 = dynamic_int8
        self._engine = EngineThreads(workers, "torch-engine", _flush_denormals)
        self.heap: HeapSettings | None = None

    def run_on_engine(self, fn: Callable[..., Result], *args: object) -> Result:
        return self._engine.run(fn, *args)

    def load(self, model_path: Path | None, io: ModelIO) -> None:
        self._engine.run(self._load, model_path, io)

    def predict(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        return self._engine.run(self._predict, feeds)

    def _load(self, model_path: Path | None, io: ModelIO) -> None:
        import torch

        model_file = require_file(model_path, self.name)
        if self.device == "cuda" and not torch.cuda.is_available():
            raise UsageError("--device cuda: this torch build sees no CUDA device (use --device cpu)")
        if self.device not in ("cpu", "cuda"):
            raise UsageError(f"--device {self.device}: pytorch runs on cpu or cuda")
        self._autocast = self._autocast_dtype(torch)
        torch.set_num_threads(self.threads)
        with contextlib.suppress(RuntimeError):  # it may be set once per process only
            torch.set_num_interop_threads(1)
        self.heap = keep_freed_memory()
        module = self._load_module(model_file).eval()
        if self.precision == "int8":
            assert self._dynamic_int8 is not None  # _autocast_dtype refused int8 without it
            module = self._dynamic_int8.convert(module)
        self.module = module.to(self.device)
        # Reduced precision: on NCHW tensors torch reorders each convolution's input and output to and from
        # the layout oneDNN's bf16 kernels work in; channels-last tensors go in as they are (figures:
        # bench/PERFORMANCE.md, "channels-last"). fp32 stays as it is.
        self._channels_last = self._autocast is not None
        if self._channels_last:
            self.module = self.module.to(memory_format=torch.channels_last)
        self.io = io
        self._torch = torch

    def _predict(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        torch = self._torch
        assert self.io is not None
        with torch.inference_mode(), torch.autocast(self.device, self._autocast or torch.float32,
                                                    enabled=self._autocast is not None):
            args = [self._tensor(feeds[name]) for name in self.io.inputs]
            out = self.module(*args)
        if isinstance(out, torch.Tensor):
            out = (out,)
        return [(o.float() if o.is_floating_point() else o).cpu().numpy() for o in out]

    def _tensor(self, array: np.ndarray) -> Any:
        tensor = self._torch.from_numpy(np.ascontiguousarray(array)).to(self.device)
        if self._channels_last and tensor.dim() == 4:
            tensor = tensor.contiguous(memory_format=self._torch.channels_last)
        return tensor

    def _autocast_dtype(self, torch: Any) -> Any:
        """None for fp32 and dynamic int8; bf16 on CPUs that have it, fp16/bf16 on CUDA; anything else is refused."""
        if self.precision == "fp32":
            return None
        if self.precision == "int8":
            self._check_int8()
            return None
        if self.precision == "bf16" and self.device == "cpu":
            if not torch.ops.mkldnn._is_mkldnn_bf16_supported():
                raise UsageError("--precision bf16: this CPU has no bf16 support in oneDNN; use --precision fp32")
            return torch.bfloat16
        if self.precision in ("bf16", "fp16") and self.device == "cuda":
            return torch.bfloat16 if self.precision == "bf16" else torch.float16
        raise UsageError(f"--precision {self.precision}: pytorch offers fp32 and bf16 on the cpu, fp16 and bf16 on "
                         "cuda")

    def _check_int8(self) -> None:
        if self._dynamic_int8 is None:
            raise UsageError("--precision int8: this benchmark's pytorch model has no dynamic int8 form; int8 for "
                             "the image models runs on onnxruntime with a model that 'mlperf-ref calibrate' writes")
        if self.device != "cpu":
            raise UsageError(f"--precision int8: dynamic int8 runs on torch's CPU kernels; use --device cpu, not "
                             f"{self.device}")

    def describe(self) -> dict[str, Any]:
        import torch

        facts = super().describe()
        facts.update(engine=f"torch {torch.__version__}", interop_threads=torch.get_num_interop_threads(),
                     engine_threads=self.workers, heap=dataclasses.asdict(self.heap) if self.heap else None)
        if self.precision == "int8" and self._dynamic_int8 is not None:
            facts["quantization"] = self._dynamic_int8.description
        return facts
