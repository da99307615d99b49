"""common.rules reads mlperf.conf as LoadGen does; the benchmarks' v0.5 facts come from it."""

from __future__ import annotations

from pathlib import Path

import mlperf_loadgen as lg
import pytest

from common.registry import benchmarks
from common.rules import MLPERF_CONF, lookup, parse_conf, v05_rule
from common.settings import SCENARIOS

MS = 1_000_000  # ns per ms: the conf gives latencies in ms, TestSettings holds ns


def loadgen_reads(conf: Path, model: str, scenario: str) -> lg.TestSettings:
    """A TestSettings after LoadGen's own reading of ``conf`` (on top of its embedded conf)."""
    settings = lg.TestSettings()
    assert settings.FromConfig(str(conf), model, scenario, 1) == 0
    return settings


CASES = [(name, scenario) for name in benchmarks() for scenario in SCENARIOS]


@pytest.mark.parametrize(("model", "scenario"), CASES)
def test_each_value_equals_what_loadgen_loads(model: str, scenario: str) -> None:
    loaded = loadgen_reads(MLPERF_CONF, model, scenario)
    # LoadGen reads the Server and MultiStream keys under those scenario names whatever the scenario run
    assert v05_rule(model, "Server", "target_latency") * MS == loaded.server_target_latency_ns
    assert v05_rule(model, "MultiStream", "target_latency") * MS == loaded.multi_stream_expected_latency_ns
    assert v05_rule(model, "Server", "target_latency_percentile") / 100 == pytest.approx(
        loaded.server_target_latency_percentile)
    assert v05_rule(model, "MultiStream", "target_latency_percentile") / 100 == pytest.approx(
        loaded.multi_stream_target_latency_percentile)
    assert v05_rule(model, scenario, "performance_sample_count_override") == loaded.performance_sample_count_override


@pytest.mark.parametrize(("model", "scenario"), CASES)
def test_benchmark_facts_are_the_values_loadgen_runs_with(model: str, scenario: str) -> None:
    info = benchmarks()[model].info
    loaded = loadgen_reads(MLPERF_CONF, model, scenario)
    assert info.server_latency_ms * MS == loaded.server_target_latency_ns
    assert info.multistream_latency_ms * MS == loaded.multi_stream_expected_latency_ns
    assert info.latency_percentile / 100 == pytest.approx(loaded.server_target_latency_percentile)
    assert info.latency_percentile / 100 == pytest.approx(loaded.multi_stream_target_latency_percentile)
    assert info.performance_sample_count == loaded.performance_sample_count_override
    assert isinstance(info.performance_sample_count, int) and isinstance(info.server_latency_ms, float)


WILDCARDS = """\
# every model, every scenario
*.*.performance_sample_count_override = 7
m.*.performance_sample_count_override = 8
*.Server.performance_sample_count_override = 9

m.Offline.performance_sample_count_override = 10
m.Offline.performance_sample_count_override = 11
"""


@pytest.mark.parametrize(("model", "scenario", "expected"), [
    ("n", "SingleStream", 7),  # only *.* applies
    ("m", "SingleStream", 8),  # model.* before *.*
    ("m", "Server", 9),  # *.scenario before model.*
    ("m", "Offline", 11),  # the exact key, its later line
])
def test_wildcards_and_overrides_resolve_as_in_loadgen(tmp_path: Path, model: str, scenario: str,
                                                       expected: int) -> None:
    conf = tmp_path / "rules.conf"
    conf.write_text(WILDCARDS)
    assert v05_rule(model, scenario, "performance_sample_count_override", conf) == expected
    assert loadgen_reads(conf, model, scenario).performance_sample_count_override == expected


def test_comments_numbers_and_missing_keys() -> None:
    rules = parse_conf("gnmt.Server.target_latency = 250  # ms\n  # indented comment\n"
                       "*.Server.target_qps = 1.5\n*.*.seed = 0x10\n")
    assert rules == {"gnmt.Server.target_latency": 250, "*.Server.target_qps": 1.5, "*.*.seed": 16}
    assert isinstance(rules["gnmt.Server.target_latency"], int)
    assert lookup(rules, "resnet50", "Server", "target_qps") == 1.5
    with pytest.raises(KeyError, match="resnet50.Server.target_latency"):
        lookup(rules, "resnet50", "Server", "target_latency")


@pytest.mark.parametrize(("line", "message"), [
    ("resnet50.Server.target_latency 15", "expected 'model.scenario.key = value'"),
    ("resnet50.target_latency = 15", "expected 'model.scenario.key = value'"),
    ("resnet50.Server.target_latency =", "expected 'model.scenario.key = value'"),
    ("resnet50.Server.target_latency = fast", "'fast' is not a number"),
])
def test_a_line_that_is_no_rule_is_named(line: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"my.conf:2: {message}"):
        parse_conf(f"# ok\n{line}\n", "my.conf")
