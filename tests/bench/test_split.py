"""bench/split.py's MAC count: a hand-computed graph (no timing: the bench itself is never a test)."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from bench.split import model_gmac


def test_macs_of_a_padded_conv_a_depthwise_conv_and_a_gemm(tmp_path):
    rng = np.random.default_rng(0)
    weights = [numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)
               for name, shape in (("w1", (8, 3, 3, 3)), ("w2", (8, 1, 3, 3)), ("w3", (10, 8 * 5 * 5)))]
    weights.append(numpy_helper.from_array(np.array([-1, 8 * 5 * 5], np.int64), "shape"))
    nodes = [helper.make_node("Conv", ["x", "w1"], ["a"], pads=[1, 1, 1, 1], strides=[2, 2]),  # 8x5x5 out
             helper.make_node("Conv", ["a", "w2"], ["b"], pads=[1, 1, 1, 1], group=8),  # depthwise, 8x5x5
             helper.make_node("Reshape", ["b", "shape"], ["flat"]),
             helper.make_node("Gemm", ["flat", "w3"], ["y"], transB=1)]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, 10, 10])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], weights)
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    expected = 8 * 5 * 5 * (3 * 3 * 3) + 8 * 5 * 5 * 9 + 10 * 200  # per output element: its inputs x kernel
    assert round(model_gmac(path) * 1e9) == expected
