"""Run the installed LoadGen with a minimal inline SUT and keep its logs: real output for the parser tests.

Usage: python tests/common/data/loadgen/make_logs.py OUTPUT_DIR [CASE ...]

Each case is one LoadGen run (at most about a second) in a VALID or a deliberately INVALID configuration; its
``mlperf_log_summary.txt`` and ``mlperf_log_detail.txt`` land in ``OUTPUT_DIR/<case>/``. The captured copies
beside this script were made with mlcommons-loadgen 6.0.17.
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import mlperf_loadgen as lg

SAMPLE_COUNT = 16
KEPT_LOGS = ("mlperf_log_summary.txt", "mlperf_log_detail.txt")


@dataclass(frozen=True)
class Case:
    """One LoadGen run: scenario, mode, how long the inline SUT takes per query, TestSettings fields."""

    scenario: str
    sut_delay_s: float = 0.0
    mode: str = "PerformanceOnly"
    settings: dict[str, int | float] = field(default_factory=dict)


CASES: dict[str, Case] = {
    # VALID: the SUT takes as long as LoadGen expects, so the pre-generated queries fill the minimum duration.
    "singlestream_valid": Case(
        "SingleStream", 0.001,
        settings=dict(single_stream_expected_latency_ns=1_000_000, min_duration_ms=200, min_query_count=100),
    ),
    # INVALID: max_query_count stops the run below min_query_count.
    "singlestream_too_few_queries": Case(
        "SingleStream", settings=dict(min_duration_ms=100, min_query_count=100, max_query_count=50),
    ),
    # INVALID: the SUT answers far faster than the expected 1 ms, LoadGen runs out of queries early.
    "singlestream_too_short": Case(
        "SingleStream", settings=dict(single_stream_expected_latency_ns=1_000_000, min_duration_ms=1000,
                                      min_query_count=100),
    ),
    "singlestream_accuracy": Case("SingleStream", mode="AccuracyOnly", settings=dict(min_query_count=10)),
    # VALID: the one Offline query takes 0.25 s, longer than the 0.2 s minimum.
    "offline_valid": Case(
        "Offline", 0.25, settings=dict(offline_expected_qps=1000, min_duration_ms=200, min_query_count=100),
    ),
    # INVALID: the one Offline query is answered at once, far within the minimum duration.
    "offline_too_short": Case(
        "Offline", settings=dict(offline_expected_qps=1000, min_duration_ms=200, min_query_count=100),
    ),
    # VALID: enough queries for early stopping at the 99th percentile, every one far within 500 ms.
    "server_valid": Case(
        "Server", settings=dict(server_target_qps=1000, server_target_latency_ns=500_000_000,
                                min_duration_ms=800, min_query_count=100),
    ),
    # INVALID: the SUT takes 5 ms per query, the bound is 1 ms.
    "server_over_latency": Case(
        "Server", 0.005, settings=dict(server_target_qps=100, server_target_latency_ns=1_000_000,
                                       min_duration_ms=200, min_query_count=100),
    ),
    # INVALID: latency met, but 100 queries are too few for early stopping at the 99th percentile.
    "server_early_stopping": Case(
        "Server", settings=dict(server_target_qps=500, server_target_latency_ns=500_000_000,
                                min_duration_ms=200, min_query_count=100),
    ),
    # VALID: 800 queries of 4 samples back to back, 0.5 ms each.
    "multistream_valid": Case(
        "MultiStream", 0.0005, settings=dict(multi_stream_expected_latency_ns=500_000,
                                             multi_stream_samples_per_query=4, min_duration_ms=200,
                                             min_query_count=700),
    ),
    # INVALID: 200 queries are too few for early stopping at the 99th percentile.
    "multistream_early_stopping": Case(
        "MultiStream", 0.0005, settings=dict(multi_stream_expected_latency_ns=500_000,
                                             multi_stream_samples_per_query=4, min_duration_ms=50,
                                             min_query_count=100),
    ),
}


def _make_sut(delay_s: float):
    def issue_queries(samples) -> None:
        if delay_s:
            time.sleep(delay_s)
        lg.QuerySamplesComplete([lg.QuerySampleResponse(sample.id, 0, 0) for sample in samples])

    return lg.ConstructSUT(issue_queries, lambda: None)


def run_case(name: str, output: Path) -> Path:
    """Run LoadGen for ``CASES[name]``; return ``output/name`` holding its summary and detail logs."""
    case = CASES[name]
    folder = Path(output) / name
    folder.mkdir(parents=True, exist_ok=True)
    settings = lg.TestSettings()
    settings.scenario = getattr(lg.TestScenario, case.scenario)
    settings.mode = getattr(lg.TestMode, case.mode)
    for key, value in case.settings.items():
        setattr(settings, key, value)
    with tempfile.TemporaryDirectory() as scratch:
        log_output = lg.LogOutputSettings()
        log_output.outdir = scratch
        log_output.copy_summary_to_stdout = False
        log_settings = lg.LogSettings()
        log_settings.log_output = log_output
        sut = _make_sut(case.sut_delay_s)
        qsl = lg.ConstructQSL(SAMPLE_COUNT, SAMPLE_COUNT, lambda indices: None, lambda indices: None)
        try:
            lg.StartTestWithLogSettings(sut, qsl, settings, log_settings)
        finally:
            lg.DestroyQSL(qsl)
            lg.DestroySUT(sut)
        for log in KEPT_LOGS:
            (folder / log).write_bytes((Path(scratch) / log).read_bytes())
    return folder


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    output, names = Path(argv[0]), argv[1:] or list(CASES)
    unknown = [name for name in names if name not in CASES]
    if unknown:
        print(f"unknown case {unknown[0]!r}: choose from {', '.join(CASES)}", file=sys.stderr)
        return 2
    for name in names:
        started = time.perf_counter()
        run_case(name, output)
        print(f"{name}: {time.perf_counter() - started:.2f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
