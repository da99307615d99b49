"""onnxruntime: any ONNX file with the benchmark's tensor names runs here, the official ones included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from common.backends.base import Backend, require_file
from common.benchmark import ModelIO
from common.cache import default_cache_dir
from common.calibration_record import CalibrationRecord
from common.errors import UsageError
from common.model_files import check_onnx

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
TENSORRT = "TensorrtExecutionProvider"
Provider = str | tuple[str, dict[str, Any]]


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
    runs_calibrated_onnx = True

    def load(self, model_path: Path | None, io: ModelIO) -> None:
        import onnxruntime as ort

        model_file = require_file(model_path, self.name)
        check_onnx(model_file)  # empty, truncated or foreign files named before onnxruntime parses them
        providers = self.providers(ort.get_available_providers())
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self.session = ort.InferenceSession(str(model_file), options, providers=providers)
        except (ort.capi.onnxruntime_pybind11_state.Fail, ort.capi.onnxruntime_pybind11_state.InvalidGraph,
                ort.capi.onnxruntime_pybind11_state.InvalidProtobuf,
                ort.capi.onnxruntime_pybind11_state.NotImplemented) as exc:  # a whole file ORT cannot run
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UsageError(f"--model {model_file}: onnxruntime cannot load it ({first})") from exc
        wanted = _name(providers[0])
        if self.session.get_providers()[0] != wanted:
            raise UsageError(
                f"--device {self.device}: onnxruntime fell back to {self.session.get_providers()[0]} "
                f"({wanted} did not start; check the CUDA, cuDNN and TensorRT libraries)"
            )
        check_interface(
            model_file,
            io,
            [i.name for i in self.session.get_inputs()],
            [o.name for o in self.session.get_outputs()],
        )
        self.calibration = CalibrationRecord.from_metadata(self.session.get_modelmeta().custom_metadata_map)
        self.io = io
        self._outputs = list(io.outputs)

    def predict(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        return self.session.run(self._outputs, feeds)

    def providers(self, available: list[str]) -> list[Provider]:
        """The execution providers to ask for, best first: on cuda TensorRT where this onnxruntime has it
        (fp16 there with --precision fp16), else CUDA; anything the device or provider cannot do is refused."""
        if self.device == "cpu":
            if self.precision != "int8":  # int8: the QDQ file from 'mlperf-ref calibrate', run as it is
                self._refuse_precision("onnxruntime runs the model file's own arithmetic on the cpu (fp32, or "
                                       "int8 from 'mlperf-ref calibrate'); use --backend openvino or pytorch for bf16")
            return [CPU]
        if self.device != "cuda":
            raise UsageError(f"--device {self.device}: onnxruntime runs on cpu or cuda")
        if self.precision == "int8":
            raise UsageError("--precision int8: onnxruntime runs int8 files on the cpu here; use --device cpu")
        if CUDA not in available:
            raise UsageError(f"--device cuda: this onnxruntime has no {CUDA} (install onnxruntime-gpu from "
                             "requirements/gpu.txt)")
        if TENSORRT not in available:
            self._refuse_precision(f"onnxruntime has fp16 on cuda only through {TENSORRT}, which this "
                                   "onnxruntime lacks; use --backend pytorch --device cuda --precision fp16")
            return [CUDA, CPU]
        if self.precision not in ("fp32", "fp16"):
            self._refuse_precision("onnxruntime's TensorRT provider runs fp32 or fp16")
        engines = default_cache_dir() / "tensorrt"  # TensorRT builds an engine per model and shape once
        tensorrt = {"trt_fp16_enable": self.precision == "fp16", "trt_engine_cache_enable": True,
                    "trt_engine_cache_path": str(engines)}
        return [(TENSORRT, tensorrt), CUDA, CPU]

    def _refuse_precision(self, why: str) -> None:
        if self.precision != "fp32":
            raise UsageError(f"--precision {self.precision}: {why}")

    def describe(self) -> dict[str, Any]:
        import onnxruntime as ort

        facts = super().describe()
        facts.update(engine=f"onnxruntime {ort.__version__}", providers=self.session.get_providers())
        facts["inter_op_threads"] = 1
        return facts


def _name(provider: Provider) -> str:
    return provider if isinstance(provider, str) else provider[0]
