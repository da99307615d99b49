"""The LoadGen log reader on real LoadGen output: logs captured once (data/loadgen/) and logs made now.

Every case is a run of mlcommons-loadgen with a minimal inline SUT (data/loadgen/make_logs.py), VALID or
INVALID on purpose. The summary's figures are cross-checked against the detail log of the same run, which
LoadGen writes independently as JSON.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from common.errors import UsageError
from common.loadgen_log import LoadGenSummary, invalid_reasons, parse_detail, parse_summary

CAPTURED = Path(__file__).parent / "data" / "loadgen"
MAKE_LOGS = CAPTURED / "make_logs.py"
FLAGS = (
    "min_duration_satisfied",
    "min_queries_satisfied",
    "performance_constraints_satisfied",
    "early_stopping_satisfied",
)
DETAIL_FLAGS = {
    "min_duration_satisfied": "result_min_duration_met",
    "min_queries_satisfied": "result_min_queries_met",
    "performance_constraints_satisfied": "result_perf_constraints_met",
    "early_stopping_satisfied": "early_stopping_met",
}
# case: (scenario, LoadGen's verdict, the metric line, the flags LoadGen prints as NO)
PERFORMANCE_CASES = {
    "singlestream_valid": ("SingleStream", True, "90.0th percentile latency (ns)", set()),
    "singlestream_too_few_queries": (
        "SingleStream", False, "90.0th percentile latency (ns)",
        {"min_duration_satisfied", "min_queries_satisfied", "early_stopping_satisfied"},
    ),
    "singlestream_too_short": (
        "SingleStream", False, "90.0th percentile latency (ns)", {"min_duration_satisfied"},
    ),
    "offline_valid": ("Offline", True, "Samples per second", set()),
    "offline_too_short": ("Offline", False, "Samples per second", {"min_duration_satisfied"}),
    "server_valid": ("Server", True, "Completed samples per second", set()),
    "server_over_latency": (
        "Server", False, "Completed samples per second",
        {"performance_constraints_satisfied", "early_stopping_satisfied"},
    ),
    "server_early_stopping": ("Server", False, "Completed samples per second", {"early_stopping_satisfied"}),
    "multistream_valid": ("MultiStream", True, "99.0th percentile latency (ns)", set()),
    "multistream_early_stopping": (
        "MultiStream", False, "99.0th percentile latency (ns)", {"early_stopping_satisfied"},
    ),
}
# case: what the reasons must say (the cause and the setting to change); VALID cases have none.
REASON_WORDS = {
    "singlestream_too_few_queries": [
        "0.1 s minimum duration", "too few queries: 50 of the 100 required",
        "max_query_count 50 is below min_query_count 100", "*.SingleStream.max_query_count = 0",
    ],
    "singlestream_too_short": ["1 s minimum duration (min_duration 1000 ms)", "*.SingleStream.target_latency"],
    "offline_too_short": ["0.2 s minimum duration (min_duration 200 ms)", "*.Offline.target_qps"],
    "server_over_latency": ["99th percentile latency", "above the Server bound 1 ms", "*.Server.target_qps",
                            "fix the latency first"],
    "server_early_stopping": ["too few queries for early stopping", "*.Server.min_query_count"],
    "multistream_early_stopping": ["100 processed, at least 662 needed", "*.MultiStream.min_query_count = 662"],
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every case run now on the installed LoadGen (about 4 s), in a child process of its own."""
    output = tmp_path_factory.mktemp("loadgen")
    subprocess.run([sys.executable, str(MAKE_LOGS), str(output)], check=True, capture_output=True, timeout=120)
    return output


@pytest.fixture(params=["captured", "generated"])
def logs(request: pytest.FixtureRequest) -> Path:
    return CAPTURED if request.param == "captured" else request.getfixturevalue("generated")


def _read(folder: Path) -> tuple[LoadGenSummary, dict]:
    return parse_summary(folder / "mlperf_log_summary.txt"), parse_detail(folder / "mlperf_log_detail.txt")


@pytest.mark.parametrize("case", PERFORMANCE_CASES)
def test_summary_header_verdict_and_flags(logs: Path, case: str) -> None:
    scenario, valid, metric_name, failing = PERFORMANCE_CASES[case]
    summary, detail = _read(logs / case)
    assert (summary.scenario, summary.mode, summary.sut_name) == (scenario, "PerformanceOnly", "PySUT")
    assert summary.valid is valid
    assert detail["result_validity"] == ("VALID" if valid else "INVALID")
    assert summary.metric_name == metric_name
    for flag in FLAGS:
        if flag == "performance_constraints_satisfied" and scenario != "Server":
            assert summary.performance_constraints_satisfied is None  # printed for Server only
            continue
        assert getattr(summary, flag) is (flag not in failing), flag
        assert detail[DETAIL_FLAGS[flag]] is (flag not in failing), flag


