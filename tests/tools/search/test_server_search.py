"""--find-peak-qps end to end on the real LoadGen: a simulated device of known service time, the trial cap,
the record and plot, Offline's expected QPS, and the command line's refusals."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import common.runner as runner
from common.backends.base import Backend
from common.benchmark import ModelIO
from common.runner import RunConfig
from tools.cli import main
from tools.search.options import SearchOptions
from tools.search.server import find_peak_qps

SERVICE_S = 0.010  # the simulated device serves one sample in 10 ms: at most 100 samples/s
PEAK_QPS = 1 / SERVICE_S


class DeviceBackend(Backend):
    """One simulated device that serves each sample in SERVICE_S, one sample after another, whichever
    worker asks: its capacity is exactly 1 / SERVICE_S, and with two workers the harness's own time per
    sample overlaps the device's (as a host feeding a GPU) instead of adding to it."""

    name = "onnxruntime"

    def __init__(self) -> None:
        super().__init__(threads=1)
        self.lock = threading.Lock()
        self.free_at = 0.0
        self.samples = 0

    def load(self, model_path: Path | None, io: ModelIO) -> None:
        self.io = io

    def predict(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        count = len(feeds["x"])
        with self.lock:
            self.samples += count
            self.free_at = max(time.monotonic(), self.free_at) + SERVICE_S * count
            done = self.free_at
        time.sleep(max(0.0, done - time.monotonic()))
        return [feeds["x"]]


@pytest.fixture
def device(synthetic, monkeypatch: pytest.MonkeyPatch) -> DeviceBackend:
    backend = DeviceBackend()
    monkeypatch.setattr("common.session.make_backend", lambda *a, **k: backend)
    return backend


def _search(tmp_path: Path, scenario: str, conf: str, options: SearchOptions, **config) -> tuple[dict, Path]:
    """find_peak_qps on the synthetic benchmark with ``conf`` as the user's conf; the outcome, the output."""
    user = tmp_path / "user.conf"
    user.write_text(conf)
    out = tmp_path / "search"
    cfg = RunConfig("resnet50", "onnxruntime", scenario, dataset_path=tmp_path, output=out, user_conf=user, **config)
    return find_peak_qps(cfg, options), out


def test_server_peak_is_the_device_rate_within_ten_percent(device, tmp_path: Path, capsys) -> None:
    """The analytic peak is the device's 100 samples/s. A 90th-percentile bound of 400 ms (40 services) is met
    up to a few percent under it (a queue of one server with constant service waits ~rho/(2(1-rho)) services
    on average: 9.5 at 95%) and missed a few percent over it (5% too many queries pile up 0.2 s of work in
    a 4 s trial); the search finds that edge in its 8 runs and confirms it in a full-length run LoadGen
    calls VALID, 5% lower if the first full run misses."""
    conf = ("*.Server.target_latency = 400\n*.Server.target_latency_percentile = 90\n"
            "*.Server.min_duration = 5000\n*.Server.min_query_count = 300\n")
    outcome, out = _search(tmp_path, "Server", conf, SearchOptions(max_trials=8, trial_seconds=4, precision=0.05),
                           workers=2)
    printed = capsys.readouterr().out
    assert outcome["confirmed"] is True, printed
    assert abs(outcome["target_qps"] - PEAK_QPS) <= 0.1 * PEAK_QPS, printed
    assert outcome["runs"] <= 8 and len(outcome["trials"]) == outcome["runs"]
    final = outcome["trials"][-1]
    assert final["kind"] == "full" and final["loadgen_valid"] is True and final["target_qps"] == outcome["target_qps"]
    assert all(t["percentile"] == "p90" and t["bound_ms"] == 400 for t in outcome["trials"])
    # each short trial's verdict is its latency against the bound, as LoadGen measured it
    for trial in outcome["trials"]:
        assert trial["meets_bound"] == (trial["latency_ms"] <= 400)
        assert trial["achieved_qps"] > 0
    short = [t for t in outcome["trials"] if t["kind"] == "short"]
    # the full runs start at the highest short trial that met the bound, each INVALID one 5% lower than the last
    full = [t for t in outcome["trials"] if t["kind"] == "full"]
    edge = max(t["target_qps"] for t in short if t["meets_bound"])
    assert outcome["target_qps"] == pytest.approx(edge * 0.95 ** (len(full) - 1), rel=1e-4)
    for invalid in full[:-1]:
        assert invalid["loadgen_valid"] is False
        assert (Path(invalid["log_dir"]) / "mlperf_log_detail.txt").is_file()
    saved = json.loads((out / "server_search.json").read_text())
    assert saved == json.loads(json.dumps(outcome))
    assert (out / "server_search.png").stat().st_size > 0
    results = json.loads((out / "results.json").read_text())
    assert results["search"]["target_qps"] == outcome["target_qps"] and results["search"]["confirmed"] is True
    assert results["performance"]["log_dir"] == str(out / "performance")
    assert results["performance"]["loadgen"]["valid"] is True
    for trial in short:
        assert (Path(trial["log_dir"]) / "mlperf_log_summary.txt").is_file()
    assert f"[{outcome['runs']}/8] full-length run at" in printed
    assert "result: peak target QPS" in printed


def test_the_trial_cap_holds_and_nothing_met_is_no_result(device, tmp_path: Path, capsys) -> None:
    """A bound no run can meet (5 ms, half of one service): the search halves from its start until the
    cap, runs no full-length run and says there is no result."""
    outcome, out = _search(tmp_path, "Server", "*.Server.target_latency = 5\n",
                           SearchOptions(max_trials=3, trial_seconds=0.5), target_qps=40)
    assert [t["target_qps"] for t in outcome["trials"]] == [40, 20]  # the last run is kept for the full one
    assert all(t["kind"] == "short" and t["meets_bound"] is False for t in outcome["trials"])
    assert outcome["confirmed"] is False and outcome["target_qps"] is None and outcome["results_file"] is None
    assert not (out / "results.json").exists()
    assert json.loads((out / "server_search.json").read_text())["runs"] == 2
    assert "result: none" in capsys.readouterr().out


def test_an_invalid_full_run_steps_down_within_the_budget(device, tmp_path: Path) -> None:
    """30% over the device's rate, queries pile up 0.3 s of work a second: a 0.5 s trial stays under the
    400 ms bound, a 2 s full run does not. Both full runs the budget of 5 leaves are INVALID, the second 5%
    lower; the first one's logs move beside the trials, the last stay in the output folder."""
    conf = ("*.Server.target_latency = 400\n*.Server.target_latency_percentile = 90\n"
            "*.Server.min_duration = 2000\n*.Server.min_query_count = 1\n")
    outcome, out = _search(tmp_path, "Server", conf, SearchOptions(max_trials=5, trial_seconds=0.5),
                           target_qps=1.3 * PEAK_QPS, workers=2)
    short = [t for t in outcome["trials"] if t["kind"] == "short"]
    first, second = (t for t in outcome["trials"] if t["kind"] == "full")
    assert len(short) == 3 and short[0]["target_qps"] == 130 and short[0]["meets_bound"] is True
    assert first["target_qps"] == max(t["target_qps"] for t in short if t["meets_bound"])
    assert second["target_qps"] == pytest.approx(0.95 * first["target_qps"], rel=1e-4)
    assert first["loadgen_valid"] is second["loadgen_valid"] is False and outcome["confirmed"] is False
    assert Path(first["log_dir"]) == out / "peak_search_trials" / f"04_qps_{first['target_qps']:.4g}" / "performance"
    assert (Path(first["log_dir"]) / "mlperf_log_summary.txt").is_file()
    assert second["log_dir"] == str(out / "performance")
    results = json.loads((out / "results.json").read_text())  # the last full run, INVALID, as a normal run
    assert results["performance"]["loadgen"]["valid"] is False and results["search"]["confirmed"] is False


def test_offline_expects_ten_percent_more_than_it_measured(device, tmp_path: Path) -> None:
    """Offline: one short trial measures the device (100 samples/s); the full run expects 10% more and
    lasts at least its min_duration, so LoadGen calls it VALID."""
    outcome, out = _search(tmp_path, "Offline", "*.Offline.min_duration = 2000\n*.Offline.min_query_count = 1\n",
                           SearchOptions(max_trials=3, trial_seconds=1), max_batchsize=8)
    first, final = outcome["trials"][0], outcome["trials"][-1]
    assert first["kind"] == "short" and abs(first["achieved_qps"] - PEAK_QPS) <= 0.1 * PEAK_QPS
    assert final["kind"] == "full" and final["loadgen_valid"] is True
    assert outcome["confirmed"] is True and outcome["target_qps"] == pytest.approx(1.1 * first["achieved_qps"],
                                                                                   rel=1e-3)
    assert outcome["bound_ms"] is None and (out / "offline_search.json").is_file()
    assert json.loads((out / "results.json").read_text())["search"]["confirmed"] is True


@pytest.mark.parametrize("args, message", [
    (["--scenario", "SingleStream"], "--find-peak-qps needs --scenario Server or Offline in performance mode"),
    (["--scenario", "Server", "--accuracy"], "(got --scenario Server, accuracy mode)"),
    (["--scenario", "Server", "--both"], "(got --scenario Server, both mode)"),
    (["--scenario", "Server", "--max-trials", "1"], "--max-trials 1: must be at least 2"),
    (["--scenario", "Server", "--trial-seconds", "0"], "--trial-seconds 0: must be above 0"),
])
def test_bad_requests_are_one_line_and_exit_2(args: list[str], message: str, tmp_path: Path, capsys) -> None:
    code = main(["run", "resnet50", "--backend", "null", "--dataset-path", str(tmp_path), "--output",
                 str(tmp_path / "out"), "--find-peak-qps", *args])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("error: ") and message in err
    assert not (tmp_path / "out").exists()  # refused before anything was written


def test_trial_options_without_the_search_are_refused(tmp_path: Path, capsys) -> None:
    code = main(["run", "resnet50", "--backend", "null", "--dataset-path", str(tmp_path), "--max-trials", "3"])
    assert code == 2 and capsys.readouterr().err == "error: --max-trials and --trial-seconds go with --find-peak-qps\n"


def test_a_quick_search_through_the_command_line(synthetic, tmp_path: Path, capsys) -> None:
    """--quick: every run a quick one, judged on the bound (LoadGen calls each INVALID by its counts); the
    command exits 0 with a result and says it is not valid for submission."""
    user = tmp_path / "user.conf"
    user.write_text("*.Server.target_latency = 1000\n")
    out = tmp_path / "quick"
    code = main(["run", "resnet50", "--backend", "null", "--scenario", "Server", "--find-peak-qps", "--quick",
                 "--max-trials", "4", "--target-qps", "50", "--dataset-path", str(tmp_path), "--output", str(out),
                 "--user-conf", str(user)])
    printed = capsys.readouterr().out
    saved = json.loads((out / "server_search.json").read_text())
    assert code == 0 and saved["confirmed"] is True and saved["quick"] is True, printed
    assert [t["kind"] for t in saved["trials"]] == ["short"] * 3 + ["full"]
    assert [t["target_qps"] for t in saved["trials"][:3]] == [50, 100, 200]  # null answers far inside 1 s
    assert all(t["loadgen_valid"] is False for t in saved["trials"])
    assert saved["target_qps"] == 200 and "QUICK mode: every run was a quick one" in printed
    assert json.loads((out / "results.json").read_text())["verdict"]["submittable"] is False


def test_a_failed_run_ends_the_search_with_its_record(device, monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    """The backend fails in the second trial: the error ends the search as it ends a run, and the record
    keeps the first trial and says what stopped it."""
    from common.errors import RunError

    real = runner.Session.run_phase
    calls: list[str] = []

    def failing(self, phase, options=None):
        calls.append(phase)
        if len(calls) == 2:
            raise RunError("performance run failed while running the backend: RuntimeError: device lost")
        return real(self, phase, options)

    monkeypatch.setattr(runner.Session, "run_phase", failing)
    with pytest.raises(RunError, match="device lost"):
        _search(tmp_path, "Server", "*.Server.target_latency = 1000\n", SearchOptions(max_trials=4, trial_seconds=0.5),
                target_qps=20)
    saved = json.loads((tmp_path / "search" / "server_search.json").read_text())
    assert [t["target_qps"] for t in saved["trials"]] == [20] and saved["trials"][0]["meets_bound"] is True
    assert "device lost" in saved["stopped"] and saved["confirmed"] is False
    assert not (tmp_path / "search" / "results.json").exists()
