"""download_dataset.sh and verify_dataset.sh on small synthetic data (the real tar cannot be fetched here)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from vision.imagenet.val_map import SHIPPED_VAL_MAP, read_val_map

REPO = Path(__file__).resolve().parents[3]
SCRIPTS = REPO / "vision" / "imagenet"


def run(script: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPTS / script), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHON": sys.executable, **(env or {})})


@pytest.fixture
def tar_of_three(imagenet_samples: Path, tmp_path: Path) -> Path:
    """A small tar in the layout of ILSVRC2012_img_val.tar: flat ILSVRC2012_val_*.JPEG files."""
    tar = tmp_path / "ILSVRC2012_img_val.tar"
    with tarfile.open(tar, "w") as archive:
        for index, name in enumerate(read_val_map(imagenet_samples).names[:3], 1):
            archive.add(imagenet_samples / name, arcname=f"ILSVRC2012_val_{index:08d}.JPEG")
    return tar


def expected_env(tar: Path) -> dict[str, str]:
    return {"IMAGENET_VAL_TAR_SIZE": str(tar.stat().st_size),
            "IMAGENET_VAL_TAR_SHA256": hashlib.sha256(tar.read_bytes()).hexdigest()}


def test_help_for_all_wrappers() -> None:
    for folder in ("imagenet", "resnet50", "mobilenet"):
        for script in ("download_dataset.sh", "verify_dataset.sh"):
            done = subprocess.run(["bash", str(REPO / "vision" / folder / script), "-h"], capture_output=True,
                                  text=True, timeout=30)
            assert done.returncode == 0 and done.stdout.startswith("Usage:"), (folder, script, done.stderr)


def test_download_checks_extracts_and_places_val_map(tar_of_three: Path, tmp_path: Path) -> None:
    out = tmp_path / "data"
    done = run("download_dataset.sh", "-o", str(out), str(tar_of_three), env=expected_env(tar_of_three))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.glob("*.JPEG")) == [f"ILSVRC2012_val_{i:08d}.JPEG" for i in (1, 2, 3)]
    assert (out / "val_map.txt").read_bytes() == SHIPPED_VAL_MAP.read_bytes()
    again = run("download_dataset.sh", "-o", str(out), str(tar_of_three), env=expected_env(tar_of_three))
    assert again.returncode == 0 and "already extracted" in again.stdout


def test_download_refuses_a_tar_with_another_checksum(tar_of_three: Path, tmp_path: Path) -> None:
    env = {**expected_env(tar_of_three), "IMAGENET_VAL_TAR_SHA256": "0" * 64}
    done = run("download_dataset.sh", "-o", str(tmp_path / "data"), str(tar_of_three), env=env)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith(f"error: {tar_of_three}: sha256 ")
    assert not (tmp_path / "data" / "val_map.txt").exists()
    default = run("download_dataset.sh", "-o", str(tmp_path / "data"), str(tar_of_three))
    assert default.returncode == 1 and "expected 6744924160; download" in default.stderr


def test_download_from_a_url_resumably(tar_of_three: Path, tmp_path: Path) -> None:
    handler = partial(SimpleHTTPRequestHandler, directory=str(tar_of_three.parent))
    handler.log_message = lambda *args: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{tar_of_three.name}"
        done = run("download_dataset.sh", "-o", str(tmp_path / "data"), url, env=expected_env(tar_of_three))
    finally:
        server.shutdown()
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "data" / "ILSVRC2012_val_00000003.JPEG").is_file()
    assert (tmp_path / "data" / "val_map.txt").is_file()


def test_verify_passes_a_complete_folder(imagenet_samples: Path) -> None:
    done = run("verify_dataset.sh", "-d", str(imagenet_samples), "--any-count")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"OK: all 20 images listed in {imagenet_samples}/val_map.txt exist and decode"


def test_verify_expects_50000_images_by_default(imagenet_samples: Path) -> None:
    done = run("verify_dataset.sh", "-d", str(imagenet_samples))
    assert done.returncode != 0 and "lists 20 images, expected 50000" in done.stderr


def test_verify_names_missing_and_truncated_files(imagenet_samples: Path, tmp_path: Path) -> None:
    folder = shutil.copytree(imagenet_samples, tmp_path / "imagenet")
    names = read_val_map(folder).names
    (folder / names[1]).unlink()
    data = (folder / names[4]).read_bytes()
    (folder / names[4]).write_bytes(data[: len(data) // 2])  # libjpeg still decodes this, gray-filled
    done = run("verify_dataset.sh", "-d", str(folder), "--any-count")
    assert done.returncode == 1
    assert f"1 missing ({names[1]}); 1 truncated ({names[4]}) of 20 images" in done.stderr
