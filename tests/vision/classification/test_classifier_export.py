"""ResNet50 and MobileNet exports: the official interface, the backends agreeing, weights read back."""

from __future__ import annotations

import shutil
from collections.abc import Callable
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
from vision.classification.outputs import ARGMAX

# The official interfaces (v0.5 models): ONNX inputs and outputs (name, type, dims), file names, TF nodes.
ONNX_INPUTS = {
    "resnet50": [("input_tensor:0", TensorProto.FLOAT, ["N", 3, 224, 224])],
    "mobilenet": [("input:0", TensorProto.FLOAT, ["N", 3, 224, 224])],
}
ONNX_OUTPUTS = {
    "resnet50": [("ArgMax:0", TensorProto.INT64, ["N"]), ("softmax_tensor:0", TensorProto.FLOAT, ["N", 1001])],
    "mobilenet": [("MobilenetV1/Predictions/Reshape_1:0", TensorProto.FLOAT, ["N", 1001])],
}
ONNX_FILES = {"resnet50": "resnet50_v1.onnx", "mobilenet": "mobilenet_v1_1.0_224.onnx"}
BATCH_NORMS = {"resnet50": 53, "mobilenet": 27}  # one per convolution
TF_NODES = {
    "resnet50": {"input_tensor": "Placeholder", "ArgMax": "ArgMax", "softmax_tensor": "Softmax"},
    "mobilenet": {"input": "Placeholder", "MobilenetV1/Predictions/Softmax": "Softmax",
                  "MobilenetV1/Predictions/Reshape_1": "Reshape"},
}
TF_DEPTHWISE = {"resnet50": 0, "mobilenet": 13}
SOFTMAX_ATOL = {"resnet50": 2e-5, "mobilenet": 1e-6}  # backends vs the torch model, on the same weights
TOP_PROBABILITY_ABOVE = {"resnet50": 0.01, "mobilenet": 0.002}  # seeded random weights: not flat (1/1001)


def dims(value_info) -> list:
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def images(bench, samples: Path, layout: str, cache: Path) -> np.ndarray:
    options = DatasetOptions("onnxruntime", layout, cache, workers=1, count=3, progress=False)
    return np.stack(bench.open_dataset(samples, options).load([0, 1, 2]))


def test_onnx_interface_is_the_official_one(bench, onnx_file: Path) -> None:
    name = bench.info.name
    graph = onnx.load(str(onnx_file)).graph
    assert [(i.name, i.type.tensor_type.elem_type, dims(i)) for i in graph.input] == ONNX_INPUTS[name]
    assert [(o.name, o.type.tensor_type.elem_type, dims(o)) for o in graph.output] == ONNX_OUTPUTS[name]
    assert sum(node.op_type == "BatchNormalization" for node in graph.node) == BATCH_NORMS[name]
    assert all(init.data_location == TensorProto.DEFAULT for init in graph.initializer)  # self-contained
    assert sorted(p.name for p in onnx_file.parent.iterdir()) == [ONNX_FILES[name]]


def test_tf_graph_interface_is_the_official_one(bench, pb_file: Path) -> None:
    from vision.classification.tf_ops import import_tensorflow

    tf = import_tensorflow()
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(pb_file.read_bytes())
    nodes = {node.name: node for node in graph_def.node}
    assert {name: nodes[name].op for name in TF_NODES[bench.info.name]} == TF_NODES[bench.info.name]
    placeholder = nodes[bench.input_name.removesuffix(":0")]
    assert [d.size for d in placeholder.attr["shape"].shape.dim] == [-1, 224, 224, 3]  # NHWC
    assert all(node.attr["output_type"].type == tf.int64 for node in graph_def.node if node.op == "ArgMax")
    assert sum(node.op == "DepthwiseConv2dNative" for node in graph_def.node) == TF_DEPTHWISE[bench.info.name]
    assert not any(node.op.startswith("Variable") for node in graph_def.node)  # frozen


def check_outputs(bench, names: tuple[str, ...], outputs: list[np.ndarray], expected: np.ndarray, backend: str):
    """Each output (class or probabilities) against the torch model's softmax ``expected``."""
    for name, output in zip(names, outputs, strict=True):
        if bench.export_outputs[name] == ARGMAX:
            assert output.dtype == np.int64, backend
            assert output.tolist() == expected.argmax(1).tolist(), backend
        else:
            assert output.shape == (3, 1001), backend
            np.testing.assert_allclose(output, expected, atol=SOFTMAX_ATOL[bench.info.name], err_msg=backend)
            assert output.argmax(1).tolist() == expected.argmax(1).tolist(), backend


def test_torch_onnxruntime_and_tensorflow_agree(bench, samples, onnx_file, pb_file, source_model, tmp_path):
    nchw = images(bench, samples, "NCHW", tmp_path)
    nhwc = images(bench, samples, "NHWC", tmp_path)
    with torch.no_grad():
        expected = torch.softmax(source_model(torch.from_numpy(nchw)), 1).numpy()
    full = tuple(bench.export_outputs)
    for backend, model, batch in (("onnxruntime", onnx_file, nchw), ("tensorflow", pb_file, nhwc)):
        engine = make_backend(backend, 2)
        engine.load(model, ModelIO((bench.input_name,), full, "NCHW" if backend == "onnxruntime" else "NHWC"))
        outputs = engine.predict({bench.input_name: batch})
        check_outputs(bench, full, outputs, expected, backend)
        if backend == "onnxruntime":
            softmax = outputs[-1]
            # Random weights, yet a sane range: finite, neither flat nor saturated.
            assert np.isfinite(softmax).all() and softmax.max(1).max() < 1
            assert softmax.max(1).min() > TOP_PROBABILITY_ABOVE[bench.info.name]
    torch_engine = make_backend("pytorch", 2, "cpu", bench.load_torch_model)
    torch_engine.load(onnx_file, bench.model_io("pytorch"))
    check_outputs(bench, bench.run_outputs, torch_engine.predict({bench.input_name: nchw}), expected, "pytorch")
    assert np.isfinite(expected).all() and np.allclose(expected.sum(1), 1, atol=1e-5)


