"""Backends on one small ONNX model: agreement between engines, precision and interface errors."""

from __future__ import annotations

import platform
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from common.backends import make_backend
from common.benchmark import DynamicInt8, ModelIO
from common.errors import UsageError

IO = ModelIO(inputs=("images:0",), outputs=("logits:0",), layout="NCHW")


class SmallNet(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.fc = torch.nn.Linear(8, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.relu(self.conv(x)).mean(dim=(2, 3)))


@pytest.fixture(autouse=True)
def restore_torch_threads():
    """The pytorch backend sets torch's process-wide thread count: give later tests theirs back."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def onnx_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "small.onnx"
    torch.onnx.export(SmallNet().eval(), (torch.randn(1, 3, 16, 16),), str(path), input_names=["images:0"],
                      output_names=["logits:0"], dynamic_axes={"images:0": {0: "n"}}, dynamo=False)
    return path


@pytest.fixture(scope="module")
def batch() -> dict[str, np.ndarray]:
    return {"images:0": np.random.default_rng(1).standard_normal((4, 3, 16, 16)).astype(np.float32)}


def _predict(name: str, path: Path, feeds: dict[str, np.ndarray], precision: str = "fp32") -> np.ndarray:
    backend = make_backend(name, threads=1, precision=precision)
    backend.load(path, IO)
    assert backend.describe()["precision"] == precision
    return backend.predict(feeds)[0]


def test_openvino_agrees_with_onnxruntime_in_fp32(onnx_file: Path, batch) -> None:
    reference = _predict("onnxruntime", onnx_file, batch)
    assert reference.shape == (4, 5)
    np.testing.assert_allclose(_predict("openvino", onnx_file, batch), reference, atol=1e-4, rtol=1e-4)


def test_openvino_bf16_runs_close_to_fp32(onnx_file: Path, batch) -> None:
    import openvino as ov

    if "BF16" not in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
        with pytest.raises(UsageError, match="--precision bf16: this CPU has no BF16"):
            _predict("openvino", onnx_file, batch, "bf16")
        return
    reduced = _predict("openvino", onnx_file, batch, "bf16")
    reference = _predict("onnxruntime", onnx_file, batch)
    np.testing.assert_allclose(reduced, reference, atol=0.1)  # bf16 keeps ~3 significant digits


@pytest.mark.parametrize(("backend", "precision", "needle"), [
    ("onnxruntime", "bf16", "--precision bf16: onnxruntime runs the model file's own arithmetic on the cpu"),
    ("tensorflow", "fp16", "--precision fp16: the tensorflow backend"),
    ("null", "bf16", "--precision bf16: the null backend"),
    ("openvino", "fp8", "--precision fp8: openvino offers fp32, bf16, fp16, int8"),
    ("tensorflow", "int8", "--precision int8: the tensorflow backend .* onnxruntime or openvino for int8"),
])
def test_unsupported_precision_is_refused(onnx_file: Path, backend: str, precision: str, needle: str) -> None:
    with pytest.raises(UsageError, match=needle.replace("(", r"\(")):
        make_backend(backend, threads=1, precision=precision).load(onnx_file, IO)


def test_pytorch_refuses_fp16_on_cpu(tmp_path: Path) -> None:
    backend = make_backend("pytorch", threads=1, load_torch_model=lambda p: SmallNet(), precision="fp16")
    (tmp_path / "m.pt").write_bytes(b"")
    with pytest.raises(UsageError, match="--precision fp16: pytorch offers fp32 and bf16 on the cpu"):
        backend.load(tmp_path / "m.pt", IO)


def test_pytorch_bf16_autocast_gives_float32_outputs(tmp_path: Path, batch) -> None:
    torch.manual_seed(0)
    net = SmallNet()
    (tmp_path / "m.pt").write_bytes(b"")
    fp32 = make_backend("pytorch", threads=1, load_torch_model=lambda p: net)
    bf16 = make_backend("pytorch", threads=1, load_torch_model=lambda p: net, precision="bf16")
    fp32.load(tmp_path / "m.pt", IO)
    if not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        with pytest.raises(UsageError, match="--precision bf16: this CPU has no bf16"):
            bf16.load(tmp_path / "m.pt", IO)
        return
    bf16.load(tmp_path / "m.pt", IO)
    reduced = bf16.predict(batch)[0]
    assert reduced.dtype == np.float32
    np.testing.assert_allclose(reduced, fp32.predict(batch)[0], atol=0.1)


def test_a_file_with_another_interface_lists_what_was_expected(onnx_file: Path) -> None:
    other = ModelIO(inputs=("input_tensor:0",), outputs=("ArgMax:0",), layout="NCHW")
    for name in ("onnxruntime", "openvino"):
        with pytest.raises(UsageError, match=r"expected inputs \['input_tensor:0'\] and outputs \['ArgMax:0'\]"):
            make_backend(name, threads=1).load(onnx_file, other)


def test_missing_model_file_names_the_option(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--model .*missing.onnx: no such file"):
        make_backend("onnxruntime", threads=1).load(tmp_path / "missing.onnx", IO)


class ThreadRecordingNet(SmallNet):
    """Records the thread that loads it and every thread that runs it."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded_on = ""
        self.ran_on: set[str] = set()

    def load(self, path: Path) -> ThreadRecordingNet:
        self.loaded_on = threading.current_thread().name
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.ran_on.add(threading.current_thread().name)
        return super().forward(x)


def test_pytorch_loads_and_predicts_on_its_own_engine_thread(tmp_path: Path, batch) -> None:
    """One OpenMP team for all torch work (see common/backends/engine_threads.py), whoever calls."""
    (tmp_path / "m.pt").write_bytes(b"")
    net = ThreadRecordingNet()
    backend = make_backend("pytorch", threads=1, load_torch_model=net.load)
    backend.load(tmp_path / "m.pt", IO)
    callers = [threading.Thread(target=backend.predict, args=(batch,)) for _ in range(3)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    backend.predict(batch)
    assert net.loaded_on.startswith("torch-engine")
    assert net.ran_on == {net.loaded_on}
    facts = backend.describe()
    assert facts["engine_threads"] == 1
    if platform.libc_ver()[0] == "glibc":
        assert facts["heap"] == {"mmap_threshold": 32 * 2**20, "trim_threshold": 256 * 2**20}


def test_pytorch_int8_needs_the_benchmarks_dynamic_form(tmp_path: Path) -> None:
    (tmp_path / "m.pt").write_bytes(b"")
    backend = make_backend("pytorch", threads=1, load_torch_model=lambda p: SmallNet(), precision="int8")
    with pytest.raises(UsageError, match="--precision int8: this benchmark's pytorch model has no dynamic int8 form; "
                                         "int8 for the image models runs on onnxruntime with a model that "
                                         "'mlperf-ref calibrate' writes"):
        backend.load(tmp_path / "m.pt", IO)


class Doubled(torch.nn.Module):
    """A stand-in conversion whose effect shows in the outputs."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 2 * self.net(x)


def test_pytorch_int8_runs_the_converted_model_and_says_how(tmp_path: Path, batch) -> None:
    torch.manual_seed(0)
    net = SmallNet()
    (tmp_path / "m.pt").write_bytes(b"")
    fp32 = make_backend("pytorch", threads=1, load_torch_model=lambda p: net)
    fp32.load(tmp_path / "m.pt", IO)
    converted_on: list[str] = []

    def convert(module: torch.nn.Module) -> torch.nn.Module:
        converted_on.append(threading.current_thread().name)
        return Doubled(module)

    int8 = make_backend("pytorch", threads=1, load_torch_model=lambda p: net, precision="int8",
                        dynamic_int8=DynamicInt8(convert, "weights int8, activations at run time"))
    int8.load(tmp_path / "m.pt", IO)
    np.testing.assert_allclose(int8.predict(batch)[0], 2 * fp32.predict(batch)[0], rtol=1e-6)
    assert len(converted_on) == 1 and converted_on[0].startswith("torch-engine")
    assert int8.describe()["quantization"] == "weights int8, activations at run time"
    assert int8.describe()["precision"] == "int8"
    assert "quantization" not in fp32.describe()


class TwoOutputs(SmallNet):
    """SmallNet that also returns its pooled features, as our SSD exports return their raw heads."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = torch.relu(self.conv(x)).mean(dim=(2, 3))
        return self.fc(features), features


def test_openvino_runs_a_stream_per_worker_and_only_the_outputs_the_task_reads(tmp_path: Path, batch) -> None:
    torch.manual_seed(0)
    path = tmp_path / "two.onnx"
    torch.onnx.export(TwoOutputs().eval(), (torch.randn(1, 3, 16, 16),), str(path), input_names=["images:0"],
                      output_names=["logits:0", "features"], dynamic_axes={"images:0": {0: "n"}}, dynamo=False)
    reference = make_backend("onnxruntime", threads=1)
    reference.load(path, IO)
    expected = reference.predict(batch)[0]
    backend = make_backend("openvino", threads=1, workers=2)
    backend.load(path, IO)
    assert [output.get_any_name() for output in backend.compiled.outputs] == ["logits:0"]  # no copy of "features"
    assert int(backend.compiled.get_property("NUM_STREAMS")) == 2
    assert int(backend.compiled.get_property("INFERENCE_NUM_THREADS")) == 2
    found: list[np.ndarray] = []
    workers = [threading.Thread(target=lambda: found.append(backend.predict(batch)[0])) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(found) == 2
    for outputs in found:
        np.testing.assert_allclose(outputs, expected, atol=1e-4, rtol=1e-4)
