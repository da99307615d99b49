"""The names the command line offers besides benchmarks and backends: precisions, scenarios, calibration
methods.

Plain tuples, so that building the parser (and printing --help) imports no engine, numpy or LoadGen;
the modules that act on these names import them from here.
"""

from __future__ import annotations

PRECISIONS = ("fp32", "bf16", "fp16", "int8")
SCENARIO_NAMES = ("SingleStream", "MultiStream", "Server", "Offline")
CALIBRATION_METHODS = ("minmax", "entropy", "percentile")  # onnxruntime's static calibrators, by their name
AUDIT_TEST_NAMES = ("TEST01", "TEST04-A", "TEST04-B", "TEST05")  # the v0.5 audit tests (common/audit)
