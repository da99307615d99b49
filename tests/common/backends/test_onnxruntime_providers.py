"""onnxruntime's execution providers: TensorRT before CUDA where present, precision and fallback refused."""

from __future__ import annotations

from pathlib import Path

import onnx
import onnxruntime as ort
import pytest

from common.backends.onnxruntime_backend import CPU, CUDA, TENSORRT, OnnxRuntimeBackend
from common.benchmark import ModelIO
from common.errors import UsageError

IO = ModelIO(inputs=("images:0",), outputs=("logits:0",), layout="NCHW")


def _providers(device: str, precision: str, available: list[str]) -> list:
    return OnnxRuntimeBackend(1, device, precision).providers(available)


def test_cpu_runs_the_files_own_arithmetic_fp32_or_int8() -> None:
    assert _providers("cpu", "fp32", [CPU]) == _providers("cpu", "int8", [CPU]) == [CPU]
    needle = r"--precision bf16: onnxruntime runs the model file's own arithmetic .*\(fp32, or int8 from 'mlperf-ref"
    with pytest.raises(UsageError, match=needle):
        _providers("cpu", "bf16", [CPU])
    with pytest.raises(UsageError, match="--precision int8: onnxruntime runs int8 files on the cpu here"):
        _providers("cuda", "int8", [CUDA, CPU])


def test_cuda_without_the_cuda_provider_names_the_requirement_file() -> None:
    with pytest.raises(UsageError, match="--device cuda: this onnxruntime has no CUDAExecutionProvider .*gpu.txt"):
        _providers("cuda", "fp32", [CPU])


def test_cuda_without_tensorrt_runs_cuda_in_fp32_and_points_fp16_elsewhere() -> None:
    assert _providers("cuda", "fp32", [CUDA, CPU]) == [CUDA, CPU]
    with pytest.raises(UsageError, match="--precision fp16: .*TensorrtExecutionProvider.*--backend pytorch"):
        _providers("cuda", "fp16", [CUDA, CPU])


@pytest.mark.parametrize("precision", ["fp32", "fp16"])
def test_tensorrt_comes_first_with_fp16_on_request_and_cached_engines(precision: str, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLPERF_REF_CACHE", str(tmp_path))
    first, *rest = _providers("cuda", precision, [TENSORRT, CUDA, CPU])
    assert rest == [CUDA, CPU]
    assert first == (TENSORRT, {"trt_fp16_enable": precision == "fp16", "trt_engine_cache_enable": True,
                                "trt_engine_cache_path": str(tmp_path / "tensorrt")})
    with pytest.raises(UsageError, match="--precision bf16: onnxruntime's TensorRT provider runs fp32 or fp16"):
        _providers("cuda", "bf16", [TENSORRT, CUDA, CPU])


def test_a_session_that_falls_back_to_the_cpu_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """onnxruntime quietly drops a provider whose libraries fail to load; the run must not go on on the CPU."""

    class FallenBack:
        def __init__(self, path: str, options: ort.SessionOptions, providers: list) -> None:
            self.asked = providers

        def get_providers(self) -> list[str]:
            return [CPU]

    monkeypatch.setattr(ort, "get_available_providers", lambda: [CUDA, CPU])
    monkeypatch.setattr(ort, "InferenceSession", FallenBack)
    graph = onnx.helper.make_graph([], "empty", [], [])  # a whole file (checked before the session is made)
    onnx.save(onnx.helper.make_model(graph), tmp_path / "m.onnx")
    with pytest.raises(UsageError, match="--device cuda: onnxruntime fell back to CPUExecutionProvider "
                                         r"\(CUDAExecutionProvider did not start"):
        OnnxRuntimeBackend(1, "cuda").load(tmp_path / "m.onnx", IO)
