"""A sixth benchmark as a newcomer would add it: one module of common/ types, a tiny ONNX model it exports
itself, registered only by an entry point (tests/tools/submission/test_sixth_benchmark.py)."""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx import TensorProto, helper
from synthetic_benchmark import FEATURES, SyntheticBenchmark

from common.benchmark import BenchmarkInfo, QualityTarget

PERFORMANCE_SAMPLE_COUNT = 12  # the line the toy adds to the LoadGen rules file


class ToyBenchmark(SyntheticBenchmark):
    """Sample i is a one-hot of i % 8 scaled by i + 1; the model is the identity, so top-1 is 100%."""

    info = BenchmarkInfo(
        name="toy", submission_model="toy-v05", title="Toy", dataset="vectors",
        quality=QualityTarget("top-1", 90.0, 0.99), backends=("onnxruntime",), quick_count=16,
    )

    def export_model(self, output: Path, seed: int = 0) -> Path:
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", FEATURES])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", FEATURES])
        graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "toy", [x], [y])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        model.ir_version = 8
        output.parent.mkdir(parents=True, exist_ok=True)
        onnx.save(model, str(output))
        return output
