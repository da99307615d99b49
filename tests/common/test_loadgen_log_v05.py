"""2019's LoadGen logs (the published v0.5 results, data/loadgen_v05/README.md) read as today's are.

Every figure asserted here is in the real logs: the settings each submitter's run logged, the QSL sizes,
the errors and warnings LoadGen flagged. The summary of each run must agree with its detail log.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from common.effective_settings import read_effective, settings_problems
from common.errors import UsageError
from common.loadgen_log import V05_FORMAT, invalid_reasons, parse_detail, parse_summary
from tools.submission.evidence import read_phase, summary_disagreements

DATA = Path(__file__).parent / "data" / "loadgen_v05"
SEEDS = {"qsl_rng_seed": 3133965575612453542, "sample_index_rng_seed": 665484352860916858,
         "schedule_rng_seed": 3622009729038561421}
# folder: (scenario, benchmark, samples_per_query, min_query_count, QSL total, latency percentile, metric)
RUNS = {
    "offline": ("Offline", "resnet50", 1024000, 1, 50000, None, ("Samples per second", 14446.6)),
    "server": ("Server", "resnet50", 1, 960000, 50000, 0.99, ("Scheduled samples per second", 16014.29)),
    "singlestream": ("SingleStream", "resnet50", 1, 1024, 1024, 0.9, ("90th percentile latency (ns)", 8951407)),
    "multistream": ("MultiStream", "resnet50", 700, 270336, 50000, 0.99, ("Samples per query", 700)),
}


@pytest.mark.parametrize("folder", RUNS)
def test_v05_detail_settings_read_under_todays_names(folder: str) -> None:
    scenario, _, per_query, min_queries, total, percentile, _ = RUNS[folder]
    detail = parse_detail(DATA / folder / "mlperf_log_detail.txt")
    assert detail["format"] == V05_FORMAT and detail["finished"] is True
    assert detail["loadgen_version"].startswith(".5a1 @ ")
    assert (detail["effective_scenario"], detail["effective_test_mode"]) == (scenario, "PerformanceOnly")
    assert detail["requested_scenario"] == scenario
    assert (detail["effective_samples_per_query"], detail["effective_min_query_count"]) == (per_query, min_queries)
    assert (detail["effective_min_duration_ms"], detail["effective_max_duration_ms"]) == (60000, 0)
    assert detail["qsl_reported_total_count"] == total
    assert {key: detail[f"effective_{key}"] for key in SEEDS} == SEEDS
    if percentile is not None:
        assert detail["effective_target_latency_percentile"] == pytest.approx(percentile)
    assert detail["effective_performance_issue_unique"] is False


@pytest.mark.parametrize("folder", RUNS)
def test_v05_summary_agrees_with_its_detail_log(folder: str) -> None:
    scenario, _, _, _, _, _, (metric, value) = RUNS[folder]
    summary = parse_summary(DATA / folder / "mlperf_log_summary.txt")
    assert (summary.scenario, summary.valid, summary.metric_name) == (scenario, True, metric)
    assert summary.metric_value == pytest.approx(value)
    detail = parse_detail(DATA / folder / "mlperf_log_detail.txt")
    assert summary_disagreements(summary, detail) == []
    assert read_phase(DATA / folder).problems == []


@pytest.mark.parametrize("folder", RUNS)
def test_v05_run_settings_are_judged_as_v05_runs(folder: str) -> None:
    """The runs the r0.5 checker accepted: what the settings check names is what is really in the logs."""
    scenario, benchmark, *_ = RUNS[folder]
    effective = read_effective(DATA / folder)
    problems = settings_problems(effective, benchmark, scenario, "performance")
    audit_read = folder in ("offline", "multistream")  # Habana's result runs read an audit.config
    assert problems == (["audit.config in force: LoadGen read an audit.config from the working directory; a "
                         "submission run is made without one (it may override any setting, and the log does not "
                         "say which)"] if audit_read else [])
    summary = parse_summary(DATA / folder / "mlperf_log_summary.txt")
    detail = parse_detail(DATA / folder / "mlperf_log_detail.txt")
    bound = 50e6 if scenario == "MultiStream" else None
    assert invalid_reasons(summary, detail, latency_bound_ns=bound) == []


def test_v05_multistream_bound_is_its_target_latency() -> None:
    assert read_effective(DATA / "multistream")["latency_bound_ms"] == 50.0
    assert read_effective(DATA / "server")["latency_bound_ms"] == 15.0


def test_v05_offline_ran_out_of_queries_counts_only_when_the_test_was_short(tmp_path: Path) -> None:
    """Habana's Offline run logged LoadGen 0.5's 'Ran out of generated queries' ERROR, yet it spans 70.9 s
    (POWER_BEGIN 10:03:00.670 to POWER_END 10:04:11.552) of the 60 s minimum: no defect. Shortened to
    10 s, the same error is one."""
    detail = parse_detail(DATA / "offline" / "mlperf_log_detail.txt")
    assert detail["errors"] == ["Ending early: Ran out of generated queries to issue before the minimum query "
                                "count and test duration were reached."]
    assert detail["test_span_s"] == pytest.approx(70.882)
    assert read_effective(DATA / "offline")["errors"] == []
    short = tmp_path / "short"
    shutil.copytree(DATA / "offline", short)
    text = (short / "mlperf_log_detail.txt").read_bytes().replace(b"10-16-2019 10:04:11.552",
                                                                  b"10-16-2019 10:03:10.670")
    (short / "mlperf_log_detail.txt").write_bytes(text)
    assert read_effective(short)["errors"] == detail["errors"]


def test_v05_accuracy_phase_and_its_qsl() -> None:
    detail = parse_detail(DATA / "singlestream_accuracy" / "mlperf_log_detail.txt")
    assert (detail["effective_test_mode"], detail["qsl_reported_total_count"]) == ("AccuracyOnly", 50000)
    assert detail["finished"] is True
    summary = parse_summary(DATA / "singlestream_accuracy" / "mlperf_log_summary.txt")
    assert (summary.valid, summary.error_count, summary.warning_count) == (None, 0, 14)
    assert read_phase(DATA / "singlestream_accuracy").problems == []


def test_v05_detail_with_nul_bytes_is_read() -> None:
    raw = (DATA / "multistream" / "mlperf_log_detail.txt").read_bytes()
    assert raw.count(b"\x00") == 2  # the SUT name as Habana's harness passed it
    assert parse_detail(DATA / "multistream" / "mlperf_log_detail.txt")["effective_scenario"] == "MultiStream"


def test_detail_log_of_garbage_is_refused_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "mlperf_log_detail.txt"
    path.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(UsageError, match=f"{path} is not a LoadGen detail log"):
        parse_detail(path)


@pytest.mark.parametrize("folder", ["singlestream", "server"])
def test_v05_detail_cut_after_its_settings_is_unfinished(folder: str, tmp_path: Path) -> None:
    lines = (DATA / folder / "mlperf_log_detail.txt").read_text().splitlines(keepends=True)
    end = next(n for n, line in enumerate(lines) if "Starting performance mode" in line)
    shutil.copytree(DATA / folder, tmp_path / folder)
    (tmp_path / folder / "mlperf_log_detail.txt").write_text("".join(lines[:end]))
    detail = parse_detail(tmp_path / folder / "mlperf_log_detail.txt")
    assert detail["effective_min_duration_ms"] == 60000 and detail["finished"] is False
    assert read_phase(tmp_path / folder).problems == [
        "mlperf_log_detail.txt ends before LoadGen finished the test (no log contention counters after the "
        "settings): the log is cut short or the run died; nothing in it is a result"]


def test_v05_summary_duration_against_the_logged_span(tmp_path: Path) -> None:
    """2019's detail log states no result, but it stamps the test's span (Qualcomm's: 60.013 s); a summary
    saying the minimum duration was met over a 30 s span disagrees with it."""
    assert parse_detail(DATA / "singlestream" / "mlperf_log_detail.txt")["test_span_s"] == pytest.approx(60.013)
    shutil.copytree(DATA / "singlestream", tmp_path / "run")
    path = tmp_path / "run" / "mlperf_log_detail.txt"
    path.write_bytes(path.read_bytes().replace(b"08-06-2019 10:39:07.604", b"08-06-2019 10:38:37.604"))
    assert read_phase(tmp_path / "run").problems == [
        "mlperf_log_summary.txt disagrees with mlperf_log_detail.txt: min duration satisfied: Yes in the summary, "
        "the detail log's POWER_BEGIN to POWER_END span is 30.013 s, under the 60 s minimum"]
