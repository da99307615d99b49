"""Post-training int8 calibration: the official calibration lists, the calibrate command, the record an int8
model carries in its ONNX metadata."""
