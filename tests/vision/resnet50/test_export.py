"""ResNet50 exports: the official interface, and torch, onnxruntime and tensorflow agreeing on the weights."""

from __future__ import annotations

import io
import shutil
import warnings
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
from vision.resnet50.benchmark import ResNet50Benchmark


def dims(value_info) -> list:
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def images(bench: ResNet50Benchmark, samples: Path, layout: str, cache: Path) -> np.ndarray:
    options = DatasetOptions("onnxruntime", layout, cache, workers=1, count=3, progress=False)
    return np.stack(bench.open_dataset(samples, options).load([0, 1, 2]))


def test_onnx_interface_is_the_official_one(onnx_file: Path) -> None:
    graph = onnx.load(str(onnx_file)).graph
    assert [(i.name, i.type.tensor_type.elem_type, dims(i)) for i in graph.input] == [
        ("input_tensor:0", TensorProto.FLOAT, ["N", 3, 224, 224])]
    assert [(o.name, o.type.tensor_type.elem_type, dims(o)) for o in graph.output] == [
        ("ArgMax:0", TensorProto.INT64, ["N"]), ("softmax_tensor:0", TensorProto.FLOAT, ["N", 1001])]
    assert sum(node.op_type == "BatchNormalization" for node in graph.node) == 53
    assert all(init.data_location == TensorProto.DEFAULT for init in graph.initializer)  # self-contained
    assert sorted(p.name for p in onnx_file.parent.iterdir()) == ["resnet50_v1.onnx"]


def test_tf_graph_interface_is_the_official_one(pb_file: Path) -> None:
    from vision.classification.tf_ops import import_tensorflow

    tf = import_tensorflow()
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(pb_file.read_bytes())
    nodes = {node.name: node for node in graph_def.node}
    placeholder = nodes["input_tensor"]
    assert placeholder.op == "Placeholder"
    assert [d.size for d in placeholder.attr["shape"].shape.dim] == [-1, 224, 224, 3]  # NHWC
    assert nodes["ArgMax"].op == "ArgMax" and nodes["ArgMax"].attr["output_type"].type == tf.int64
    assert nodes["softmax_tensor"].op == "Softmax"
    assert not any(node.op.startswith("Variable") for node in graph_def.node)  # frozen


def test_torch_onnxruntime_and_tensorflow_agree(bench, samples, onnx_file, pb_file, source_model, tmp_path):
    nchw = images(bench, samples, "NCHW", tmp_path)
    nhwc = images(bench, samples, "NHWC", tmp_path)
    full = tuple(bench.export_outputs)
    results = {}
    for backend, model, batch in (("onnxruntime", onnx_file, nchw), ("tensorflow", pb_file, nhwc)):
        engine = make_backend(backend, 2)
        engine.load(model, ModelIO(("input_tensor:0",), full, "NCHW" if backend == "onnxruntime" else "NHWC"))
        results[backend] = engine.predict({"input_tensor:0": batch})
    torch_engine = make_backend("pytorch", 2, "cpu", bench.load_torch_model)
    torch_engine.load(onnx_file, bench.model_io("pytorch"))
    torch_argmax = torch_engine.predict({"input_tensor:0": nchw})[0]
    with torch.no_grad():
        source_softmax = torch.softmax(source_model(torch.from_numpy(nchw)), 1).numpy()

    ort_argmax, ort_softmax = results["onnxruntime"]
    tf_argmax, tf_softmax = results["tensorflow"]
    assert ort_argmax.dtype == tf_argmax.dtype == torch_argmax.dtype == np.int64
    assert ort_argmax.tolist() == tf_argmax.tolist() == torch_argmax.tolist() == source_softmax.argmax(1).tolist()
    np.testing.assert_allclose(ort_softmax, source_softmax, atol=2e-5)
    np.testing.assert_allclose(tf_softmax, source_softmax, atol=2e-5)
    # Random weights, yet a sane range: finite, neither flat nor saturated.
    assert np.isfinite(ort_softmax).all() and ort_softmax.max(1).min() > 0.01 and ort_softmax.max(1).max() < 1


