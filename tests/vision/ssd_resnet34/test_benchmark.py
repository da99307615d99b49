"""End-to-end runs on two synthetic images with random weights (not a quality result).

The accuracy run uses the exported SSD-ResNet34; the performance runs of the four scenarios use a tiny
stand-in with the same ONNX interface (conftest.TinyHeads), since the real network takes seconds per image.
"""

from __future__ import annotations

import pytest

from common.registry import get_benchmark
from common.runner import RunConfig, run_benchmark


def test_facts():
    info = get_benchmark("ssd-resnet34").info
    assert info.quality.value == pytest.approx(19.8)
    assert (info.server_latency_ms, info.multistream_latency_ms, info.latency_percentile) == (100, 66, 99)
    assert info.performance_sample_count == 64
    assert info.backends == ("onnxruntime", "pytorch", "tensorflow")
    assert info.model_files["onnxruntime"] == "resnet34-ssd1200.onnx"


@pytest.mark.parametrize("scenario", ["SingleStream", "MultiStream", "Server", "Offline"])
def test_all_scenarios_on_onnxruntime(resnet34_files, tiny_onnx, tmp_path, scenario):
    result = run(resnet34_files, tiny_onnx, tmp_path, scenario, "both")
    assert result["performance"]["samples"] > 0
    scored = result["accuracy"]["accuracy"]
    assert scored["count"] == 2 and scored["lines"][-1].startswith("mAP=")


def test_accuracy_of_the_exported_model(resnet34_files, tmp_path):
    result = run(resnet34_files, resnet34_files[".onnx"], tmp_path, "Offline", "accuracy")
    scored = result["accuracy"]["accuracy"]
    assert scored["count"] == 2 and 0 < scored["extra"]["detections"] <= 400


def run(files, model, tmp_path, scenario, mode):
    return run_benchmark(
        RunConfig(
            benchmark="ssd-resnet34",
            backend="onnxruntime",
            scenario=scenario,
            mode=mode,
            model=model,
            dataset_path=files["data"],
            output=tmp_path / scenario,
            quick=True,
            count=2,
            cache_dir=files["cache"],
            progress=False,
        )
    ).to_dict()


def test_bad_backend_and_export_suffix_are_clear_errors(tmp_path):
    from common.errors import UsageError

    bench = get_benchmark("ssd-resnet34")
    with pytest.raises(UsageError, match="--backend tflite"):  # the runner checks before make_task
        run_benchmark(RunConfig(benchmark="ssd-resnet34", backend="tflite", scenario="Offline", dataset_path=tmp_path,
                                output=tmp_path / "out"))
    with pytest.raises(UsageError, match=r"\.onnx, \.pb or \.pt"):
        bench.export_model(tmp_path / "model.tflite")
    assert not (tmp_path / "model.tflite").exists()
