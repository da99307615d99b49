"""Post-training int8 calibration: the official calibration lists, the calibrate command, the record an int8
model carries in its ONNX metadata (common/calibration_record.py, read by the backends)."""

CALIBRATION_METHODS = ("minmax", "entropy", "percentile")  # onnxruntime's static calibrators, by their name
