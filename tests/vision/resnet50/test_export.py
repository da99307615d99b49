"""ResNet50 weights from an ONNX file with batch norm folded in (the shared export tests are in
tests/vision/classification/test_classifier_export.py)."""

from __future__ import annotations

import io
import warnings

import numpy as np
import onnx
import pytest
import torch

from vision.resnet50.benchmark import ResNet50Benchmark

SEED = 7


@pytest.fixture(scope="module")
def bench() -> ResNet50Benchmark:
    return ResNet50Benchmark()


@pytest.fixture(scope="module")
def source_model(bench: ResNet50Benchmark):
    """The model with seeded random weights, in eval mode; tests must not change it."""
    return bench.random_model(SEED)


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
