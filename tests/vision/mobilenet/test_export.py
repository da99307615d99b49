"""MobileNet: TF 'SAME' padding pinned on its weights, state dict files, the prediction tensor (the shared
export tests are in tests/vision/classification/test_classifier_export.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from common.benchmark import DatasetOptions, ModelIO
from common.errors import UsageError
from vision.imagenet.samples import write_samples
from vision.mobilenet.benchmark import PREDICTIONS, MobileNetBenchmark

SEED = 7
BENCH = MobileNetBenchmark()


@pytest.fixture(scope="module")
def source_model():
    """The model with seeded random weights, in eval mode; tests must not change it."""
    return BENCH.random_model(SEED)


def test_tf_same_padding_matters_for_these_weights(source_model, tmp_path: Path) -> None:
    """With PyTorch's symmetric padding on the stride-2 convolutions the outputs would differ."""
    options = DatasetOptions("onnxruntime", "NCHW", tmp_path / "cache", workers=1, count=3, progress=False)
    dataset = BENCH.open_dataset(write_samples(tmp_path / "samples"), options)
    nchw = torch.from_numpy(np.stack(dataset.load([0, 1, 2])))
    symmetric = BENCH.build_model()
    symmetric.load_state_dict(source_model.state_dict())
    for module in symmetric.modules():
        if isinstance(module, torch.nn.Conv2d) and module.kernel_size == (3, 3):
            module.forward = lambda x, m=module: torch.nn.functional.conv2d(
                x, m.weight, m.bias, m.stride, 1, 1, m.groups)
    with torch.no_grad():
        ours, other = source_model(nchw), symmetric.eval()(nchw)
    assert (ours - other).abs().max() > 1e-2 * ours.abs().max()


def test_state_dict_files_load(source_model, tmp_path: Path) -> None:
    torch.save(source_model.state_dict(), tmp_path / "weights.pt")
    loaded = BENCH.load_torch_model(tmp_path / "weights.pt")
    x = torch.zeros(1, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x)[0], torch.softmax(source_model(x), 1))
    torch.save({"stem.0.weight": torch.zeros(1)}, tmp_path / "bad.pt")
    with pytest.raises(UsageError, match=r"bad.pt: not a state dict of this model"):
        BENCH.load_torch_model(tmp_path / "bad.pt")


def test_prediction_output_name() -> None:
    assert PREDICTIONS == "MobilenetV1/Predictions/Reshape_1:0"
    assert MobileNetBenchmark().model_io("tensorflow") == ModelIO(("input:0",), (PREDICTIONS,), "NHWC")
