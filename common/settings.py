"""LoadGen TestSettings: the v0.5 conf, then the user's conf, then command-line overrides."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mlperf_loadgen as lg

from common.choices import SCENARIO_NAMES
from common.errors import UsageError
from common.rules import MLPERF_CONF, v05_rule

SEED_KEYS = ("qsl_rng_seed", "sample_index_rng_seed", "schedule_rng_seed")
V05_SEEDS = tuple(int(v05_rule("*", "*", key)) for key in SEED_KEYS)  # mlperf.conf: the same for every model

SCENARIOS = {name: getattr(lg.TestScenario, name) for name in SCENARIO_NAMES}
MODES = {"accuracy": lg.TestMode.AccuracyOnly, "performance": lg.TestMode.PerformanceOnly}

# The TestSettings fields a conf file can set; snapshots copy exactly these.
_FIELDS = tuple(name for name in dir(lg.TestSettings()) if not name.startswith("_") and name != "FromConfig")


@dataclass(frozen=True)
class Overrides:
    """Settings given on the command line (None leaves the conf's value)."""

    target_qps: float | None = None  # Server target and Offline expected QPS
    samples_per_query: int | None = None  # MultiStream
    min_duration_ms: int | None = None
    min_query_count: int | None = None
    max_query_count: int | None = None
    performance_sample_count: int | None = None


# Quick mode: seconds, small counts (the runner sets them). Not valid for submission (the summary says so).
QUICK_MAX_DURATION_MS = 60000


def _copy(source: lg.TestSettings) -> lg.TestSettings:
    target = lg.TestSettings()
    for name in _FIELDS:
        setattr(target, name, getattr(source, name))
    return target


_LOADED: dict[tuple[str, str, str], lg.TestSettings] = {}


def _from_config(path: Path, model: str, scenario: str) -> lg.TestSettings:
    """FromConfig once per (file, model, scenario) and process; later calls get a copy."""
    key = (str(path), model, scenario)
    if key not in _LOADED:
        settings = lg.TestSettings()
        if settings.FromConfig(str(path), model, scenario, 1) != 0:
            raise UsageError(f"{path}: unreadable for LoadGen (lines: 'model.scenario.key = value')")
        _LOADED[key] = settings
    return _copy(_LOADED[key])


def build_settings(
    model: str,
    scenario: str,
    mode: str,
    user_conf: Path | None = None,
    overrides: Overrides = Overrides(),
    quick: bool = False,
) -> lg.TestSettings:
    """TestSettings for one LoadGen run, with the v0.5 values in force unless overridden."""
    if scenario not in SCENARIOS:
        raise UsageError(f"--scenario {scenario}: choose one of {', '.join(SCENARIOS)}")
    settings = _from_config(MLPERF_CONF, model, scenario)
    if user_conf is not None:
        if not Path(user_conf).is_file():
            raise UsageError(f"--user-conf {user_conf}: no such file")
        # FromConfig on a loaded TestSettings changes only the keys the file names.
        if settings.FromConfig(str(user_conf), model, scenario, 1) != 0:
            raise UsageError(f"--user-conf {user_conf}: unreadable for LoadGen (lines: 'model.scenario.key = value')")
    # This LoadGen ignores seeds outside its embedded conf: set the v0.5 seeds explicitly.
    settings.qsl_rng_seed, settings.sample_index_rng_seed, settings.schedule_rng_seed = V05_SEEDS
    settings.scenario = SCENARIOS[scenario]  # FromConfig never sets the scenario
    settings.mode = MODES[mode]
    if quick:
        settings.min_duration_ms = 0
        settings.max_duration_ms = QUICK_MAX_DURATION_MS
        settings.min_query_count = 1
    _apply(settings, overrides)
    return settings


def _apply(settings: lg.TestSettings, overrides: Overrides) -> None:
    if overrides.target_qps is not None:
        if overrides.target_qps <= 0:
            raise UsageError(f"--target-qps {overrides.target_qps}: must be above 0")
        settings.server_target_qps = overrides.target_qps
        settings.offline_expected_qps = overrides.target_qps
    if overrides.samples_per_query is not None:
        if overrides.samples_per_query < 1:
            raise UsageError(f"--samples-per-query {overrides.samples_per_query}: must be at least 1")
        settings.multi_stream_samples_per_query = overrides.samples_per_query
    if overrides.min_duration_ms is not None:
        settings.min_duration_ms = overrides.min_duration_ms
    if overrides.min_query_count is not None:
        settings.min_query_count = overrides.min_query_count
    if overrides.max_query_count is not None:
        settings.max_query_count = overrides.max_query_count
    if overrides.performance_sample_count is not None:
        settings.performance_sample_count_override = overrides.performance_sample_count


def latency_bound_ms(settings: lg.TestSettings, scenario: str) -> float | None:
    """The latency bound in force for a scenario (None where the scenario has none)."""
    if scenario == "Server":
        return settings.server_target_latency_ns / 1e6
    if scenario == "MultiStream":
        return settings.multi_stream_expected_latency_ns / 1e6
    return None


def latency_percentile(settings: lg.TestSettings, scenario: str) -> float:
    """The percentile (0..100) that the scenario's metric or bound uses."""
    return 100 * {
        "SingleStream": settings.single_stream_target_latency_percentile,
        "MultiStream": settings.multi_stream_target_latency_percentile,
        "Server": settings.server_target_latency_percentile,
        "Offline": settings.single_stream_target_latency_percentile,
    }[scenario]


def log_settings(outdir: Path) -> lg.LogSettings:
    """LoadGen's logs into ``outdir`` (made if missing), nothing copied to stdout, no trace file."""
    outdir.mkdir(parents=True, exist_ok=True)
    logs = lg.LogSettings()
    logs.log_output.outdir = str(outdir)
    logs.log_output.copy_summary_to_stdout = False
    logs.enable_trace = False
    return logs