@pytest.mark.parametrize("case", PERFORMANCE_CASES)
def test_summary_figures_match_the_detail_log(logs: Path, case: str) -> None:
    summary, detail = _read(logs / case)
    assert summary.min_latency_ns == detail["result_min_latency_ns"]
    assert summary.max_latency_ns == detail["result_max_latency_ns"]
    assert summary.mean_latency_ns == detail["result_mean_latency_ns"]
    assert sorted(summary.percentiles_ns) == [50.0, 90.0, 95.0, 97.0, 99.0, 99.9]
    for percentile, ns in summary.percentiles_ns.items():
        assert ns == detail[f"result_{percentile:.2f}_percentile_latency_ns"]
    assert summary.percentiles_ms[99.0] == pytest.approx(detail["result_99.00_percentile_latency_ns"] / 1e6)
    metric_in_detail = {
        "SingleStream": detail["result_90.00_percentile_latency_ns"],
        "MultiStream": detail["result_99.00_percentile_latency_ns"],
        "Offline": detail.get("result_samples_per_second"),
        "Server": detail.get("result_completed_samples_per_sec"),
    }[summary.scenario]
    # The summary prints throughputs rounded (6 significant digits or 2 decimals).
    assert summary.metric_value == pytest.approx(metric_in_detail, rel=1e-5, abs=0.01)
    if summary.metric_percentile is not None:
        assert summary.metric_value == summary.percentile_ns(summary.metric_percentile)
    if summary.scenario == "Server":
        assert float(summary.fields["Scheduled samples per second"]) == pytest.approx(
            detail["result_scheduled_samples_per_sec"], abs=0.01
        )


@pytest.mark.parametrize("case", PERFORMANCE_CASES)
def test_test_parameters_are_the_effective_settings(logs: Path, case: str) -> None:
    summary, detail = _read(logs / case)
    parameters = summary.test_parameters
    assert parameters["min_duration (ms)"] == detail["effective_min_duration_ms"]
    assert parameters["max_duration (ms)"] == detail["effective_max_duration_ms"]
    assert parameters["min_query_count"] == detail["effective_min_query_count"]
    assert parameters["max_query_count"] == detail["effective_max_query_count"]
    assert parameters["samples_per_query"] == detail["effective_samples_per_query"]
    assert parameters["target_latency (ns)"] == detail["effective_target_latency_ns"]
    assert parameters["target_qps"] == pytest.approx(detail["effective_target_qps"], rel=1e-5)
    assert parameters["performance_sample_count"] == detail["effective_performance_sample_count"] == 16
    assert detail["effective_scenario"] == detail["requested_scenario"] == summary.scenario
    assert detail["effective_test_mode"] == "PerformanceOnly"


def test_wrapped_bullets_are_joined_like_the_detail_log(logs: Path) -> None:
    summary, detail = _read(logs / "server_over_latency")
    assert summary.recommendations == ["Reduce target QPS to improve latency."]
    assert summary.early_stopping_notes[:2] == ["Run unsuccessful.", "Processed 100 queries."]
    assert summary.early_stopping_notes[2].endswith(
        "more queries, with the run being successful if every additional query were under latency."
    )
    assert len(summary.early_stopping_notes) == 3
    # The detail log holds the same text on one line, bullets and all.
    flat = " ".join(detail["early_stopping_result"].replace("*", " ").split())
    assert flat == " ".join(summary.early_stopping_notes)


def test_raw_fields_and_counts(logs: Path) -> None:
    summary, detail = _read(logs / "singlestream_too_few_queries")
    assert summary.fields["SUT name"] == "PySUT"
    assert summary.fields["Result is"] == "INVALID"
    assert summary.fields["Min queries satisfied"] == "NO"
    assert float(summary.fields["QPS w/ loadgen overhead"]) == pytest.approx(
        detail["result_qps_with_loadgen_overhead"], rel=1e-5
    )
    assert summary.error_count == 1 == len(detail["errors"])
    assert "Max query count reached" in detail["errors"][0]
    assert summary.warning_count == len(detail["warnings"])
    assert detail["result_query_count"] == 50


