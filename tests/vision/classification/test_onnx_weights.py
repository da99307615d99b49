"""Reading weights from ONNX files: batch norm as a node, folded, or written out; clear mismatch errors."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

from common.errors import UsageError
from vision.classification.onnx_weights import load_onnx_weights, read_onnx_layers


class Tiny(nn.Module):
    """conv+bn+relu, strided conv+bn+relu, global average, linear: the shapes of a small classifier."""

    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4)
        self.conv2, self.bn2 = nn.Conv2d(4, 6, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(6)
        self.fc = nn.Linear(6, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        return self.fc(x.mean(dim=(2, 3)))

    def weight_units(self):
        return [(self.conv1, self.bn1), (self.conv2, self.bn2), (self.fc, None)]


def random_tiny(seed: int = 0) -> Tiny:
    torch.manual_seed(seed)
    model = Tiny()
    with torch.no_grad():
        for norm in (model.bn1, model.bn2):
            norm.weight.uniform_(0.5, 1.5)
            norm.bias.uniform_(-0.5, 0.5)
            norm.running_mean.uniform_(-0.5, 0.5)
            norm.running_var.uniform_(0.5, 2.0)
    return model.eval()


def export(model: nn.Module, path: Path, mode: torch.onnx.TrainingMode) -> Path:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(1, 3, 8, 8),), buffer, dynamo=False, input_names=["x"],
                          output_names=["y"], opset_version=13, training=mode)
    path.write_bytes(buffer.getvalue())
    return path


@pytest.mark.parametrize("mode", [torch.onnx.TrainingMode.PRESERVE, torch.onnx.TrainingMode.EVAL])
def test_batch_norm_node_or_folded_into_the_conv(tmp_path: Path, mode: torch.onnx.TrainingMode) -> None:
    source = random_tiny(1)
    path = export(source, tmp_path / "tiny.onnx", mode)
    ops = [node.op_type for node in onnx.load(str(path)).graph.node]
    assert ("BatchNormalization" in ops) == (mode == torch.onnx.TrainingMode.PRESERVE)
    target = Tiny().eval()
    load_onnx_weights(target.weight_units(), path, "Tiny")
    x = torch.randn(2, 3, 8, 8)
    torch.testing.assert_close(target(x), source(x), rtol=1e-5, atol=1e-5)


def written_out_graph(tmp_path: Path, rng: np.random.Generator) -> Path:
    """Conv -> Mul -> Add (batch norm written out) -> Relu -> GlobalAveragePool -> Flatten -> MatMul -> Add."""
    w1 = rng.normal(size=(4, 3, 3, 3)).astype(np.float32)
    w2 = rng.normal(size=(6, 4, 3, 3)).astype(np.float32)
    bias2 = rng.normal(size=6).astype(np.float32)
    scale1 = rng.uniform(0.5, 1.5, (1, 4, 1, 1)).astype(np.float32)
    shift1 = rng.normal(size=(1, 4, 1, 1)).astype(np.float32)
    bn2 = [rng.uniform(0.5, 1.5, 6), rng.normal(size=6), rng.normal(size=6), rng.uniform(0.5, 2, 6)]
    fc = rng.normal(size=(6, 5)).astype(np.float32)
    fc_bias = rng.normal(size=5).astype(np.float32)
    inits = {"w1": w1, "w2": w2, "b2": bias2, "s1": scale1, "t1": shift1, "g2": bn2[0], "be2": bn2[1],
             "m2": bn2[2], "v2": bn2[3], "fc": fc, "fcb": fc_bias}
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Mul", ["c1", "s1"], ["m1"]),
        helper.make_node("Add", ["m1", "t1"], ["a1"]),
        helper.make_node("Relu", ["a1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("BatchNormalization", ["c2", "g2", "be2", "m2", "v2"], ["n2"], epsilon=1e-3),
        helper.make_node("Relu", ["n2"], ["r2"]),
        helper.make_node("GlobalAveragePool", ["r2"], ["p"]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("MatMul", ["f", "fc"], ["mm"]),
        helper.make_node("Add", ["mm", "fcb"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "written_out",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 5])],
        [numpy_helper.from_array(np.asarray(v, np.float32), k) for k, v in inits.items()],
    )
    path = tmp_path / "written_out.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return path


def test_mul_add_batch_norm_conv_bias_and_matmul_match_onnxruntime(tmp_path: Path) -> None:
    path = written_out_graph(tmp_path, np.random.default_rng(0))
    layers = read_onnx_layers(path)
    assert [(lay.op, [op for op, _ in lay.post_ops]) for lay in layers] == [
        ("Conv", ["Mul", "Add"]), ("Conv", ["BatchNormalization"]), ("Linear", ["Add"])]
    target = Tiny().eval()
    load_onnx_weights(target.weight_units(), path, "Tiny")
    x = np.random.default_rng(1).normal(size=(3, 3, 8, 8)).astype(np.float32)
    expected = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    np.testing.assert_allclose(target(torch.from_numpy(x)).detach().numpy(), expected, rtol=1e-4, atol=1e-4)


def test_wrong_shapes_name_the_layer(tmp_path: Path) -> None:
    path = export(random_tiny(), tmp_path / "tiny.onnx", torch.onnx.TrainingMode.PRESERVE)
    with pytest.raises(UsageError, match=r"weight layer 2 \(.*Linear\(5, 6\).*does not match Tiny's Linear\(7, 6\)"):
        load_onnx_weights(Tiny(classes=7).weight_units(), path, "Tiny")
    with pytest.raises(UsageError, match=r"the file has 3 weight layers, Tiny has 2"):
        load_onnx_weights(Tiny().weight_units()[:2], path, "Tiny")


def test_batch_norm_away_from_a_convolution_is_refused(tmp_path: Path) -> None:
    path = written_out_graph(tmp_path, np.random.default_rng(2))
    model = onnx.load(str(path))
    nodes = list(model.graph.node)
    conv, norm, relu = nodes[4], nodes[5], nodes[6]  # Conv -> BN -> Relu becomes Conv -> Relu -> BN
    relu.input[0], relu.output[0] = conv.output[0], "relu_first"
    norm.input[0], norm.output[0] = "relu_first", "r2"
    del model.graph.node[:]
    model.graph.node.extend(nodes[:5] + [relu, norm] + nodes[7:])
    onnx.save(model, str(path))
    with pytest.raises(UsageError, match=r"BatchNormalization .* does not directly follow a convolution"):
        load_onnx_weights(Tiny().weight_units(), path, "Tiny")


def test_not_an_onnx_file(tmp_path: Path) -> None:
    path = tmp_path / "junk.onnx"
    path.write_bytes(b"\x00junk" * 10)
    with pytest.raises(UsageError, match=r"junk.onnx: not a readable ONNX file"):
        load_onnx_weights(Tiny().weight_units(), path, "Tiny")