def test_dynamic_batch(bench, onnx_file: Path) -> None:
    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    for batch in (1, 3, 4):
        outputs = session.run(None, {bench.input_name: np.zeros((batch, 3, 224, 224), np.float32)})
        shapes = [(batch,) if kind == ARGMAX else (batch, 1001) for kind in bench.export_outputs.values()]
        assert [output.shape for output in outputs] == shapes


def move_after(nodes: list, prefix: str, anchor: str) -> list:
    """ResNet50: layer1.0's projection (Conv, BatchNormalization) moved after its block's last convolution."""
    moved = [n for n in nodes if n.name.startswith(prefix)]
    assert [n.op_type for n in moved] == ["Conv", "BatchNormalization"]
    rest = [n for n in nodes if n not in moved]
    at = next(i for i, n in enumerate(rest) if n.name == anchor)
    return rest[:at + 1] + moved + rest[at + 1:]


MOVES: dict[str, Callable[[list], list]] = {
    "resnet50": lambda nodes: move_after(nodes, "/model/layer1/layer1.0/downsample/",
                                         "/model/layer1/layer1.0/conv3/Conv"),
    "mobilenet": lambda nodes: nodes,  # a plain chain: nothing to reorder
}
ROUND_TRIP_INPUTS = {  # the range of each model's preprocessed input
    "resnet50": lambda rng: rng.normal(0, 50, (2, 3, 224, 224)),  # means subtracted
    "mobilenet": lambda rng: rng.uniform(-1, 1, (2, 3, 224, 224)),  # scaled to [-1, 1]
}


def scramble(source: Path, target: Path, move: Callable[[list], list]) -> None:
    """Rename every initializer and node, and reorder the nodes with ``move``."""
    model = onnx.load(str(source))
    graph = model.graph
    names = {init.name: f"w{index}" for index, init in enumerate(reversed(graph.initializer))}
    for init in graph.initializer:
        init.name = names[init.name]
    reordered = move(list(graph.node))
    for node in reordered:
        node.input[:] = [names.get(name, name) for name in node.input]
        node.name = ""
    del graph.node[:]
    graph.node.extend(reordered)
    onnx.checker.check_model(model)
    onnx.save(model, str(target))


def test_weights_round_trip_through_a_scrambled_onnx_file(bench, onnx_file, source_model, tmp_path) -> None:
    name = bench.info.name
    scrambled = tmp_path / "scrambled.onnx"
    scramble(onnx_file, scrambled, MOVES[name])
    loaded = bench.load_torch_model(scrambled)
    x = torch.from_numpy(ROUND_TRIP_INPUTS[name](np.random.default_rng(0)).astype(np.float32))
    with torch.no_grad():
        logits = source_model(x)
        torch.testing.assert_close(loaded.model(x), logits, rtol=1e-6, atol=1e-5)
        for output, kind in zip(loaded(x), (bench.export_outputs[n] for n in bench.run_outputs), strict=True):
            if kind == ARGMAX:
                assert output.tolist() == logits.argmax(1).tolist()
            else:
                torch.testing.assert_close(output, torch.softmax(logits, 1), rtol=1e-6, atol=1e-7)


def fewer_classes(model: onnx.ModelProto) -> None:
    """ResNet50 with a 1000-class classifier."""
    gemm = next(n for n in model.graph.node if n.op_type == "Gemm")
    init = next(i for i in model.graph.initializer if i.name == gemm.input[1])
    weight = onnx.numpy_helper.to_array(init)[:1000]
    init.CopyFrom(onnx.numpy_helper.from_array(weight, init.name))


def first_stride_1(model: onnx.ModelProto) -> None:
    """MobileNet with stride 1 on its first convolution."""
    first = next(n for n in model.graph.node if n.op_type == "Conv")
    for attr in first.attribute:
        if attr.name == "strides":
            attr.ints[:] = [1, 1]


OTHER_MODELS = {  # how to make a file of another model, and the error naming the first layer that differs
    "resnet50": (fewer_classes, r"weight layer 53 .*Linear\(1000, 2048\).*ResNet50-v1.5's Linear\(1001, "),
    "mobilenet": (first_stride_1, r"weight layer 0 .*stride \(1, 1\)\) does not match MobileNet-v1's"),
}


def test_a_file_of_another_model_is_refused(bench, onnx_file: Path, tmp_path: Path) -> None:
    change, message = OTHER_MODELS[bench.info.name]
    model = onnx.load(str(onnx_file))
    change(model)
    onnx.save(model, str(tmp_path / "other.onnx"))
    with pytest.raises(UsageError, match=message):
        bench.load_torch_model(tmp_path / "other.onnx")
    for suffix in (".bin", ".pb"):
        shutil.copy(onnx_file, tmp_path / f"model{suffix}")
        with pytest.raises(UsageError, match=r"reads a .onnx file .* or a .pt/.pth state dict"):
            bench.load_torch_model(tmp_path / f"model{suffix}")
