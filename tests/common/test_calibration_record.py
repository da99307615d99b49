"""The record an int8 file carries: its round trip through metadata_props, and the precision checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.calibration_record import PREFIX, CalibrationRecord, check_model_precision
from common.errors import UsageError

RECORD = CalibrationRecord(
    benchmark="mobilenet", calibration_list="option_1", calibration_list_sha256="ab" * 32, official=True,
    images=500, method="minmax", quantization="QDQ", tools={"onnxruntime": "1.32.0", "onnx": "1.23.2"},
    source_model_sha256="cd" * 32)


def test_metadata_round_trip() -> None:
    props = RECORD.to_metadata()
    assert all(k.startswith(PREFIX) and isinstance(v, str) for k, v in props.items())
    assert props[PREFIX + "official"] == "true" and props[PREFIX + "images"] == "500"
    assert props[PREFIX + "tools"] == '{"onnx": "1.23.2", "onnxruntime": "1.32.0"}'
    assert CalibrationRecord.from_metadata(props) == RECORD
    assert CalibrationRecord.from_metadata({"producer": "pytorch"}) is None


def test_an_fp32_file_run_as_int8_is_refused_with_the_command_to_run() -> None:
    with pytest.raises(UsageError) as caught:
        check_model_precision(None, Path("m/mobilenet.onnx"), "int8", "mobilenet")
    assert str(caught.value) == (
        "--precision int8: --model m/mobilenet.onnx is no int8 model from 'mlperf-ref calibrate'; make one first: "
        "mlperf-ref calibrate mobilenet --model m/mobilenet.onnx --dataset-path DIR --backend onnxruntime "
        "--output m/mobilenet-int8.onnx")


def test_an_int8_file_run_at_another_precision_or_benchmark_is_refused() -> None:
    with pytest.raises(UsageError, match=r"--precision fp32: --model m.onnx is an int8 model \(calibrated on "
                                         r"option_1\); run it with --precision int8"):
        check_model_precision(RECORD, Path("m.onnx"), "fp32", "mobilenet")
    with pytest.raises(UsageError, match="--model m.onnx: calibrated for mobilenet, not resnet50"):
        check_model_precision(RECORD, Path("m.onnx"), "int8", "resnet50")
    check_model_precision(RECORD, Path("m.onnx"), "int8", "mobilenet")
    check_model_precision(None, Path("m.onnx"), "fp32", "mobilenet")
