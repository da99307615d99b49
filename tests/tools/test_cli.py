"""The command line: help, one-line errors with exit code 2, fail-fast on a backend error."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tools.cli import main

HERE = Path(__file__).resolve().parents[1] / "support"  # synthetic_benchmark


def test_help_lists_benchmarks_backends_and_scenarios(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    for word in ("onnxruntime", "pytorch", "tensorflow", "null", "SingleStream", "MultiStream", "Server", "Offline"):
        assert word in text
    assert "benchmarks:" in text


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["run", "no-such-benchmark", "--dataset-path", "."], "unknown benchmark 'no-such-benchmark'"),
        (["run", "resnet50", "--scenario", "Streaming", "--dataset-path", "."], "--scenario"),
        (["run", "resnet50", "--backend", "nope", "--dataset-path", "."], "--backend nope"),
        (["run", "resnet50", "--backend", "null", "--dataset-path", "/no/such/folder"], "--dataset-path"),
        (["run", "resnet50", "--backend", "null", "--dataset-path", ".", "--max-batchsize", "0"], "--max-batchsize"),
        (["accuracy", "resnet50", "--log", "/no/such/log.json", "--dataset-path", "."], "--log"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_gets_one_line_and_exit_2(synthetic, capsys: pytest.CaptureFixture, argv, needle) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and needle in err
    assert len(err.splitlines()) == 1


def test_run_writes_results_and_prints_the_summary(synthetic, tmp_path: Path, capsys) -> None:
    code = main(["run", "resnet50", "--backend", "null", "--scenario", "Offline", "--both", "--quick",
                 "--dataset-path", str(tmp_path), "--output", str(tmp_path / "out")])
    assert code == 0
    out = capsys.readouterr().out
    assert "Samples per second" in out and "not submittable: --quick run" in out and "LoadGen" in out
    assert (tmp_path / "out" / "results.json").is_file()
    assert (tmp_path / "out" / "latency.png").stat().st_size > 1000


def test_backend_failure_under_full_settings_exits_within_seconds(tmp_path: Path) -> None:
    """Full v0.5 settings (60 s minimum): a backend error still ends the process at once, exit 1."""
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(HERE)!r})
        import numpy as np
        import common.registry as registry, common.session as session
        from synthetic_benchmark import SyntheticBenchmark
        from common.backends.null_backend import NullBackend
        registry.benchmarks = lambda: {{"resnet50": SyntheticBenchmark()}}
        class Exploding(NullBackend):
            calls = 0
            def predict(self, feeds):
                Exploding.calls += 1
                if Exploding.calls > 5:
                    raise RuntimeError("engine exploded")
                return super().predict(feeds)
        session.make_backend = lambda *a, **k: Exploding(1)
        from tools.cli import main
        sys.exit(main(["run", "resnet50", "--backend", "onnxruntime", "--scenario", "SingleStream",
                       "--dataset-path", {str(tmp_path)!r}, "--output", {str(tmp_path / "out")!r}]))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "error: the backend failed mid-run: RuntimeError: engine exploded" in done.stderr


@pytest.mark.parametrize(("synthetic_marker", "expected"), [(False, 1), (True, 0)])
def test_exit_code_follows_a_meaningful_accuracy_fail(synthetic, tmp_path: Path, monkeypatch, synthetic_marker,
                                                      expected) -> None:
    """Accuracy below target exits 1 on real data; on make-samples' synthetic data it means nothing (0)."""
    from common.backends.null_backend import NullBackend

    class Zeros(NullBackend):
        runs_model = True  # answers as a model would: the task post-processes its outputs and they are scored

        def postprocess_for(self, task):
            return task.postprocess

        def predict(self, feeds):
            return [feeds["x"] * 0]  # argmax 0: right for one sample in eight

    monkeypatch.setattr("common.session.make_backend", lambda *a, **k: Zeros(1))
    if synthetic_marker:
        (tmp_path / "SYNTHETIC").write_text("made by make-samples\n")
    code = main(["run", "resnet50", "--backend", "onnxruntime", "--scenario", "Offline", "--accuracy",
                 "--dataset-path", str(tmp_path), "--output", str(tmp_path / "out")])
    assert code == expected
