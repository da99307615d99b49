"""The output folder: refused at once when unusable, held by one run at a time, never left with stale results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from common.errors import UsageError
from common.output_folder import LOCK_NAME, check_writable, held
from common.runner import RunConfig, run_benchmark


def test_output_under_a_file_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match=rf"--output {tmp_path}/file/out: {tmp_path}/file is a file; give a folder"):
        check_writable(tmp_path / "file" / "out")


def test_a_folder_that_cannot_be_written_is_refused() -> None:
    with pytest.raises(UsageError, match="--output /proc/mlperf-ref-out: cannot write there"):
        check_writable(Path("/proc/mlperf-ref-out"))  # not even root makes folders in /proc


def test_a_second_run_into_a_held_folder_names_the_holder(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from common.output_folder import held\n"
        f"with held(Path({str(tmp_path)!r})):\n    print('held', flush=True); time.sleep(30)")],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(UsageError, match=rf"another run \(PID {holder.pid}\) is writing there"), held(tmp_path):
            pass
    finally:
        holder.kill()
        holder.wait()
    with held(tmp_path):  # free again once the holder is gone
        assert (tmp_path / LOCK_NAME).read_text().strip() == str(os.getpid())


def test_a_failed_rerun_leaves_no_earlier_results(synthetic, tmp_path: Path, monkeypatch) -> None:
    import common.runner as runner

    out = tmp_path / "out"
    run_benchmark(RunConfig("resnet50", "null", "Offline", mode="accuracy", dataset_path=tmp_path, output=out,
                            quick=True, progress=False))
    assert json.loads((out / "results.json").read_text())["mode"] == "accuracy"
    assert (out / "accuracy" / "accuracy.txt").exists()

    def failing(self, phase, options=None):
        raise RuntimeError("the rerun failed")

    monkeypatch.setattr(runner.Session, "run_phase", failing)
    with pytest.raises(RuntimeError, match="the rerun failed"):
        run_benchmark(RunConfig("resnet50", "null", "Offline", mode="accuracy", dataset_path=tmp_path,
                                output=out, quick=True, progress=False))
    assert not (out / "results.json").exists() and not (out / "accuracy" / "accuracy.txt").exists()
