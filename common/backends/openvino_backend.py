"""OpenVINO: the same ONNX files as onnxruntime (and frozen TF graphs where it reads them), on the CPU."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from common.backends.base import Backend, require_file
from common.backends.onnxruntime_backend import check_interface
from common.benchmark import ModelIO
from common.calibration_record import read_record
from common.errors import UsageError
from common.model_files import check_onnx

# --precision -> OpenVINO's INFERENCE_PRECISION_HINT and the CPU capability it needs. int8: the QDQ file from
# 'mlperf-ref calibrate' runs its quantized convolutions in int8 and everything else in f32 (the hint keeps
# bf16-capable CPUs from running the rest in bf16)
_PRECISION_HINTS = {"fp32": ("f32", "FP32"), "bf16": ("bf16", "BF16"), "fp16": ("f16", "FP16"),
                    "int8": ("f32", "INT8")}


class OpenVINOBackend(Backend):
    """An OpenVINO compiled model with one stream per SUT worker, each of ``threads`` threads; it computes
    only the outputs the task reads (an SSD export's raw head outputs are not copied out per batch)."""

    name = "openvino"
    runs_files_of = "onnxruntime"
    runs_calibrated_onnx = True

    def load(self, model_path: Path | None, io: ModelIO) -> None:
        import openvino as ov

        model_file = require_file(model_path, self.name)
        if model_file.suffix == ".onnx":  # the same words as onnxruntime for an empty, cut or foreign file
            check_onnx(model_file)
        if self.device != "cpu":
            raise UsageError(f"--device {self.device}: the openvino backend runs on the cpu here")
        core = ov.Core()
        capabilities = core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
        if self.precision not in _PRECISION_HINTS:
            raise UsageError(f"--precision {self.precision}: openvino offers {', '.join(_PRECISION_HINTS)}")
        hint, needed = _PRECISION_HINTS[self.precision]
        if needed not in capabilities:
            raise UsageError(f"--precision {self.precision}: this CPU has no {needed} support "
                             f"(it offers {', '.join(capabilities)}); use --precision fp32")
        try:
            model = core.read_model(str(model_file))
        except RuntimeError as exc:
            raise UsageError(f"--model {model_file}: OpenVINO cannot read it ({str(exc).splitlines()[0]})") from exc
        inputs = [name for port in model.inputs for name in port.get_names()]
        outputs = [name for port in model.outputs for name in port.get_names()]
        check_interface(model_file, io, inputs, outputs)
        for result in list(model.get_results()):
            if not set(result.output(0).get_names()) & set(io.outputs):
                model.remove_result(result)
        config = {"INFERENCE_NUM_THREADS": self.threads * self.workers, "PERFORMANCE_HINT": "LATENCY",
                  "INFERENCE_PRECISION_HINT": hint, "NUM_STREAMS": self.workers}
        self.calibration = read_record(model_file) if model_file.suffix == ".onnx" else None
        self.compiled = core.compile_model(model, "CPU", config)
        self._outputs = [self.compiled.output(name) for name in io.outputs]
        self.io = io
        self._version = ov.__version__
        self._local = threading.local()

    def predict(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        request = getattr(self._local, "request", None)
        if request is None:  # one infer request per SUT worker thread
            request = self._local.request = self.compiled.create_infer_request()
        results = request.infer(feeds)
        return [results[port] for port in self._outputs]

    def describe(self) -> dict[str, Any]:
        facts = super().describe()
        facts.update(engine=f"openvino {self._version}",
                     inference_precision=str(self.compiled.get_property("INFERENCE_PRECISION_HINT")))
        return facts
