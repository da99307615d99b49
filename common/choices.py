"""The names the command line offers besides benchmarks and backends: precisions and scenarios.

Plain tuples, so that building the parser (and printing --help) imports no engine, numpy or LoadGen;
the modules that act on these names import them from here.
"""

from __future__ import annotations

PRECISIONS = ("fp32", "bf16", "fp16", "int8")
SCENARIO_NAMES = ("SingleStream", "MultiStream", "Server", "Offline")
