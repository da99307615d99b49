"""int8 SSD-ResNet34 on a small stand-in with its ONNX interface (the real network takes seconds per image
here): calibrate on the sample data's own list, the backbone quantized while the heads, decoding and NMS
stay fp32, its outputs against fp32, the accuracy pass on both engines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from common.benchmark import DatasetOptions
from common.registry import get_benchmark
from common.runner import RunConfig, run_benchmark
from common.samples import SAMPLE_CALIBRATION_LIST, make_all_samples
from tools.calibration.command import CalibrateConfig, calibrate
from tools.calibration.quantize import fp32_inputs_of, interface, quantized_ops
from vision.ssd_resnet34.anchors import FEATURE_MAPS
from vision.ssd_resnet34.model import BOXES_PER_LOCATION, NUM_LABELS

MIN_COSINE = 0.98  # confs of int8 against fp32 per image (see tests/vision/ssd_mobilenet/test_int8.py)


class SmallSSD(nn.Module):
    """Two 3x3 convolutions on a 75x75 copy of the image (the backbone), then SSD-ResNet34's six heads as
    1x1 convolutions on resized copies of its features: the real layout of raw outputs, a fraction of the work."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.backbone = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1),
                                      nn.ReLU())
        self.loc = nn.ModuleList(nn.Conv2d(16, b * 4, 1) for b in BOXES_PER_LOCATION)
        self.conf = nn.ModuleList(nn.Conv2d(16, b * NUM_LABELS, 1) for b in BOXES_PER_LOCATION)

    def forward(self, image: torch.Tensor):
        n = image.shape[0]
        features = self.backbone(F.interpolate(image, size=(75, 75), mode="bilinear"))
        maps = [F.interpolate(features, size=(size, size), mode="bilinear") for size in FEATURE_MAPS]
        locs = torch.cat([head(m).reshape(n, 4, -1) for head, m in zip(self.loc, maps, strict=True)], 2)
        confs = torch.cat([head(m).reshape(n, NUM_LABELS, -1) for head, m in zip(self.conf, maps, strict=True)], 2)
        return locs, confs


@pytest.fixture(scope="module")
def small_onnx(tmp_path_factory) -> Path:
    from vision.ssd_resnet34.export import export_onnx

    return export_onnx(SmallSSD().eval(), tmp_path_factory.mktemp("small") / "small-ssd1200.onnx")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """The sample data as 'mlperf-ref make-samples' writes it (marked synthetic, with its calibration list)."""
    return make_all_samples(tmp_path_factory.mktemp("samples"), ["ssd-resnet34"])["ssd-resnet34"]


@pytest.fixture(scope="module")
def int8_model(data, small_onnx, tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("ssd-resnet34-int8") / "small-int8.onnx"
    calibrate(CalibrateConfig("ssd-resnet34", small_onnx, data, output, "openvino", str(data / SAMPLE_CALIBRATION_LIST),
                              method="entropy", cache_dir=data.parent / "cache", progress=False))
    return output


def test_only_the_convolutions_are_quantized(small_onnx, int8_model) -> None:
    fp32, int8 = onnx.load(str(small_onnx)), onnx.load(str(int8_model))
    assert interface(int8) == interface(fp32)
    assert quantized_ops(int8) == {"Conv"}  # the convolutions' inputs and outputs, nothing else
    assert fp32_inputs_of(int8, "NonMaxSuppression") and fp32_inputs_of(int8, "Softmax")  # decoding and NMS
    assert {p.key: p.value for p in int8.metadata_props}["mlperf_ref.method"] == "entropy"


def test_int8_confs_follow_fp32(data, small_onnx, int8_model, tmp_path) -> None:
    bench = get_benchmark("ssd-resnet34")
    options = DatasetOptions("onnxruntime", "NCHW", tmp_path, 1, None, False)
    images = bench.open_dataset(data, options).load(range(2))
    confs = []
    for model in (small_onnx, int8_model):
        session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
        confs.append(session.run(["confs"], {"image": images})[0].reshape(2, -1))
    fp32, int8 = confs
    cosine = np.sum(fp32 * int8, axis=1) / (np.linalg.norm(fp32, axis=1) * np.linalg.norm(int8, axis=1))
    print(f"ssd-resnet34 (small) confs: cosine min {cosine.min():.4f}")
    assert cosine.min() >= MIN_COSINE


@pytest.mark.parametrize("backend", ["onnxruntime", "openvino"])
def test_the_accuracy_pass_runs_int8(data, int8_model, tmp_path, backend) -> None:
    results = run_benchmark(RunConfig("ssd-resnet34", backend, "Offline", mode="accuracy", model=int8_model,
                                      dataset_path=data, output=tmp_path, quick=True, count=2,
                                      precision="int8", cache_dir=data.parent / "cache", progress=False)).to_dict()
    assert results["engine"]["calibration"]["method"] == "entropy"
    assert results["accuracy"]["accuracy"]["count"] == 2
