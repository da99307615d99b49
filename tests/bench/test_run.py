"""bench/run.py as a command: the preprocessing rows end to end, and clear errors for bad options."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "bench" / "run.py"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=180)


def test_preprocess_rows_write_table_and_json(tmp_path: Path) -> None:
    done = _run("--output", str(tmp_path / "out"), "--only", "preprocess", "--images", "6")
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "out" / "bench.json").read_text())
    speed, size = report["rows"]
    assert speed["group"] == size["group"] == "5 preprocessing"
    runs, baseline_runs = speed["details"]["runs"], speed["details"]["baseline_runs"]
    assert len(runs) == len(baseline_runs) == 2  # --repeats 2 (the default): baseline and ours alternate
    assert (speed["figure"], speed["baseline"]) == (statistics.median(runs), statistics.median(baseline_runs))
    assert speed["ratio"] == pytest.approx(statistics.median(o / b for o, b in zip(runs, baseline_runs, strict=True)))
    # uint8 HWC crop against the v0.5 float32 NCHW tensor: exactly a quarter of the array bytes
    assert (size["figure"], size["baseline"], size["ratio"], size["met"]) == (150528, 602112, 0.25, True)
    # the crop as one .npy record (128-byte header), then its source stamp as another: int64 [size, mtime, ctime]
    assert size["details"]["file_bytes"] == (128 + 150528) + (128 + 3 * 8)
    table = (tmp_path / "out" / "bench.txt").read_text()
    assert "NOT submission runs" in table and "5 preprocessing" in table
    assert report["machine"]["cpus"] >= 1 and "numpy" in report["libraries"]
    assert report["command"].endswith("--only preprocess --images 6")


def test_output_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    done = _run("--output", str(tmp_path / "file"), "--only", "preprocess")
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: --output {tmp_path / 'file'} is a file; give a folder"


def test_bad_numbers_are_refused(tmp_path: Path) -> None:
    done = _run("--output", str(tmp_path), "--seconds", "0")
    assert done.returncode == 2 and "--seconds: '0': give a float above 0" in done.stderr
    done = _run("--output", str(tmp_path), "--server-wait-ms", "-1")  # 0 is allowed: no wait
    assert done.returncode == 2 and "--server-wait-ms: '-1': give a float of at least 0" in done.stderr
    assert not any(tmp_path.iterdir())  # nothing written
