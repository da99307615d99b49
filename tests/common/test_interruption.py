"""Ctrl-C and SIGTERM during a LoadGen test under full v0.5 settings: one line, exit 130 or 143 within
seconds, the phase's logs marked INCOMPLETE, no results.json (an earlier run's is removed first)."""

from __future__ import annotations

import json
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlperf_loadgen as lg
import pytest
from synthetic_cli import cli_script

from common.loadgen_phase import progress_of
from tools.cli import main

HERE = Path(__file__).parent
ROOT = HERE.parents[1]


def _start(tmp_path: Path, scenario: str, mode: str) -> subprocess.Popen:
    """The synthetic benchmark on a backend that takes 20 ms a batch, full settings (60 s minimum); "ready" on
    stdout says its main() is about to start."""
    script = cli_script("""
        def predict(self, feeds):
            time.sleep(0.02)
            return super().predict(feeds)
    """, ["run", "resnet50", "--backend", "onnxruntime", "--scenario", scenario, mode, "--target-qps", "20",
          "--dataset-path", str(tmp_path), "--output", str(tmp_path / "out")])
    return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT)


def _wait_for(path: Path, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)
    time.sleep(0.3)  # well inside the test: LoadGen has issued queries


@pytest.mark.parametrize(("scenario", "mode", "phase", "signum"), [
    ("Offline", "--performance", "performance", signal.SIGINT),
    ("Server", "--performance", "performance", signal.SIGINT),
    ("SingleStream", "--both", "accuracy", signal.SIGTERM),
    ("MultiStream", "--performance", "performance", signal.SIGTERM),
])
def test_a_signal_ends_the_run_within_seconds(synthetic_data: Path, scenario: str, mode: str, phase: str,
                                              signum: int) -> None:
    out = synthetic_data / "out"
    out.mkdir()
    (out / "results.json").write_text('{"an": "earlier run"}\n')
    process = _start(synthetic_data, scenario, mode)
    _wait_for(out / phase / "mlperf_log_detail.txt", process)
    sent = time.monotonic()
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=60)
    assert time.monotonic() - sent < 15  # a guard against a hang: LoadGen's 60 s minimum is not waited out
    assert process.returncode == 128 + signum, stderr
    assert stderr.strip().splitlines()[-1].startswith(f"error: interrupted during the {phase} phase after ")
    assert "Traceback" not in stderr and "terminate called" not in stderr
    assert not (out / "results.json").exists()
    assert (out / phase / "INCOMPLETE").read_text().startswith(f"interrupted during the {phase} phase")


def test_a_second_signal_ends_at_once(synthetic_data: Path) -> None:
    out = synthetic_data / "out"
    process = _start(synthetic_data, "Server", "--performance")
    _wait_for(out / "performance" / "mlperf_log_detail.txt", process)
    process.send_signal(signal.SIGINT)
    time.sleep(0.2)
    sent = time.monotonic()
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)
    assert process.returncode == 130
    assert time.monotonic() - sent < 2.5  # before the grace period would have ended it


@pytest.fixture
def synthetic_data(tmp_path: Path) -> Path:
    """The synthetic benchmark's data folder (its dataset ignores the files)."""
    return tmp_path


RANDOM_MOMENTS = 10
SCENARIOS = (("Offline", "--performance"), ("Server", "--performance"), ("SingleStream", "--both"),
             ("MultiStream", "--performance"))


def test_signals_at_seeded_random_moments(tmp_path: Path) -> None:
    """SIGINT or SIGTERM at a seeded-random moment, from just after main() starts (the runner, LoadGen and the
    model still loading) to well into a phase, across the scenarios; two runs at a time to stay affordable.
    Where the moment falls depends on the machine's load; the outcome must not."""
    rng = random.Random(20261203)
    # every other moment in the first 0.3 s, while the runner, LoadGen and the model load (LoadGen starts about
    # then on an idle machine), the others spread over the phases
    cases = [(SCENARIOS[i % len(SCENARIOS)], rng.choice((signal.SIGINT, signal.SIGTERM)),
              rng.uniform(0.02, 0.3) if i % 2 else rng.uniform(0.3, 4.0)) for i in range(RANDOM_MOMENTS)]
    for pair in range(0, RANDOM_MOMENTS, 2):
        running = []
        for k, ((scenario, mode), signum, delay) in enumerate(cases[pair:pair + 2], start=pair):
            folder = tmp_path / f"case{k}"
            (folder / "out").mkdir(parents=True)
            (folder / "out" / "results.json").write_text('{"an": "earlier run"}\n')
            process = _start(folder, scenario, mode)
            assert process.stdout.readline().strip() == "ready"
            running.append((k, scenario, signum, delay, folder, process, time.monotonic()))
        for k, scenario, signum, delay, folder, process, ready in running:
            time.sleep(max(0.0, ready + delay - time.monotonic()))
            process.send_signal(signum)
            sent = time.monotonic()
            stdout, stderr = process.communicate(timeout=60)
            case = f"case {k}: {scenario}, signal {signum} {delay:.2f} s after main() started"
            assert time.monotonic() - sent < 15, case  # never LoadGen's 60 s minimum
            assert process.returncode == 128 + signum, f"{case}: {stderr}"
            errors = [line for line in stderr.splitlines() if line.startswith("error:")]
            assert len(errors) == 1 and re.match(r"error: (interrupted|terminated)", errors[0]), f"{case}: {stderr}"
            assert "Traceback" not in stderr and "terminate called" not in stderr, f"{case}: {stderr}"
            # an earlier run's results.json goes once the model has loaded; one stopped before that wrote nothing
            # and leaves the folder as it was
            earlier = folder / "out" / "results.json"
            started = [phase for phase in ("accuracy", "performance") if (folder / "out" / phase).exists()]
            assert not earlier.exists() or (not started and earlier.read_text() == '{"an": "earlier run"}\n'), case


