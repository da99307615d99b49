"""The GNMT scripts' command lines, and download_model.sh giving a checkpoint the loader reads.

tests/tools/download/test_gnmt_scripts.py covers downloads, resumes and verification against a local HTTP mirror.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from translation.gnmt.checkpoint import load_model

FOLDER = Path(__file__).resolve().parents[3] / "translation" / "gnmt"


def run(script: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHON": sys.executable, **env}
    return subprocess.run(["bash", str(FOLDER / script), *args], capture_output=True, text=True, env=environment,
                          timeout=120)


@pytest.mark.parametrize("script", ["download_dataset.sh", "verify_dataset.sh", "download_model.sh"])
def test_help_and_bad_options(script: str) -> None:
    assert run(script, "-h").returncode == 0 and "Usage:" in run(script, "-h").stdout
    bad = run(script, "-x")
    assert bad.returncode == 1 and bad.stderr.strip().count("\n") == 0 and "unknown option -x" in bad.stderr


def test_download_model_unpacks_the_checkpoint(tmp_path: Path, small_checkpoint: Path) -> None:
    mirror = tmp_path / "mirror" / "2530924" / "files"
    mirror.mkdir(parents=True)
    with zipfile.ZipFile(mirror / "gnmt_model.zip", "w") as archive:
        for path in small_checkpoint.parent.glob("translate.ckpt.*"):
            archive.write(path, f"ende_gnmt_model_4_layer/{path.name}")
    output = tmp_path / "models"
    done = run("download_model.sh", "-o", str(output), MLPERF_ZENODO_BASE_URL=(tmp_path / "mirror").as_uri())
    assert done.returncode == 0, done.stdout + done.stderr
    prefix = output / "ende_gnmt_model_4_layer" / "translate.ckpt"
    assert load_model(prefix).config.num_units == 32
    assert sorted(p.name for p in output.iterdir()) == ["ende_gnmt_model_4_layer"]


def test_download_failure_says_what_to_do(tmp_path: Path) -> None:
    done = run("download_model.sh", "-o", str(tmp_path), MLPERF_ZENODO_BASE_URL=(tmp_path / "nowhere").as_uri())
    assert done.returncode == 1
    assert "download of gnmt_model.zip failed (the line above says why)" in done.stderr.splitlines()[-1]
