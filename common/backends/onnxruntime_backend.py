"""onnxruntime: any ONNX file with the benchmark's tensor names runs here, the official ones included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from common.backends.base import Backend, require_file, require_fp32
from common.benchmark import ModelIO
from common.errors import UsageError

_PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}


def check_interface(model_file: Path, io: ModelIO, inputs: list[str], outputs: list[str]) -> None:
    """Raise a UsageError listing the expected tensors when the file lacks some of them."""
    missing = [n for n in io.inputs if n not in inputs] + [n for n in io.outputs if n not in outputs]
    if missing:
        raise UsageError(
            f"--model {model_file}: the model lacks {', '.join(missing)}; expected inputs "
            f"{list(io.inputs)} and outputs {list(io.outputs)}, the file has inputs {inputs} and "
            f"outputs {outputs}"
        )


class OnnxRuntimeBackend(Backend):
    """onnxruntime InferenceSession with explicit thread counts."""

    name = "onnxruntime"

    def load(self, model_path: Path | None, io: ModelIO) -> None:
        require_fp32(self, "use --backend openvino or pytorch for bf16")
        import onnxruntime as ort

        model_file = require_file(model_path, self.name)
        if self.device not in _PROVIDERS:
            raise UsageError(f"--device {self.device}: onnxruntime runs on cpu or cuda")
        wanted = _PROVIDERS[self.device]
        if wanted not in ort.get_available_providers():
            raise UsageError(
                f"--device {self.device}: this onnxruntime has no {wanted} "
                f"(install onnxruntime-gpu from requirements/gpu.txt)"
            )
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        providers = [wanted] if wanted == "CPUExecutionProvider" else [wanted, "CPUExecutionProvider"]
        self.session = ort.InferenceSession(str(model_file), options, providers=providers)
        if self.session.get_providers()[0] != wanted:
            raise UsageError(
                f"--device {self.device}: onnxruntime fell back to {self.session.get_providers()[0]} "
                f"({wanted} did not start; check the CUDA and cuDNN libraries)"
            )
        check_interface(
            model_file,
            io,
            [i.name for i in self.session.get_inputs()],
            [o.name for o in self.session.get_outputs()],
        )
        self.io = io
        self._outputs = list(io.outputs)

    def predict(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        return self.session.run(self._outputs, feeds)

    def describe(self) -> dict[str, Any]:
        import onnxruntime as ort

        facts = super().describe()
        facts.update(engine=f"onnxruntime {ort.__version__}", providers=self.session.get_providers())
        facts["inter_op_threads"] = 1
        return facts
