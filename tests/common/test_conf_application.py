"""The harness sets the v0.5 conf and the user's conf on TestSettings itself, exactly as LoadGen's FromConfig
would, so that LoadGen never sees a second conf file ("Multiple conf files are used" is a LoadGen error)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from common.errors import UsageError
from common.registry import benchmark_names
from common.rules import MLPERF_CONF
from common.samples import make_all_samples
from common.settings import _BY_SCENARIO, _PLAIN, CONF_KEYS, SCENARIOS, build_settings

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ("qsl_rng_seed", "sample_index_rng_seed", "schedule_rng_seed")
# A user conf that sets every key the harness knows to a value unlike the v0.5 one.
EVERY_KEY = {
    "min_duration": 1234, "max_duration": 98765, "min_query_count": 77, "max_query_count": 555,
    "performance_sample_count_override": 33, "accuracy_log_rng_seed": 456, "accuracy_log_probability": 0.25,
    "accuracy_log_sampling_target": 12, "print_timestamps": 1, "performance_issue_unique": 1,
    "performance_issue_same": 1, "performance_issue_same_index": 3, "samples_per_query": 6,
    "max_async_queries": 3, "coalesce_queries": 1, "target_latency": 42, "target_latency_percentile": 95,
    "target_qps": 321.5,
}


# FromConfig takes these only from LoadGen's embedded conf; the harness honours them from any conf (the
# v0.5 seeds, and the audit tests' sampling probability).
EMBEDDED_ONLY = {*SEEDS, "accuracy_log_probability"}


def _fields(scenario: str) -> set[str]:
    """The TestSettings fields a conf sets in ``scenario`` that FromConfig takes from any conf."""
    found = {field for field, _ in _PLAIN.values()}
    found.update(by[scenario][0] for by in _BY_SCENARIO.values() if scenario in by)
    return found - EMBEDDED_ONLY


_FROM_CONFIG = """
import json, sys
import mlperf_loadgen as lg
found = []
for model, scenario, confs, fields in json.load(sys.stdin):
    settings = lg.TestSettings()
    for conf in confs:
        assert settings.FromConfig(conf, model, scenario, 1) == 0, conf
    found.append({field: getattr(settings, field) for field in fields})
json.dump(found, sys.stdout)
"""


def _from_config(model: str, scenario: str, *confs: Path) -> dict[str, float]:
    """The fields FromConfig sets from ``confs``, in a process of its own: LoadGen counts FromConfig calls
    per process and logs "Multiple conf files are used" as an error in every later test of this one."""
    request = [[model, scenario, [str(conf) for conf in confs], sorted(_fields(scenario))]]
    done = subprocess.run([sys.executable, "-c", _FROM_CONFIG], input=json.dumps(request), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)[0]


def test_every_key_is_known() -> None:
    assert set(EVERY_KEY) | set(SEEDS) == set(CONF_KEYS)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("model", benchmark_names())
def test_v05_conf_as_fromconfig_sets_it(model: str, scenario: str) -> None:
    ours = build_settings(model, scenario, "performance")
    theirs = _from_config(model, scenario, MLPERF_CONF)
    for field in sorted(_fields(scenario)):
        assert getattr(ours, field) == pytest.approx(theirs[field]), field


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_user_conf_as_fromconfig_sets_it(tmp_path: Path, scenario: str) -> None:
    user = tmp_path / "user.conf"
    user.write_text("".join(f"resnet50.{scenario}.{key} = {value}\n" for key, value in EVERY_KEY.items()))
    ours = build_settings("resnet50", scenario, "performance", user_conf=user)
    theirs = _from_config("resnet50", scenario, MLPERF_CONF, user)
    for field in sorted(_fields(scenario)):
        assert getattr(ours, field) == pytest.approx(theirs[field]), field
    assert ours.min_duration_ms == 1234 and ours.performance_issue_same_index == 3
    assert ours.accuracy_log_probability == 0.25  # honoured, where FromConfig would keep LoadGen's own


def test_unknown_key_and_bad_line_are_one_clear_error(tmp_path: Path) -> None:
    user = tmp_path / "user.conf"
    user.write_text("*.Server.target_qsp = 10\n")
    with pytest.raises(UsageError, match=r"--user-conf .*user.conf: unknown LoadGen key\(s\) target_qsp"):
        build_settings("resnet50", "Server", "performance", user_conf=user)
    user.write_text("target_qps 10\n")
    with pytest.raises(UsageError, match=r"--user-conf .*user.conf:1: expected 'model.scenario.key = value'"):
        build_settings("resnet50", "Server", "performance", user_conf=user)


@pytest.mark.parametrize(("line", "message"), [
    ("*.Server.target_qps = 0", "target_qps = 0: must be above 0"),
    ("*.Server.target_qps = -5", "target_qps = -5: must be above 0"),
    ("*.MultiStream.samples_per_query = 0", "samples_per_query = 0: must be at least 1"),
    ("*.Server.target_latency = -10", "target_latency = -10: must be above 0"),
    ("*.Server.target_latency_percentile = 150", "target_latency_percentile = 150: must be at most 100"),
])
def test_values_loadgen_cannot_run_with_are_refused(tmp_path: Path, line: str, message: str) -> None:
    user = tmp_path / "user.conf"
    user.write_text(line + "\n")
    scenario = line.split(".")[1]
    with pytest.raises(UsageError, match=f"--user-conf {user}: {message}"):
        build_settings("resnet50", scenario, "performance", user_conf=user)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_runs_with_a_user_conf_log_no_loadgen_error(tmp_path_factory, scenario: str) -> None:
    """A normal (not quick) run with --user-conf, both modes: the detail logs hold no error at all.

    In a process of its own: LoadGen counts FromConfig calls per process, and this test process made some.
    """
    root = tmp_path_factory.mktemp(scenario)
    data = make_all_samples(root / "samples", ["resnet50"])["resnet50"]
    user = root / "user.conf"
    user.write_text("*.*.min_duration = 0\n*.*.min_query_count = 32\n*.Offline.min_query_count = 64\n"
                    "*.Server.target_qps = 200\n")
    out = root / "out"
    done = subprocess.run([sys.executable, "-m", "tools.cli", "run", "resnet50", "--backend", "null", "--both",
                           "--scenario", scenario, "--dataset-path", str(data), "--output", str(out),
                           "--cache-dir", str(root / "cache"), "--user-conf", str(user)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    # 1: a busy machine can miss the Server bound (a latency FAIL); what this test is about is LoadGen's errors
    assert done.returncode in (0, 1) and not done.stderr.strip(), done.stderr
    for phase in ("accuracy", "performance"):
        detail = (out / phase / "mlperf_log_detail.txt").read_text()
        assert '"is_error": true' not in detail
        assert "Multiple conf files" not in detail
    assert "LoadGen" in done.stdout and "error" not in done.stdout.lower()