def test_accuracy_only_run_has_no_result(logs: Path) -> None:
    summary, detail = _read(logs / "singlestream_accuracy")
    assert summary.valid is None
    assert (summary.scenario, summary.mode, summary.metric_name, summary.metric_value) == (None,) * 4
    assert summary.percentiles_ns == {} and summary.test_parameters == {}
    assert summary.error_count == 0
    assert detail["effective_test_mode"] == "AccuracyOnly"
    assert detail["effective_scenario"] == "SingleStream"
    assert "result_validity" not in detail
    assert invalid_reasons(summary, detail) == []


def test_detail_keeps_requested_effective_and_version(logs: Path) -> None:
    detail = parse_detail(logs / "server_valid" / "mlperf_log_detail.txt")
    assert detail["loadgen_version"].startswith("6.0.17")
    assert detail["requested_server_target_qps"] == 1000
    assert detail["requested_server_target_latency_ns"] == 500_000_000
    assert detail["effective_target_latency_ns"] == 500_000_000
    assert detail["effective_target_latency_percentile"] == pytest.approx(0.99)
    assert detail["effective_min_duration_ms"] == 800
    assert detail["errors"] == []
    assert not any(key.startswith(("loadgen_file", "generic_", "power_")) for key in detail)


@pytest.mark.parametrize("case", PERFORMANCE_CASES)
def test_invalid_reasons_name_the_cause_and_the_setting(logs: Path, case: str) -> None:
    summary, detail = _read(logs / case)
    reasons = invalid_reasons(summary, detail)
    if summary.valid:
        assert reasons == []
        return
    text = "\n".join(reasons)
    for words in REASON_WORDS[case]:
        assert words in text, (words, reasons)
    # The summary's own Test Parameters lead to the same reasons when the detail log is not at hand.
    assert invalid_reasons(summary) == reasons


def test_reasons_quote_the_figures_of_the_run() -> None:
    summary, detail = _read(CAPTURED / "server_over_latency")
    assert summary.percentile_ns(99) == 24019603
    assert invalid_reasons(summary, detail)[0] == (
        "the 99th percentile latency 24 ms is above the Server bound 1 ms: lower the target QPS "
        "(--user-conf: *.Server.target_qps, now 100) or the batch size (--max-batchsize)"
    )
    # GNMT's Server percentile is the 97th: the reason follows the effective percentile.
    gnmt_like = dict(detail, effective_target_latency_percentile=0.97)
    assert invalid_reasons(summary, gnmt_like)[0].startswith("the 97th percentile latency 21.2 ms")

    summary, detail = _read(CAPTURED / "server_early_stopping")
    assert invalid_reasons(summary, detail) == [
        "too few queries for early stopping: 100 processed, at least 459 needed: raise min_query_count "
        "(--user-conf: *.Server.min_query_count = 459) or run longer (min_duration)"
    ]

    summary, detail = _read(CAPTURED / "offline_too_short")
    measured = round(summary.metric_value)
    assert f"*.Offline.target_qps = {measured}, the rate measured here, now 1000" in invalid_reasons(
        summary, detail
    )[0]


def test_multistream_bound_is_checked_here(logs: Path) -> None:
    summary, detail = _read(logs / "multistream_valid")
    p99 = summary.percentile_ns(99)
    assert summary.valid is True  # LoadGen checks no MultiStream bound
    assert invalid_reasons(summary, detail, latency_bound_ns=p99) == []
    assert invalid_reasons(summary, detail, latency_bound_ns=50_000_000) == []
    reasons = invalid_reasons(summary, detail, latency_bound_ns=p99 - 1000)
    assert len(reasons) == 1
    assert "99th percentile latency" in reasons[0] and "above the MultiStream bound" in reasons[0]
    assert "*.MultiStream.samples_per_query, now 4" in reasons[0]


def test_missing_log_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="mlperf_log_summary.txt does not exist"):
        parse_summary(tmp_path / "mlperf_log_summary.txt")
    with pytest.raises(UsageError, match="mlperf_log_detail.txt does not exist"):
        parse_detail(tmp_path / "mlperf_log_detail.txt")


def test_detail_line_cut_short_is_skipped(tmp_path: Path) -> None:
    lines = (CAPTURED / "offline_valid" / "mlperf_log_detail.txt").read_text().splitlines()
    cut = tmp_path / "mlperf_log_detail.txt"
    cut.write_text("\n".join([*lines[:-1], lines[-1][: len(lines[-1]) // 2]]) + "\n")
    full = parse_detail(CAPTURED / "offline_valid" / "mlperf_log_detail.txt")
    assert parse_detail(cut)["effective_min_duration_ms"] == full["effective_min_duration_ms"]
