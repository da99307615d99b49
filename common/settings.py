"""LoadGen TestSettings: the v0.5 conf, then the user's conf, then command-line overrides, set on the
TestSettings by the harness (LoadGen's FromConfig is never called: see apply_conf)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import mlperf_loadgen as lg

from common.choices import SCENARIO_NAMES
from common.errors import UsageError
from common.rules import Value, lookup, parse_conf, rules_file, v05_rule

SEED_KEYS = ("qsl_rng_seed", "sample_index_rng_seed", "schedule_rng_seed")
V05_SEEDS = tuple(int(v05_rule("*", "*", key)) for key in SEED_KEYS)  # mlperf.conf: the same for every model

SCENARIOS = {name: getattr(lg.TestScenario, name) for name in SCENARIO_NAMES}
MODES = {"accuracy": lg.TestMode.AccuracyOnly, "performance": lg.TestMode.PerformanceOnly}


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

# conf key -> the TestSettings field it sets, and a unit factor. LoadGen counts every FromConfig call in
# the process and logs "Multiple conf files are used" as an error from the second one on (even on
# another TestSettings), so the harness reads the v0.5 conf and the user's conf itself and sets the
# fields here; tests compare the result with what FromConfig gives, key by key.
_PLAIN = {
    "min_duration": ("min_duration_ms", 1),
    "max_duration": ("max_duration_ms", 1),
    "min_query_count": ("min_query_count", 1),
    "max_query_count": ("max_query_count", 1),
    "performance_sample_count_override": ("performance_sample_count_override", 1),
    "qsl_rng_seed": ("qsl_rng_seed", 1),
    "sample_index_rng_seed": ("sample_index_rng_seed", 1),
    "schedule_rng_seed": ("schedule_rng_seed", 1),
    "accuracy_log_rng_seed": ("accuracy_log_rng_seed", 1),
    "accuracy_log_probability": ("accuracy_log_probability", 1),
    "accuracy_log_sampling_target": ("accuracy_log_sampling_target", 1),
    "print_timestamps": ("print_timestamps", 1),
    "performance_issue_unique": ("performance_issue_unique", 1),
    "performance_issue_same": ("performance_issue_same", 1),
    "performance_issue_same_index": ("performance_issue_same_index", 1),
}
# keys whose field depends on the scenario
_BY_SCENARIO = {
    "target_latency": {"SingleStream": ("single_stream_expected_latency_ns", 1e6),
                       "MultiStream": ("multi_stream_expected_latency_ns", 1e6),
                       "Server": ("server_target_latency_ns", 1e6)},
    "target_latency_percentile": {"SingleStream": ("single_stream_target_latency_percentile", 0.01),
                                  "MultiStream": ("multi_stream_target_latency_percentile", 0.01),
                                  "Server": ("server_target_latency_percentile", 0.01)},
    "target_qps": {"Server": ("server_target_qps", 1), "Offline": ("offline_expected_qps", 1)},
    "samples_per_query": {"MultiStream": ("multi_stream_samples_per_query", 1)},
    "max_async_queries": {"Server": ("server_max_async_queries", 1)},
    "coalesce_queries": {"Server": ("server_coalesce_queries", 1)},
}
CONF_KEYS = tuple(_PLAIN) + tuple(_BY_SCENARIO)


def conf_values(path: Path, model: str, scenario: str, option: str) -> dict[str, Value]:
    """The keys a conf file sets for ``model`` in ``scenario`` (its wildcards resolved as LoadGen does)."""
    try:
        rules = parse_conf(Path(path).read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{option} {path}: unreadable ({exc})") from exc
    except ValueError as exc:
        raise UsageError(f"{option} {exc} (lines: 'model.scenario.key = value')") from exc
    unknown = sorted({key.rsplit(".", 1)[1] for key in rules} - set(CONF_KEYS))
    if unknown:
        raise UsageError(f"{option} {path}: unknown LoadGen key(s) {', '.join(unknown)}; known: {', '.join(CONF_KEYS)}")
    found = {}
    for key in CONF_KEYS:
        try:
            found[key] = lookup(rules, model, scenario, key)
        except KeyError:
            continue
    return found


# What LoadGen cannot run with (a Server target of 0 QPS grows its queue without end, 0 samples per query
# aborts it, a negative bound wraps around): conf key -> (the smallest value allowed, whether it may equal it)
_LOWER_BOUNDS = {
    "target_qps": (0, False), "samples_per_query": (1, True), "target_latency": (0, False),
    "target_latency_percentile": (0, False), "min_duration": (0, True), "max_duration": (0, True),
    "min_query_count": (0, True), "max_query_count": (0, True), "performance_sample_count_override": (0, True),
    "max_async_queries": (0, True), "accuracy_log_probability": (0, True),
}


def _check_values(values: dict[str, Value], source: str) -> None:
    """One clear error for a value LoadGen cannot run with."""
    for key, (low, inclusive) in _LOWER_BOUNDS.items():
        value = values.get(key)
        if value is not None and (value < low or (value == low and not inclusive)):
            bound = f"at least {low}" if inclusive else f"above {low}"
            raise UsageError(f"{source}: {key} = {value:g}: must be {bound}")
    if values.get("target_latency_percentile", 0) > 100:
        raise UsageError(f"{source}: target_latency_percentile = {values['target_latency_percentile']:g}: "
                         f"must be at most 100")
    if values.get("accuracy_log_probability", 0) > 1:
        raise UsageError(f"{source}: accuracy_log_probability = {values['accuracy_log_probability']:g}: "
                         f"must be at most 1")


@cache
def _v05_values(model: str, scenario: str) -> dict[str, Value]:
    """mlperf.conf's keys for a model and scenario, read once per process (the user's conf is read each
    time: it may change between runs)."""
    return conf_values(rules_file(), model, scenario, "v0.5 conf")


def apply_conf(settings: lg.TestSettings, values: dict[str, Value], scenario: str) -> None:
    """Set the fields that ``values`` (from :func:`conf_values`) name, as FromConfig would."""
    for key, value in values.items():
        field, factor = _PLAIN.get(key) or _BY_SCENARIO[key].get(scenario, (None, 1))
        if field is None:
            continue  # e.g. target_qps in SingleStream: LoadGen has no field for it there
        current = getattr(settings, field)
        scaled = value * factor
        setattr(settings, field, type(current)(scaled) if not isinstance(current, bool) else bool(scaled))


def build_settings(
    model: str,
    scenario: str,
    mode: str,
    user_conf: Path | None = None,
    overrides: Overrides = Overrides(),
    quick: bool = False,
) -> lg.TestSettings:
    """TestSettings for one LoadGen run: the v0.5 conf, the user's conf, then the overrides."""
    if scenario not in SCENARIOS:
        raise UsageError(f"--scenario {scenario}: choose one of {', '.join(SCENARIOS)}")
    settings = lg.TestSettings()
    apply_conf(settings, _v05_values(model, scenario), scenario)
    if user_conf is not None:
        if not Path(user_conf).is_file():
            raise UsageError(f"--user-conf {user_conf}: no such file")
        values = conf_values(Path(user_conf), model, scenario, "--user-conf")
        _check_values(values, f"--user-conf {user_conf}")
        apply_conf(settings, values, scenario)
    settings.scenario = SCENARIOS[scenario]
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
