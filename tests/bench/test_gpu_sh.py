"""bench/gpu.sh (no GPU here): usage, option errors and the missing-GPU message; shellcheck clean."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "bench" / "gpu.sh"


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=60, env=env)


def test_help_names_every_option() -> None:
    done = _run("-h")
    assert done.returncode == 0
    for option in ("-o OUTPUT", "-b BATCH", "-s SECONDS", "-p PYTHON"):
        assert option in done.stdout


def test_bad_options_give_one_line_and_exit_2() -> None:
    for args, message in ((["-b", "0"], "error: -b 0: give a whole number of at least 1"),
                          (["-x"], "error: unknown option; run bench/gpu.sh -h for usage"),
                          (["extra"], "error: unexpected argument 'extra'; run bench/gpu.sh -h for usage")):
        done = _run(*args)
        assert done.returncode == 2
        assert done.stderr.strip().splitlines()[-1] == message


def test_without_a_gpu_it_says_so(tmp_path: Path) -> None:
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/usr/bin/env bash\nexit 9\n")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    done = _run("-o", str(tmp_path / "out"), env=env)
    assert done.returncode == 1
    assert done.stderr.strip() == ("error: no NVIDIA GPU visible (nvidia-smi -L failed); "
                                   "run this on a machine with a GPU")
    assert not (tmp_path / "out").exists()


def test_shellcheck_clean() -> None:
    shellcheck = Path(sys.executable).parent / "shellcheck"
    done = subprocess.run([str(shellcheck), str(SCRIPT)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout
