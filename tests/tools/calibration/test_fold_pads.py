"""fold_zero_pads: a zero Pad before a Conv becomes the Conv's own pads, with the same outputs."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from tools.calibration.quantize import fold_zero_pads


def padded_conv(value: float) -> onnx.ModelProto:
    rng = np.random.default_rng(0)
    weights = [numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "w"),
               numpy_helper.from_array(np.array([0, 0, 0, 0, 0, 0, 1, 1], np.int64), "pads"),
               numpy_helper.from_array(np.array(value, np.float32), "value")]
    nodes = [helper.make_node("Pad", ["x", "pads", "value"], ["padded"], mode="constant"),
             helper.make_node("Conv", ["padded", "w"], ["y"], strides=[2, 2], pads=[1, 0, 0, 0])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 9, 9])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], weights)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]


def test_a_zero_pad_joins_the_conv():
    x = np.random.default_rng(1).standard_normal((1, 3, 9, 9)).astype(np.float32)
    folded = fold_zero_pads(padded_conv(0.0))
    assert [n.op_type for n in folded.graph.node] == ["Conv"]
    pads = next(a for a in folded.graph.node[0].attribute if a.name == "pads")
    assert list(pads.ints) == [1, 0, 1, 1]  # the Conv's own top pad plus the Pad's bottom and right
    np.testing.assert_allclose(run(folded, x), run(padded_conv(0.0), x), rtol=1e-5, atol=1e-5)


def test_a_pad_with_another_value_stays():
    assert [n.op_type for n in fold_zero_pads(padded_conv(1.0)).graph.node] == ["Pad", "Conv"]
