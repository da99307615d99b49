"""verify_dataset.sh and download_dataset.sh of the SSDs on synthetic data (COCO cannot be fetched here)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "tests" / "support"))

from http_server import LocalHTTPServer  # noqa: E402


def run(script: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(REPO / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHON": sys.executable, **(env or {})},
    )


@pytest.fixture
def copy(coco_samples: Path, tmp_path: Path) -> Path:
    target = tmp_path / "coco"
    shutil.copytree(coco_samples, target)
    return target


@pytest.mark.parametrize("folder", ["ssd_mobilenet", "ssd_resnet34"])
def test_verify_accepts_a_complete_folder(copy, folder):
    result = run(f"vision/{folder}/verify_dataset.sh", "-d", str(copy), "--any-count", "--decode")
    assert result.returncode == 0, result.stderr
    assert "8 images (2 without annotations), 14 annotations, 80 categories" in result.stdout


def test_verify_names_what_is_wrong(copy):
    result = run("vision/ssd_mobilenet/verify_dataset.sh", "-d", str(copy))
    assert result.returncode == 1 and "expected 5000 and 36781" in result.stderr
    (copy / "val2017" / "000000000103.jpg").unlink()
    (copy / "val2017" / "000000000104.jpg").write_bytes(b"truncated")
    result = run("vision/ssd_mobilenet/verify_dataset.sh", "-d", str(copy), "--any-count", "--decode")
    assert result.returncode == 1
    assert "1 images missing, e.g." in result.stderr and "000000000103.jpg" in result.stderr
    assert "1 images do not decode" in result.stderr and "000000000104.jpg" in result.stderr
    (copy / "val2017.zip").write_bytes(b"not the official archive")
    result = run("vision/ssd_mobilenet/verify_dataset.sh", "-d", str(copy), "--any-count")
    assert "val2017.zip: size or md5 differs" in result.stderr
    assert run("vision/ssd_resnet34/verify_dataset.sh", "-d", str(copy / "nope")).returncode == 1
    assert run("vision/ssd_resnet34/verify_dataset.sh", "-h").returncode == 0


def make_archives(coco: Path, root: Path) -> dict[str, str]:
    (root / "zips").mkdir(parents=True)
    (root / "annotations").mkdir()
    with zipfile.ZipFile(root / "zips" / "val2017.zip", "w") as archive:
        for image in sorted((coco / "val2017").iterdir()):
            archive.write(image, f"val2017/{image.name}")
    with zipfile.ZipFile(root / "annotations" / "annotations_trainval2017.zip", "w") as archive:
        archive.write(coco / "annotations" / "instances_val2017.json", "annotations/instances_val2017.json")
    env = {}
    for key, path in (
        ("VAL", root / "zips" / "val2017.zip"),
        ("ANN", root / "annotations" / "annotations_trainval2017.zip"),
    ):
        env[f"COCO_{key}_ZIP_SIZE"] = str(path.stat().st_size)
        env[f"COCO_{key}_ZIP_MD5"] = hashlib.md5(path.read_bytes()).hexdigest()
    return env


def test_download_extracts_and_a_corrupt_archive_leaves_nothing(coco_samples, tmp_path):
    env = make_archives(coco_samples, tmp_path / "mirror")
    with LocalHTTPServer(tmp_path / "mirror") as server:
        env["MLPERF_COCO_BASE_URL"] = server.base_url
        out = tmp_path / "data"
        result = run("vision/ssd_resnet34/download_dataset.sh", "-o", str(out), env=env)
        assert result.returncode == 0, result.stderr
        assert sorted(p.name for p in out.iterdir()) == ["annotations", "val2017"]
        assert run("vision/ssd_resnet34/verify_dataset.sh", "-d", str(out), "--any-count").returncode == 0
        bad = {**env, "COCO_VAL_ZIP_MD5": "0" * 32}
        result = run("vision/ssd_mobilenet/download_dataset.sh", "-o", str(tmp_path / "bad"), env=bad)
        assert result.returncode != 0 and "download of" in result.stderr
        assert not (tmp_path / "bad" / "val2017").exists() and not (tmp_path / "bad" / "val2017.zip").exists()
