"""MobileNet exports: the official interface, and torch, onnxruntime and tensorflow agreeing on the weights."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto

from common.backends import make_backend
from common.benchmark import DatasetOptions, ModelIO
from common.errors import UsageError
from vision.mobilenet.benchmark import PREDICTIONS, MobileNetBenchmark


def dims(value_info) -> list:
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def images(bench: MobileNetBenchmark, samples: Path, layout: str, cache: Path) -> np.ndarray:
    options = DatasetOptions("onnxruntime", layout, cache, workers=1, count=3, progress=False)
    return np.stack(bench.open_dataset(samples, options).load([0, 1, 2]))


def test_onnx_interface_is_the_official_one(onnx_file: Path) -> None:
    graph = onnx.load(str(onnx_file)).graph
    assert [(i.name, i.type.tensor_type.elem_type, dims(i)) for i in graph.input] == [
        ("input:0", TensorProto.FLOAT, ["N", 3, 224, 224])]
    assert [(o.name, o.type.tensor_type.elem_type, dims(o)) for o in graph.output] == [
        ("MobilenetV1/Predictions/Reshape_1:0", TensorProto.FLOAT, ["N", 1001])]
    assert all(init.data_location == TensorProto.DEFAULT for init in graph.initializer)  # self-contained
    assert sorted(p.name for p in onnx_file.parent.iterdir()) == ["mobilenet_v1_1.0_224.onnx"]


def test_tf_graph_interface_is_the_official_one(pb_file: Path) -> None:
    from vision.classification.tf_ops import import_tensorflow

    tf = import_tensorflow()
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(pb_file.read_bytes())
    nodes = {node.name: node for node in graph_def.node}
    assert nodes["input"].op == "Placeholder"
    assert [d.size for d in nodes["input"].attr["shape"].shape.dim] == [-1, 224, 224, 3]  # NHWC
    assert nodes["MobilenetV1/Predictions/Softmax"].op == "Softmax"
    assert nodes["MobilenetV1/Predictions/Reshape_1"].op == "Reshape"
    assert sum(node.op == "DepthwiseConv2dNative" for node in graph_def.node) == 13


def test_torch_onnxruntime_and_tensorflow_agree(bench, samples, onnx_file, pb_file, source_model, tmp_path):
    nchw = images(bench, samples, "NCHW", tmp_path)
    nhwc = images(bench, samples, "NHWC", tmp_path)
    outputs = {}
    for backend, model, batch in (("onnxruntime", onnx_file, nchw), ("tensorflow", pb_file, nhwc),
                                  ("pytorch", onnx_file, nchw)):
        engine = make_backend(backend, 2, "cpu", bench.load_torch_model)
        engine.load(model, bench.model_io(backend))
        outputs[backend] = engine.predict({"input:0": batch})[0]
    with torch.no_grad():
        expected = torch.softmax(source_model(torch.from_numpy(nchw)), 1).numpy()
    for backend, probabilities in outputs.items():
        assert probabilities.shape == (3, 1001), backend
        np.testing.assert_allclose(probabilities, expected, atol=1e-6, err_msg=backend)
        assert probabilities.argmax(1).tolist() == expected.argmax(1).tolist(), backend
    assert np.isfinite(expected).all() and np.allclose(expected.sum(1), 1, atol=1e-5)


def test_tf_same_padding_matters_for_these_weights(bench, samples, source_model, tmp_path) -> None:
    """With PyTorch's symmetric padding on the stride-2 convolutions the outputs would differ."""
    nchw = torch.from_numpy(images(bench, samples, "NCHW", tmp_path))
    symmetric = bench.build_model()
    symmetric.load_state_dict(source_model.state_dict())
    for module in symmetric.modules():
        if isinstance(module, torch.nn.Conv2d) and module.kernel_size == (3, 3):
            module.forward = lambda x, m=module: torch.nn.functional.conv2d(
                x, m.weight, m.bias, m.stride, 1, 1, m.groups)
    with torch.no_grad():
        ours, other = source_model(nchw), symmetric.eval()(nchw)
    assert (ours - other).abs().max() > 1e-2 * ours.abs().max()


def test_dynamic_batch(onnx_file: Path) -> None:
    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    for batch in (1, 4):
        (probabilities,) = session.run(None, {"input:0": np.zeros((batch, 3, 224, 224), np.float32)})
        assert probabilities.shape == (batch, 1001)


def test_weights_round_trip_through_a_scrambled_onnx_file(bench, onnx_file, source_model, tmp_path) -> None:
    model = onnx.load(str(onnx_file))
    names = {init.name: f"t{index}" for index, init in enumerate(reversed(model.graph.initializer))}
    for init in model.graph.initializer:
        init.name = names[init.name]
    for node in model.graph.node:
        node.input[:] = [names.get(name, name) for name in node.input]
        node.name = ""
    onnx.save(model, str(tmp_path / "scrambled.onnx"))
    loaded = bench.load_torch_model(tmp_path / "scrambled.onnx")
    x = torch.from_numpy(np.random.default_rng(0).uniform(-1, 1, (2, 3, 224, 224)).astype(np.float32))
    with torch.no_grad():
        torch.testing.assert_close(loaded(x)[0], torch.softmax(source_model(x), 1), rtol=1e-6, atol=1e-7)


def test_a_file_of_another_model_is_refused(bench, onnx_file: Path, tmp_path: Path) -> None:
    model = onnx.load(str(onnx_file))
    first = next(n for n in model.graph.node if n.op_type == "Conv")
    for attr in first.attribute:
        if attr.name == "strides":
            attr.ints[:] = [1, 1]
    onnx.save(model, str(tmp_path / "stride1.onnx"))
    with pytest.raises(UsageError, match=r"weight layer 0 .*stride \(1, 1\)\) does not match MobileNet-v1's"):
        bench.load_torch_model(tmp_path / "stride1.onnx")
    shutil.copy(onnx_file, tmp_path / "model.pb")
    with pytest.raises(UsageError, match=r"reads a .onnx file .* or a .pt/.pth state dict"):
        bench.load_torch_model(tmp_path / "model.pb")


def test_state_dict_files_load(bench, source_model, tmp_path: Path) -> None:
    torch.save(source_model.state_dict(), tmp_path / "weights.pt")
    loaded = bench.load_torch_model(tmp_path / "weights.pt")
    x = torch.zeros(1, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x)[0], torch.softmax(source_model(x), 1))
    torch.save({"stem.0.weight": torch.zeros(1)}, tmp_path / "bad.pt")
    with pytest.raises(UsageError, match=r"bad.pt: not a state dict of this model"):
        bench.load_torch_model(tmp_path / "bad.pt")


def test_prediction_output_name() -> None:
    assert PREDICTIONS == "MobilenetV1/Predictions/Reshape_1:0"
    assert MobileNetBenchmark().model_io("tensorflow") == ModelIO(("input:0",), (PREDICTIONS,), "NHWC")
