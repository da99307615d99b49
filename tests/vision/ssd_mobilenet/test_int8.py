"""int8 SSD-MobileNet: calibrate on the sample data's own list (train2017/), only the network quantized
(box decoding and NMS stay fp32), its heads against fp32, the accuracy pass on both engines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from common.benchmark import DatasetOptions
from common.registry import get_benchmark
from common.runner import RunConfig, run_benchmark
from common.samples import SAMPLE_CALIBRATION_LIST, make_all_samples
from tools.calibration.command import CalibrateConfig, calibrate
from tools.calibration.quantize import fp32_inputs_of, interface, quantized_ops
from vision.ssd_mobilenet.official_graph import INPUT

# The class logits of int8 against fp32 (random weights), per image over all anchors and classes: the
# cosine similarity measures the relative error of the whole head output whatever its scale, where the
# detections after NMS would reorder under any change. Bound: the measured value with a margin.
MIN_COSINE = 0.98


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """The sample data as 'mlperf-ref make-samples' writes it (marked synthetic, with its calibration list)."""
    return make_all_samples(tmp_path_factory.mktemp("samples"), ["ssd-mobilenet"])["ssd-mobilenet"]


@pytest.fixture(scope="module")
def int8_model(mobilenet_files, data, tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("ssd-mobilenet-int8") / "ssd_mobilenet-int8.onnx"
    record = calibrate(CalibrateConfig("ssd-mobilenet", mobilenet_files[".onnx"], data, output, "onnxruntime",
                                       str(data / SAMPLE_CALIBRATION_LIST), cache_dir=mobilenet_files["cache"],
                                       progress=False))
    assert (record.images, record.official, record.calibration_list) == (4, False, SAMPLE_CALIBRATION_LIST)
    return output


def test_only_the_network_is_quantized(mobilenet_files, int8_model) -> None:
    fp32, int8 = onnx.load(str(mobilenet_files[".onnx"])), onnx.load(str(int8_model))
    assert interface(int8) == interface(fp32)
    assert quantized_ops(int8) == {"Conv"}  # the convolutions' inputs and outputs, nothing else
    assert fp32_inputs_of(int8, "NonMaxSuppression") and fp32_inputs_of(int8, "Sigmoid")  # decoding and NMS
    assert sum(n.op_type == "NonMaxSuppression" for n in int8.graph.node) == 1


def test_int8_class_logits_follow_fp32(mobilenet_files, data, int8_model, tmp_path) -> None:
    bench = get_benchmark("ssd-mobilenet")
    options = DatasetOptions("onnxruntime", "NHWC", tmp_path, 1, None, False)
    images = bench.open_dataset(data, options).load(range(8))
    logits = []
    for model in (mobilenet_files[".onnx"], int8_model):
        session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
        logits.append(session.run(["class_logits"], {INPUT: images})[0].reshape(8, -1))
    fp32, int8 = logits
    cosine = np.sum(fp32 * int8, axis=1) / (np.linalg.norm(fp32, axis=1) * np.linalg.norm(int8, axis=1))
    print(f"ssd-mobilenet class logits: cosine min {cosine.min():.4f} mean {cosine.mean():.4f}")
    assert cosine.min() >= MIN_COSINE


@pytest.mark.parametrize("backend", ["onnxruntime", "openvino"])
def test_the_accuracy_pass_runs_int8(mobilenet_files, data, int8_model, tmp_path, backend) -> None:
    results = run_benchmark(RunConfig("ssd-mobilenet", backend, "Offline", mode="accuracy", model=int8_model,
                                      dataset_path=data, output=tmp_path, quick=True,
                                      precision="int8", cache_dir=mobilenet_files["cache"], progress=False)).to_dict()
    assert results["engine"]["precision"] == "int8" and results["engine"]["calibration"]["images"] == 4
    scored = results["accuracy"]["accuracy"]
    assert scored["count"] == 8 and scored["extra"]["detections"] == 800 and 0.0 <= scored["value"] <= 100.0
