"""download_dataset.sh / verify_dataset.sh of the two classifiers (the shared ImageNet scripts), on stand-ins."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from common.registry import get_benchmark

REPO = Path(__file__).resolve().parents[3]

CLASSIFIERS = ["vision/resnet50", "vision/mobilenet"]
COVERS = ("vision/resnet50/download_dataset.sh", "vision/resnet50/verify_dataset.sh",
          "vision/mobilenet/download_dataset.sh", "vision/mobilenet/verify_dataset.sh",
          "vision/imagenet/download_dataset.sh", "vision/imagenet/verify_dataset.sh")  # the two exec these
TAR_NAME = "ILSVRC2012_img_val.tar"
SHIPPED_VAL_MAP = REPO / "vision" / "imagenet" / "val_map.txt"


def _jpeg(seed: int) -> bytes:
    image = np.random.default_rng(seed).integers(0, 256, (40, 48, 3), dtype=np.uint8)
    ok, data = cv2.imencode(".jpg", image)
    assert ok
    return data.tobytes()


@pytest.fixture(scope="module")
def stand_in_tar() -> bytes:
    """A small tar in the official layout: JPEGs named like the 50,000 real ones, at the top level."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for number in (1, 2, 3):
            data = _jpeg(number)
            info = tarfile.TarInfo(f"ILSVRC2012_val_{number:08d}.JPEG")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _env(tar: bytes, sha256: str | None = None) -> dict[str, str]:
    return {"IMAGENET_VAL_TAR_SIZE": str(len(tar)),
            "IMAGENET_VAL_TAR_SHA256": sha256 or hashlib.sha256(tar).hexdigest()}


@pytest.mark.parametrize("folder", CLASSIFIERS)
def test_download_good_path_extracts_the_images_and_places_val_map(run_script, folder, stand_in_tar, server, www,
                                                                   tmp_path):
    (www / TAR_NAME).write_bytes(stand_in_tar)
    out = tmp_path / "imagenet"
    result = run_script(f"{folder}/download_dataset.sh", "-o", str(out), server.url(TAR_NAME),
                        env=_env(stand_in_tar))
    assert result.returncode == 0, result.stderr
    assert (out / "ILSVRC2012_val_00000002.JPEG").read_bytes() == _jpeg(2)
    assert (out / "val_map.txt").read_bytes() == SHIPPED_VAL_MAP.read_bytes()
    assert (out / TAR_NAME).read_bytes() == stand_in_tar
    assert not (out / f"{TAR_NAME}.part").exists()


def test_download_resumes_a_truncated_tar(run_script, stand_in_tar, server, www, tmp_path):
    (www / TAR_NAME).write_bytes(stand_in_tar)
    out = tmp_path / "imagenet"
    out.mkdir()
    half = len(stand_in_tar) // 2
    (out / f"{TAR_NAME}.part").write_bytes(stand_in_tar[:half])  # left by an interrupted run
    result = run_script("vision/resnet50/download_dataset.sh", "-o", str(out), server.url(TAR_NAME),
                        env=_env(stand_in_tar))
    assert result.returncode == 0, result.stderr
    assert server.requests == [(f"/{TAR_NAME}", f"bytes={half}-")]
    assert (out / TAR_NAME).read_bytes() == stand_in_tar
    assert (out / "ILSVRC2012_val_00000003.JPEG").read_bytes() == _jpeg(3)


def test_download_survives_a_connection_cut_mid_file(run_script, stand_in_tar, server, www, tmp_path):
    (www / TAR_NAME).write_bytes(stand_in_tar)
    server.cut(after_bytes=1500)
    result = run_script("vision/mobilenet/download_dataset.sh", "-o", str(tmp_path / "imagenet"),
                        server.url(TAR_NAME), env=_env(stand_in_tar))
    assert result.returncode == 0, result.stderr
    assert server.requests == [(f"/{TAR_NAME}", None), (f"/{TAR_NAME}", "bytes=1500-")]
    assert (tmp_path / "imagenet" / TAR_NAME).read_bytes() == stand_in_tar


