"""--help and argument errors list the benchmarks without importing them or any engine."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

from common.registry import GROUP

ROOT = Path(__file__).resolve().parents[2]

# What a benchmark module or a run pulls in; none of it is needed to print help or an argument error
# (the backend registry package itself is light: it names the backends without importing them).
HEAVY = ("torch", "tensorflow", "onnxruntime", "onnx", "cv2", "matplotlib", "numpy", "mlperf_loadgen", "tqdm",
         "openvino", "common.runner", "common.benchmark", "common.settings", "common.backends.base")


def _modules_after(argvs: list[list[str]]) -> dict:
    """Run main() on each argv in a fresh interpreter; the exit codes, stdout and the modules imported."""
    script = textwrap.dedent(f"""
        import contextlib, io, json, sys
        from tools.cli import main
        codes, out = [], io.StringIO()
        for argv in {argvs!r}:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
                try:
                    codes.append(main(argv))
                except SystemExit as stop:
                    codes.append(stop.code)
        print(json.dumps({{"codes": codes, "out": out.getvalue(), "modules": sorted(sys.modules)}}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_help_and_argument_errors_import_no_benchmark_and_no_engine() -> None:
    argvs = [["--help"], ["run", "--help"], ["make-samples", "--help"], ["export-model", "--help"],
             ["accuracy", "--help"], ["quickstart", "--help"], ["calibrate", "--help"],
             ["run", "resnet50"],  # no --dataset-path: an argparse error
             ["run", "resnet50", "--scenario", "Streaming", "--dataset-path", "."],
             ["calibrate", "resnet50", "--model", "m.onnx", "--dataset-path", ".", "--backend", "onnxruntime",
              "--output", "o.onnx", "--method", "kl"]]
    found = _modules_after(argvs)
    assert found["codes"] == [0, 0, 0, 0, 0, 0, 0, 2, 2, 2]
    assert "benchmarks: gnmt, mobilenet, resnet50, ssd-mobilenet, ssd-resnet34;" in " ".join(found["out"].split())
    loaded = set(found["modules"])
    benchmark_modules = {entry.module for entry in entry_points(group=GROUP)}
    assert benchmark_modules and not benchmark_modules & loaded
    heavy = [name for name in loaded if any(name == p or name.startswith(f"{p}.") for p in HEAVY)]
    assert heavy == []
