"""The goal of every row, as the table judges it ("<op> <number>"); why each goal is what it is, and the
v0.5 figures behind them, are in bench/PERFORMANCE.md."""

from __future__ import annotations

OFFLINE_VS_ENGINE = ">= 0.97"  # row 1: harness samples/s / raw engine samples/s
SINGLESTREAM_OVER_ENGINE_MS = "<= 0.3"  # row 2: harness p90 - raw engine p90
NULL_OFFLINE = ">= 219000"  # row 3: samples/s (10x the v0.5 harness)
NULL_SERVER = ">= 90000"  # row 3: peak VALID QPS (5x the v0.5 harness)
SERVER_BATCHING = ">= 2"  # row 4: peak QPS with dynamic batching / at batch 1
PREPROCESS_SPEED = ">= 4"  # row 5: images/s against the v0.5 kind of preprocessing
PREPROCESS_BYTES = "<= 0.25"  # row 5: cached bytes per sample against the v0.5 kind
GNMT_BATCHING = ">= 8"  # row 6: sentences/s batched / at batch 1
REDUCED_PRECISION = ">= 2.2"  # row 7: samples/s against the v0.5 harness's (estimated)
INT8_RESNET50 = ">= 1.8"  # row 8: ResNet50 int8 through the harness / raw fp32 onnxruntime

# The v0.5 harness reached this fraction of raw onnxruntime fp32 on ResNet50 (measured, see
# bench/PERFORMANCE.md); row 7 estimates the v0.5 harness as this fraction of the run's own raw figure.
V05_HARNESS_FRACTION = 44.5 / 56.5