def test_dynamic_batch(onnx_file: Path) -> None:
    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    for batch in (1, 3):
        argmax, softmax = session.run(None, {"input_tensor:0": np.zeros((batch, 3, 224, 224), np.float32)})
        assert argmax.shape == (batch,) and softmax.shape == (batch, 1001)


def scramble(source: Path, target: Path) -> None:
    """Rename every initializer and node, and move layer1.0's projection after its 3x3 convolution."""
    model = onnx.load(str(source))
    graph = model.graph
    names = {init.name: f"w{index}" for index, init in enumerate(reversed(graph.initializer))}
    for init in graph.initializer:
        init.name = names[init.name]
    nodes = list(graph.node)
    moved = [n for n in nodes if n.name.startswith("/model/layer1/layer1.0/downsample/")]
    assert [n.op_type for n in moved] == ["Conv", "BatchNormalization"]
    rest = [n for n in nodes if n not in moved]
    at = next(i for i, n in enumerate(rest) if n.name == "/model/layer1/layer1.0/conv3/Conv")
    reordered = rest[:at + 1] + moved + rest[at + 1:]
    for node in reordered:
        node.input[:] = [names.get(name, name) for name in node.input]
        node.name = ""
    del graph.node[:]
    graph.node.extend(reordered)
    onnx.checker.check_model(model)
    onnx.save(model, str(target))


def test_weights_round_trip_through_a_scrambled_onnx_file(bench, onnx_file, source_model, tmp_path) -> None:
    scrambled = tmp_path / "scrambled.onnx"
    scramble(onnx_file, scrambled)
    loaded = bench.load_torch_model(scrambled).model
    source = source_model
    x = torch.from_numpy(np.random.default_rng(0).normal(0, 50, (2, 3, 224, 224)).astype(np.float32))
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), source(x), rtol=1e-6, atol=1e-5)


def test_weights_from_a_file_with_batch_norm_folded_into_the_convolutions(bench, source_model, tmp_path) -> None:
    folded = tmp_path / "folded.onnx"
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(source_model, (torch.zeros(1, 3, 224, 224),), buffer, dynamo=False, opset_version=13,
                          input_names=["input_tensor:0"], training=torch.onnx.TrainingMode.EVAL)
    folded.write_bytes(buffer.getvalue())
    graph = onnx.load(str(folded)).graph
    assert not any(n.op_type == "BatchNormalization" for n in graph.node)
    assert sum(n.op_type == "Conv" and len(n.input) == 3 for n in graph.node) == 53  # bias = folded BN
    loaded = bench.load_torch_model(folded).model
    x = torch.from_numpy(np.random.default_rng(1).normal(0, 50, (2, 3, 224, 224)).astype(np.float32))
    with torch.no_grad():
        expected = source_model(x)
        torch.testing.assert_close(loaded(x), expected, rtol=1e-4, atol=1e-3 * expected.abs().max().item())


def test_a_file_of_another_model_is_refused(bench, onnx_file: Path, tmp_path: Path) -> None:
    model = onnx.load(str(onnx_file))
    gemm = next(n for n in model.graph.node if n.op_type == "Gemm")
    init = next(i for i in model.graph.initializer if i.name == gemm.input[1])
    weight = onnx.numpy_helper.to_array(init)[:1000]
    init.CopyFrom(onnx.numpy_helper.from_array(weight, init.name))
    onnx.save(model, str(tmp_path / "other.onnx"))
    with pytest.raises(UsageError, match=r"weight layer 53 .*Linear\(1000, 2048\).*ResNet50-v1.5's Linear\(1001, "):
        bench.load_torch_model(tmp_path / "other.onnx")
    shutil.copy(onnx_file, tmp_path / "model.bin")
    with pytest.raises(UsageError, match=r"reads a .onnx file .* or a .pt/.pth state dict"):
        bench.load_torch_model(tmp_path / "model.bin")
