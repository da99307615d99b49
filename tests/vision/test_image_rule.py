"""One rule for a bad image, followed by the runs and by verify_dataset.sh alike: missing, empty, a JPEG
without its end-of-image marker (truncated; libjpeg would decode it gray-filled with only a warning) or
undecodable. A run stops naming the file; verify_dataset.sh names it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from common.benchmark import DatasetOptions
from common.errors import UsageError
from vision.coco.dataset import CocoDataset, Recipe, keep_source
from vision.coco.samples import make_coco_samples
from vision.image_file import BadImage, file_fault, image_fault, read_image
from vision.imagenet.dataset import ImageNetDataset
from vision.imagenet.preprocess import Preprocessing, subtract_means
from vision.imagenet.samples import write_samples
from vision.imagenet.val_map import read_val_map

ROOT = Path(__file__).resolve().parents[2]


def options(cache: Path) -> DatasetOptions:
    return DatasetOptions(backend="onnxruntime", layout="NHWC", cache_dir=cache, workers=1, progress=False)


def jpeg(tmp_path: Path, name: str = "image.jpg") -> Path:
    rng = np.random.default_rng(1)
    path = tmp_path / name
    path.write_bytes(cv2.imencode(".jpg", rng.integers(0, 256, (64, 48, 3), dtype=np.uint8))[1].tobytes())
    return path


def test_what_libjpeg_accepts_with_a_warning_the_rule_calls_truncated(tmp_path: Path) -> None:
    path = jpeg(tmp_path)
    whole = path.read_bytes()
    assert file_fault(path) is None and read_image(path).shape == (64, 48, 3)
    path.write_bytes(whole[: len(whole) * 2 // 3])
    assert cv2.imread(str(path)) is not None  # what the runs used to accept
    assert file_fault(path) == image_fault(path) == image_fault(path, decode=False) == "truncated"
    with pytest.raises(BadImage, match=rf"^{path}: truncated JPEG \(no end-of-image marker\); run verify_dataset"):
        read_image(path)
    path.write_bytes(whole + b"\0" * 1000)  # a little padding after the marker is a whole file
    assert image_fault(path) is None
    path.write_bytes(b"")
    assert image_fault(path, decode=False) == "empty"
    path.write_text("text, not an image\n")
    assert image_fault(path, decode=False) is None and image_fault(path) == "corrupt"
    assert image_fault(tmp_path / "nope.jpg", decode=False) == "missing"
    assert issubclass(BadImage, UsageError) and issubclass(BadImage, ValueError)


@pytest.fixture(scope="module")
def imagenet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_samples(tmp_path_factory.mktemp("samples"))


def test_a_truncated_jpeg_fails_the_run_and_verify_alike(imagenet: Path, tmp_path: Path) -> None:
    folder = shutil.copytree(imagenet, tmp_path / "imagenet")
    name = read_val_map(folder).names[6]
    data = (folder / name).read_bytes()
    (folder / name).write_bytes(data[: len(data) // 2])
    dataset = ImageNetDataset(folder, Preprocessing(cv2.INTER_AREA, subtract_means), options(tmp_path / "cache"))
    with pytest.raises(BadImage, match=rf"{folder / name}: truncated JPEG"):
        dataset.load([5, 6])
    started = time.monotonic()
    done = subprocess.run(["bash", str(ROOT / "vision/resnet50/verify_dataset.sh"), "-d", str(folder), "--any-count"],
                          capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin",
                                                                             "PYTHON": sys.executable})
    assert done.returncode == 1 and time.monotonic() - started < 60
    assert done.stderr.strip() == (f"ERROR: {folder}: 1 truncated ({name}) of 20 images; run download_dataset.sh "
                                   "again to re-extract them")


@pytest.fixture(scope="module")
def coco_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_coco_samples(tmp_path_factory.mktemp("coco") / "coco")


@pytest.fixture
def coco(coco_source: Path, tmp_path: Path) -> Path:
    return shutil.copytree(coco_source, tmp_path / "coco")


def coco_names(folder: Path) -> list[str]:
    data = json.loads((folder / "annotations" / "instances_val2017.json").read_text())
    return [image["file_name"] for image in data["images"]]


def test_coco_verify_fails_empty_and_truncated_images_without_decode(coco: Path) -> None:
    names = coco_names(coco)
    (coco / "val2017" / names[2]).write_bytes(b"")
    data = (coco / "val2017" / names[4]).read_bytes()
    (coco / "val2017" / names[4]).write_bytes(data[:-2000])
    started = time.monotonic()
    done = subprocess.run(["bash", str(ROOT / "vision/ssd_mobilenet/verify_dataset.sh"), "-d", str(coco),
                           "--any-count"], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable})
    assert done.returncode == 1 and time.monotonic() - started < 60
    assert done.stderr.splitlines() == [
        f"error: 1 images are empty (0 bytes), e.g. {coco}/val2017/{names[2]}; delete them and run "
        "download_dataset.sh again",
        f"error: 1 images are truncated JPEGs (no end-of-image marker), e.g. {coco}/val2017/{names[4]}; delete "
        "them and run download_dataset.sh again"]
    assert "Traceback" not in done.stderr


def test_a_missing_or_empty_coco_image_is_refused_when_the_dataset_opens(coco: Path, tmp_path: Path) -> None:
    names = coco_names(coco)
    (coco / "val2017" / names[1]).unlink()
    (coco / "val2017" / names[3]).write_bytes(b"")
    with pytest.raises(UsageError) as refused:
        CocoDataset(coco, Recipe("x", keep_source), options(tmp_path / "cache"))
    assert str(refused.value) == (
        f"--dataset-path {coco}: 1 of the 8 images in val2017 are missing ({names[1]}); 1 of the 8 images in "
        f"val2017 are empty (0 bytes) ({names[3]}); run verify_dataset.sh, and download_dataset.sh again to "
        "restore them")


def test_the_command_line_refuses_a_missing_coco_image_before_loadgen(coco: Path, tmp_path: Path) -> None:
    name = coco_names(coco)[5]
    (coco / "val2017" / name).unlink()
    out = tmp_path / "out"
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "tools.cli", "run", "ssd-mobilenet", "--backend", "null",
                           "--scenario", "Offline", "--quick", "--dataset-path", str(coco), "--output", str(out),
                           "--cache-dir", str(tmp_path / "cache")], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)
    assert done.returncode == 2 and time.monotonic() - started < 60
    assert done.stderr.splitlines() == [
        f"error: --dataset-path {coco}: 1 of the 8 images in val2017 are missing ({name}); run "
        "verify_dataset.sh, and download_dataset.sh again to restore them"]
    assert not (out / "results.json").exists() and not list(out.rglob("mlperf_log_*"))
