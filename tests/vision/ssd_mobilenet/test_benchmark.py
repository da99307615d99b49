"""End-to-end runs on the synthetic COCO folder with random weights (not a quality result)."""

from __future__ import annotations

import pytest

from common.registry import get_benchmark
from common.runner import RunConfig, run_benchmark


def test_facts():
    info = get_benchmark("ssd-mobilenet").info
    assert info.quality.value == pytest.approx(21.78)
    assert (info.server_latency_ms, info.multistream_latency_ms, info.latency_percentile) == (10, 50, 99)
    assert info.performance_sample_count == 256
    assert info.backends == ("onnxruntime", "pytorch", "tensorflow")
    assert info.model_files["onnxruntime"] == "ssd_mobilenet_v1_coco_2018_01_28.onnx"


def run(files, tmp_path, backend, model, scenario, mode):
    return run_benchmark(
        RunConfig(
            benchmark="ssd-mobilenet",
            backend=backend,
            scenario=scenario,
            mode=mode,
            model=model,
            dataset_path=files["data"],
            output=tmp_path / f"{backend}-{scenario}",
            quick=True,
            cache_dir=files["cache"],
            progress=False,
        )
    ).to_dict()


@pytest.mark.parametrize("scenario", ["SingleStream", "MultiStream", "Server", "Offline"])
def test_all_scenarios_on_onnxruntime(mobilenet_files, tmp_path, scenario):
    mode = "both" if scenario == "Offline" else "performance"
    result = run(mobilenet_files, tmp_path, "onnxruntime", mobilenet_files[".onnx"], scenario, mode)
    assert result["performance"]["samples"] > 0
    if mode == "both":
        scored = result["accuracy"]["accuracy"]
        assert scored["count"] == 8  # every image, those without annotations too
        assert scored["extra"]["detections"] == 800  # the official interface: 100 per image
        assert 0.0 <= scored["value"] <= 100.0


@pytest.mark.parametrize("backend,suffix", [("pytorch", ".pt"), ("tensorflow", ".pb")])
def test_accuracy_on_the_other_backends(mobilenet_files, tmp_path, backend, suffix):
    result = run(mobilenet_files, tmp_path, backend, mobilenet_files[suffix], "Offline", "accuracy")
    scored = result["accuracy"]["accuracy"]
    assert scored["count"] == 8 and scored["extra"]["detections"] > 0
    log = tmp_path / f"{backend}-Offline" / "accuracy" / "mlperf_log_accuracy.json"
    assert log.is_file()