def test_download_checksum_mismatch_fails_clearly_and_leaves_nothing_that_looks_complete(
        run_script, stand_in_tar, server, www, tmp_path):
    (www / TAR_NAME).write_bytes(stand_in_tar)
    out = tmp_path / "imagenet"
    wrong = "1" * 64
    result = run_script("vision/resnet50/download_dataset.sh", "-o", str(out), server.url(TAR_NAME),
                        env=_env(stand_in_tar, sha256=wrong))
    assert result.returncode != 0
    assert (f"error: {out / TAR_NAME}: sha256 mismatch (expected {wrong}, got "
            f"{hashlib.sha256(stand_in_tar).hexdigest()}); the download was removed") in result.stderr
    assert sorted(p.name for p in out.iterdir()) == []


def test_second_download_run_does_nothing(run_script, stand_in_tar, server, www, tmp_path):
    (www / TAR_NAME).write_bytes(stand_in_tar)
    out = tmp_path / "imagenet"
    first = run_script("vision/resnet50/download_dataset.sh", "-o", str(out), server.url(TAR_NAME),
                       env=_env(stand_in_tar))
    assert first.returncode == 0, first.stderr
    server.reset()
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    second = run_script("vision/resnet50/download_dataset.sh", "-o", str(out), server.url(TAR_NAME),
                        env=_env(stand_in_tar))
    assert second.returncode == 0
    assert "already extracted" in second.stdout
    assert server.requests == []
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


def test_local_tar_is_checked_before_extracting(run_script, stand_in_tar, tmp_path):
    tar = tmp_path / TAR_NAME
    tar.write_bytes(stand_in_tar)
    good = run_script("vision/resnet50/download_dataset.sh", "-o", str(tmp_path / "a"), str(tar),
                      env=_env(stand_in_tar))
    assert good.returncode == 0, good.stderr
    assert (tmp_path / "a" / "ILSVRC2012_val_00000001.JPEG").read_bytes() == _jpeg(1)
    bad = run_script("vision/resnet50/download_dataset.sh", "-o", str(tmp_path / "b"), str(tar),
                     env=_env(stand_in_tar, sha256="2" * 64))
    assert bad.returncode == 1
    assert bad.stderr.startswith(f"error: {tar}: sha256 ") and "download ILSVRC2012_img_val.tar again" in bad.stderr
    assert not (tmp_path / "b" / "val_map.txt").exists()


@pytest.fixture(scope="module")
def sample_imagenet(tmp_path_factory) -> Path:
    return get_benchmark("resnet50").make_samples(tmp_path_factory.mktemp("samples"))


@pytest.mark.parametrize("folder", CLASSIFIERS)
def test_verify_accepts_the_sample_folder(run_script, folder, sample_imagenet):
    result = run_script(f"{folder}/verify_dataset.sh", "-d", str(sample_imagenet), "--any-count")
    assert result.returncode == 0, result.stdout + result.stderr


def test_verify_names_a_missing_and_a_corrupt_image(run_script, sample_imagenet, tmp_path):
    broken = tmp_path / "imagenet"
    broken.mkdir()
    names = [line.split()[0] for line in (sample_imagenet / "val_map.txt").read_text().splitlines()]
    for path in sample_imagenet.iterdir():
        (broken / path.name).write_bytes(path.read_bytes())
    (broken / names[1]).unlink()
    data = (broken / names[2]).read_bytes()
    (broken / names[2]).write_bytes(data[: len(data) // 3])
    result = run_script("vision/mobilenet/verify_dataset.sh", "-d", str(broken), "--any-count")
    assert result.returncode == 1
    assert names[1] in result.stdout + result.stderr and names[2] in result.stdout + result.stderr


def test_verify_without_any_count_wants_the_full_val_map(run_script, sample_imagenet):
    result = run_script("vision/resnet50/verify_dataset.sh", "-d", str(sample_imagenet))
    assert result.returncode != 0
    assert "expected 50000" in result.stderr
