"""Argument errors print at once: one line, exit 2, before torch, numpy or any benchmark is imported."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "numpy", "cv2", "onnxruntime", "tensorflow", "mlperf_loadgen", "common.runner",
         "common.benchmark")  # and every benchmark module (vision.resnet50.benchmark, ...)


@pytest.mark.parametrize(("argv", "line"), [
    (["--bogus"], "error: unrecognized arguments: --bogus (see 'mlperf-ref --help')"),
    (["--count", "-3"], "error: argument --count: must be at least 1, not -3 (see 'mlperf-ref run --help')"),
    (["--count", "x"], "error: argument --count: invalid int value: 'x' (see 'mlperf-ref run --help')"),
    (["--batch-timeout-ms", "-5"],
     "error: argument --batch-timeout-ms: must be at least 0, not -5 (see 'mlperf-ref run --help')"),
    (["--target-qps", "nan"], "error: argument --target-qps: must be above 0, not nan (see 'mlperf-ref run --help')"),
    (["--max-batchsize", "0"],
     "error: argument --max-batchsize: must be at least 1, not 0 (see 'mlperf-ref run --help')"),
    (["--backend", "nope"],
     "error: --backend nope: unknown backend; choose one of onnxruntime, pytorch, tensorflow, openvino, null"),
    (["--dataset-path", "/no/such/folder"], "error: --dataset-path /no/such/folder: no such folder (see "
     "'mlperf-ref make-samples' or the benchmark's download_dataset.sh)"),
])
def test_run_argument_errors_are_one_line_in_well_under_the_seconds_a_torch_import_takes(argv, line,
                                                                                          tmp_path) -> None:
    script = textwrap.dedent(f"""
        import json, sys
        from tools.cli import main
        code = main(["run", "resnet50", "--dataset-path", {str(tmp_path)!r}, *{argv!r}])
        print(json.dumps({{"code": code, "modules": sorted(sys.modules)}}))
    """)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60)
    seconds = time.monotonic() - started
    found = json.loads(done.stdout)
    assert found["code"] == 2 and done.stderr.splitlines() == [line]
    heavy = [m for m in found["modules"]
             if any(m == h or m.startswith(f"{h}.") for h in HEAVY) or m.endswith(".benchmark")]
    assert heavy == []  # the reason it is quick; the time bound below is generous for a loaded machine
    assert seconds < 5
    assert not (tmp_path / "output").exists()