def test_ctrl_c_mid_search_keeps_the_runs_so_far(tmp_path: Path) -> None:
    """A Server peak search interrupted in its second trial: LoadGen cannot stop a Server test early, so the
    process ends after the grace period; server_search.json keeps the first trial and says what stopped it."""
    out = tmp_path / "out"
    script = cli_script("""
        def predict(self, feeds):
            time.sleep(0.02)
            return super().predict(feeds)
    """, ["run", "resnet50", "--backend", "onnxruntime", "--scenario", "Server", "--find-peak-qps",
          "--target-qps", "5", "--trial-seconds", "6", "--dataset-path", str(tmp_path), "--output", str(out)])
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, cwd=ROOT)
    trials = out / "peak_search_trials"
    deadline = time.monotonic() + 120
    while not list(trials.glob("02_*/performance/mlperf_log_detail.txt")):  # the second trial has started
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the second trial never started"
        time.sleep(0.05)
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    sent = time.monotonic()
    _, stderr = process.communicate(timeout=60)
    assert time.monotonic() - sent < 15
    assert process.returncode == 130, stderr
    line = stderr.strip().splitlines()[-1]
    assert re.fullmatch(r"error: interrupted during the performance phase after \d+ samples \(LoadGen runs at "
                        r"least 1 samples and 6 s\)", line), line
    record = json.loads((out / "server_search.json").read_text())
    assert record["runs"] == 1 and [t["trial"] for t in record["trials"]] == [1]
    assert record["stopped"] == line.removeprefix("error: ") and record["confirmed"] is False
    assert not (out / "results.json").exists()


@pytest.mark.parametrize(("scenario", "mode", "changes", "says"), [
    ("SingleStream", lg.TestMode.AccuracyOnly, {}, "7 of 500 samples"),  # every sample once
    ("SingleStream", lg.TestMode.PerformanceOnly, {"min_query_count": 100, "min_duration_ms": 60000},
     "505 samples (LoadGen runs at least 100 samples and 60 s)"),  # 505 > 100: no total is known
    ("MultiStream", lg.TestMode.PerformanceOnly, {"min_query_count": 10, "min_duration_ms": 0,
                                                  "multi_stream_samples_per_query": 4},
     "505 samples (LoadGen runs at least 40 samples)"),
    ("Server", lg.TestMode.PerformanceOnly, {"min_query_count": 32, "max_query_count": 32, "min_duration_ms": 0},
     "7 of 32 samples"),  # a quick run: a fixed count
])
def test_the_interrupt_line_gives_a_total_only_where_one_is_known(scenario, mode, changes, says) -> None:
    settings = lg.TestSettings()
    settings.mode = mode
    for key, value in changes.items():
        setattr(settings, key, value)
    done = 7 if says.startswith("7 ") else 505
    assert progress_of(done, settings, scenario, dataset_size=500) == says


def test_an_interruption_after_the_run_finished_says_its_results_are_complete(synthetic, tmp_path: Path,
                                                                              monkeypatch, capsys) -> None:
    import common.runner as runner

    def interrupted_while_closing(self) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(runner.Session, "close", interrupted_while_closing)
    out = tmp_path / "out"
    code = main(["run", "resnet50", "--backend", "null", "--scenario", "Offline", "--quick", "--dataset-path",
                 str(tmp_path), "--output", str(out)])
    assert code == 130
    assert capsys.readouterr().err == (f"error: interrupted after the run finished: {out / 'results.json'} is "
                                       "complete and holds its results\n")
    assert json.loads((out / "results.json").read_text())["verdict"] is not None
    assert main(["run", "resnet50", "--dataset-path", str(tmp_path), "--count", "0"]) == 2
    assert "after the run finished" not in capsys.readouterr().err  # the next command starts afresh
