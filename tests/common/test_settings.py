"""The v0.5 values of common/mlperf.conf, as this LoadGen reads them, and their layering."""

from __future__ import annotations

from pathlib import Path

import mlperf_loadgen as lg
import pytest

from common.errors import UsageError
from common.loadgen_log import parse_detail
from common.settings import V05_SEEDS, Overrides, build_settings

# The v0.5 table (issue 2 / v0.5 mlperf.conf): model -> performance sample count, Server and MultiStream bound ms
V05 = {
    "resnet50": (1024, 15, 50),
    "mobilenet": (1024, 10, 50),
    "ssd-resnet34": (64, 100, 66),
    "ssd-mobilenet": (256, 10, 50),
    "gnmt": (3903900, 250, 100),
}


@pytest.mark.parametrize("model", list(V05))
def test_v05_values_as_loadgen_reads_them(model: str) -> None:
    count, server_ms, multistream_ms = V05[model]
    tail = 0.97 if model == "gnmt" else 0.99
    many = 90112 if model == "gnmt" else 270336
    single = build_settings(model, "SingleStream", "performance")
    assert single.scenario == lg.TestScenario.SingleStream
    assert single.single_stream_target_latency_percentile == pytest.approx(0.90)
    assert single.min_query_count == 1024
    assert single.min_duration_ms == 60000
    assert single.performance_sample_count_override == count
    assert (single.qsl_rng_seed, single.sample_index_rng_seed, single.schedule_rng_seed) == V05_SEEDS
    multi = build_settings(model, "MultiStream", "performance")
    assert multi.multi_stream_target_latency_percentile == pytest.approx(tail)
    assert multi.multi_stream_expected_latency_ns == multistream_ms * 1_000_000
    assert multi.min_query_count == many
    server = build_settings(model, "Server", "performance")
    assert server.server_target_latency_percentile == pytest.approx(tail)
    assert server.server_target_latency_ns == server_ms * 1_000_000
    assert server.min_query_count == many
    assert server.min_duration_ms == 60000
    offline = build_settings(model, "Offline", "accuracy")
    assert offline.min_query_count == 24576  # this LoadGen's Offline sample count
    assert offline.mode == lg.TestMode.AccuracyOnly
    assert offline.scenario == lg.TestScenario.Offline


def test_user_conf_and_overrides_apply_on_top(tmp_path: Path) -> None:
    user = tmp_path / "user.conf"
    user.write_text("resnet50.Server.target_qps = 123\n*.Server.min_query_count = 100\n")
    settings = build_settings("resnet50", "Server", "performance", user_conf=user)
    assert settings.server_target_qps == 123
    assert settings.min_query_count == 100
    assert settings.server_target_latency_ns == 15_000_000  # untouched v0.5 value stays
    settings = build_settings("resnet50", "Server", "performance", user_conf=user,
                              overrides=Overrides(target_qps=7.5))
    assert settings.server_target_qps == 7.5


def test_bad_user_conf_and_scenario_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--user-conf"):
        build_settings("resnet50", "Server", "performance", user_conf=tmp_path / "missing.conf")
    with pytest.raises(UsageError, match="--scenario"):
        build_settings("resnet50", "Streaming", "performance")


def test_detail_log_shows_v05_values_as_effective(tmp_path: Path) -> None:
    """A short real LoadGen run with the v0.5 settings: its detail log names them as the effective ones."""
    settings = build_settings("ssd-resnet34", "Server", "performance")
    settings.server_target_qps = 1000
    settings.max_duration_ms = 300  # end early; the values checked below are not touched
    qsl = lg.ConstructQSL(64, 64, lambda s: None, lambda s: None)
    sut = lg.ConstructSUT(
        lambda qs: lg.QuerySamplesComplete([lg.QuerySampleResponse(q.id, 0, 0) for q in qs]), lambda: None)
    log = lg.LogSettings()
    log.log_output.outdir = str(tmp_path)
    log.enable_trace = False
    lg.StartTestWithLogSettings(sut, qsl, settings, log)
    lg.DestroySUT(sut)
    lg.DestroyQSL(qsl)
    detail = parse_detail(tmp_path / "mlperf_log_detail.txt")
    assert detail["effective_scenario"] == "Server"
    assert detail["effective_target_latency_ns"] == 100_000_000
    assert detail["effective_target_latency_percentile"] == pytest.approx(0.99)
    assert detail["effective_min_duration_ms"] == 60000
    assert detail["effective_min_query_count"] == 270336
    assert detail["effective_performance_sample_count"] == 64
    assert detail["effective_qsl_rng_seed"] == V05_SEEDS[0]
    assert detail["effective_sample_index_rng_seed"] == V05_SEEDS[1]
    assert detail["effective_schedule_rng_seed"] == V05_SEEDS[2]
