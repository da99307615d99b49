"""The synthetic ImageNet folder: layout, varied image shapes, determinism, written once."""

from __future__ import annotations

import os
from pathlib import Path

import cv2

from common.samples import SYNTHETIC_MARKER
from vision.imagenet.samples import SIZES, write_samples
from vision.imagenet.val_map import read_val_map


def test_layout_and_image_shapes(imagenet_samples: Path) -> None:
    assert imagenet_samples.name == "imagenet"
    assert (imagenet_samples / SYNTHETIC_MARKER).is_file()
    val_map = read_val_map(imagenet_samples)
    assert len(val_map) == len(SIZES) == 20
    shapes = [cv2.imread(str(imagenet_samples / n), cv2.IMREAD_UNCHANGED).shape for n in val_map.names]
    assert (375, 500, 3) in shapes  # landscape 500x375 (the fact the preprocessing tests use)
    assert (500, 375, 3) in shapes  # portrait
    assert (256, 256, 3) in shapes  # square
    assert (80, 100, 3) in shapes  # smaller than the crop
    assert sum(len(s) == 2 for s in shapes) == 3  # grayscale files
    assert len(set(val_map.labels.tolist())) > 10


def test_deterministic_and_written_once(imagenet_samples: Path, tmp_path: Path) -> None:
    other = write_samples(tmp_path)
    for name in read_val_map(imagenet_samples).names + ("val_map.txt",):
        assert (other / name).read_bytes() == (imagenet_samples / name).read_bytes()
    stamp = (other / "val_map.txt").stat().st_mtime_ns
    os.utime(other / "val_map.txt", ns=(stamp - 10**9, stamp - 10**9))
    write_samples(tmp_path)
    assert (other / "val_map.txt").stat().st_mtime_ns == stamp - 10**9  # complete: left alone
    first = other / read_val_map(other).names[0]
    first.unlink()
    write_samples(tmp_path)
    assert first.read_bytes() == (imagenet_samples / first.name).read_bytes()  # incomplete: rewritten
