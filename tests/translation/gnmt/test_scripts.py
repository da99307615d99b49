"""download_dataset.sh, verify_dataset.sh and download_model.sh against a local mirror of the zenodo files."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from translation.gnmt.checkpoint import load_model
from translation.gnmt.dataset import ACCURACY_SOURCE, LARGE_REPEATS, PERFORMANCE_SOURCE, REFERENCE

FOLDER = Path(__file__).resolve().parents[3] / "translation" / "gnmt"
SMALL_FILES = (ACCURACY_SOURCE, REFERENCE, "vocab.bpe.32000.en", "vocab.bpe.32000.de", "bpe.32000")


def run(script: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHON": sys.executable, **env}
    return subprocess.run(["bash", str(FOLDER / script), *args], capture_output=True, text=True, env=environment,
                          timeout=120)


def expected_table(folder: Path, path: Path) -> Path:
    """A GNMT_EXPECTED file with the sample files' own md5 sums and line counts."""
    rows = []
    for name in (*SMALL_FILES[:4], PERFORMANCE_SOURCE):
        data = (folder / name).read_bytes()
        lines = data.count(b"\n")
        rows.append(f"{name} {hashlib.md5(data).hexdigest()} {lines}")
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("script", ["download_dataset.sh", "verify_dataset.sh", "download_model.sh"])
def test_help_and_bad_options(script: str) -> None:
    assert run(script, "-h").returncode == 0 and "Usage:" in run(script, "-h").stdout
    bad = run(script, "-x")
    assert bad.returncode == 1 and bad.stderr.strip().count("\n") == 0 and "unknown option -x" in bad.stderr


def test_verify_passes_on_matching_files_and_fails_on_a_corrupted_one(tmp_path: Path, wmt16: Path) -> None:
    folder = tmp_path / "wmt16"
    shutil.copytree(wmt16, folder)
    table = expected_table(folder, tmp_path / "expected.txt")
    good = run("verify_dataset.sh", "-d", str(folder), GNMT_EXPECTED=str(table))
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.count("OK ") == 5

    data = bytearray((folder / REFERENCE).read_bytes())
    data[10] ^= 1
    (folder / REFERENCE).write_bytes(bytes(data))
    (folder / "vocab.bpe.32000.en").unlink()
    bad = run("verify_dataset.sh", "-d", str(folder), GNMT_EXPECTED=str(table))
    assert bad.returncode == 1
    assert f"ERROR    {REFERENCE}: md5" in bad.stdout and "MISSING  vocab.bpe.32000.en" in bad.stdout
    assert "2 file(s)" in bad.stderr


def test_verify_uses_the_v05_sums_by_default(wmt16: Path) -> None:
    done = run("verify_dataset.sh", "-d", str(wmt16))
    assert done.returncode == 1
    assert "expected cb014e2509f86cd81d5a87c240c07464" in done.stdout
    assert "40 lines (expected 3003)" in done.stdout


def test_download_dataset_unpacks_flat_and_builds_the_large_file(tmp_path: Path, wmt16: Path) -> None:
    mirror = tmp_path / "mirror" / "3437893" / "files"
    mirror.mkdir(parents=True)
    with zipfile.ZipFile(mirror / "gnmt_inference_data.zip", "w") as archive:
        for name in SMALL_FILES:  # the zip lays its files out in nmt/data/, without the .large file
            archive.write(wmt16 / name, f"nmt/data/{name}")
    output = tmp_path / "data"
    done = run("download_dataset.sh", "-o", str(output),
               MLPERF_ZENODO_BASE_URL=(tmp_path / "mirror").as_uri())
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in output.iterdir()) == sorted([*SMALL_FILES, PERFORMANCE_SOURCE])
    assert (output / PERFORMANCE_SOURCE).read_bytes() == (wmt16 / ACCURACY_SOURCE).read_bytes() * LARGE_REPEATS
    table = expected_table(wmt16, tmp_path / "expected.txt")
    assert run("verify_dataset.sh", "-d", str(output), GNMT_EXPECTED=str(table)).returncode == 0
    again = run("download_dataset.sh", "-o", str(output), MLPERF_ZENODO_BASE_URL="http://127.0.0.1:9/none")
    assert again.returncode == 0  # everything is there: nothing is fetched


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
    assert "run download_model.sh again to resume" in done.stderr.splitlines()[-1]
