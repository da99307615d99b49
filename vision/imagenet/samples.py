"""A small deterministic synthetic ImageNet-layout folder, for tests and the quick start.

It has the real layout (JPEG files and a ``val_map.txt``) and sizes that exercise the preprocessing:
landscape, portrait, square, exactly 224, smaller than 224 (upscaled), very elongated, and grayscale
files. The pictures are smooth gradients with shapes; the labels are drawn at random. Any accuracy
measured on this folder is meaningless.

Beside them, a few more pictures that val_map.txt does not list, named in ``calibration_list.txt``: what
``mlperf-ref calibrate --calibration-list`` can use here (as the official lists name images no synthetic
folder has); a model calibrated on them is marked not valid for submission.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from common.atomic import atomic_write_bytes, atomic_write_text
from common.samples import SAMPLE_CALIBRATION_LIST, SYNTHETIC_MARKER
from vision.imagenet.val_map import NUM_CLASSES, VAL_MAP

FOLDER = "imagenet"
SEED = 20190610  # any fixed value: the set must be the same on every machine
JPEG_QUALITY = 90
# (width, height, grayscale) of each synthetic image
SIZES: tuple[tuple[int, int, bool], ...] = (
    (500, 375, False), (375, 500, False), (256, 256, False), (224, 224, False), (640, 480, False),
    (320, 240, True), (300, 200, False), (200, 300, False), (100, 80, False), (1024, 683, False),
    (333, 333, True), (257, 1000, False), (800, 257, False), (480, 640, False), (350, 260, False),
    (260, 350, True), (512, 384, False), (227, 300, False), (301, 227, False), (612, 612, False),
)
# (width, height, grayscale) of each calibration picture: apart from the validation pictures, as the rules
# keep calibration images apart from the ones accuracy is measured on
CALIBRATION_SIZES: tuple[tuple[int, int, bool], ...] = (
    (500, 375, False), (375, 500, False), (300, 300, True), (640, 427, False),
    (256, 320, False), (800, 600, False), (224, 224, False), (410, 300, False),
)
CALIBRATION_INDEX_BASE = 1000  # the calibration pictures' random streams, apart from the validation ones
NOTE = ("Synthetic images in the ImageNet validation layout, written by 'mlperf-ref make-samples'.\n"
        "They are not ImageNet: accuracy measured on them means nothing.\n")


def sample_names() -> list[str]:
    return [f"synthetic_val_{i + 1:08d}.JPEG" for i in range(len(SIZES))]


def synthetic_image(index: int, width: int, height: int, grayscale: bool) -> np.ndarray:
    """A smooth picture with a few shapes, uint8 BGR (or one channel when ``grayscale``)."""
    rng = np.random.default_rng([SEED, index])
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = rng.uniform(0, 255, 3).astype(np.float32)
    slope = rng.uniform(-1, 1, (2, 3)).astype(np.float32) * 200
    image = base + x[..., None] / width * slope[0] + y[..., None] / height * slope[1]
    image = np.clip(image, 0, 255).astype(np.uint8)
    for _ in range(4):
        center = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        axes = (int(rng.integers(5, max(6, width // 3))), int(rng.integers(5, max(6, height // 3))))
        color = tuple(int(c) for c in rng.integers(0, 256, 3))
        cv2.ellipse(image, center, axes, float(rng.uniform(0, 180)), 0, 360, color, -1)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if grayscale else image


def calibration_names() -> list[str]:
    return [f"synthetic_cal_{i + 1:08d}.JPEG" for i in range(len(CALIBRATION_SIZES))]


def calibration_list_text() -> str:
    return "".join(f"{name}\n" for name in calibration_names())


def sample_labels() -> list[int]:
    rng = np.random.default_rng([SEED, len(SIZES)])
    return [int(v) for v in rng.integers(0, NUM_CLASSES, len(SIZES))]


def val_map_text() -> str:
    return "".join(f"{name} {label}\n" for name, label in zip(sample_names(), sample_labels(), strict=True))


def is_complete(folder: Path) -> bool:
    """True when ``folder`` already holds this sample set."""
    val_map = folder / VAL_MAP
    return (val_map.is_file() and val_map.read_text(encoding="utf-8") == val_map_text()
            and all((folder / name).is_file() for name in sample_names() + calibration_names())
            and (folder / SAMPLE_CALIBRATION_LIST).is_file())


def write_samples(output: Path) -> Path:
    """Write ``output/imagenet`` (once; a complete folder is left alone) and return it."""
    folder = Path(output) / FOLDER
    if is_complete(folder):
        return folder
    pictures = [(index, name, size) for index, (name, size) in enumerate(zip(sample_names(), SIZES, strict=True))]
    pictures += [(CALIBRATION_INDEX_BASE + index, name, size) for index, (name, size)
                 in enumerate(zip(calibration_names(), CALIBRATION_SIZES, strict=True))]
    for index, name, (width, height, gray) in pictures:
        ok, data = cv2.imencode(".jpg", synthetic_image(index, width, height, gray),
                                [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise RuntimeError(f"OpenCV could not encode {name}")
        atomic_write_bytes(folder / name, data.tobytes())
    atomic_write_text(folder / SYNTHETIC_MARKER, NOTE)
    atomic_write_text(folder / SAMPLE_CALIBRATION_LIST, calibration_list_text())
    atomic_write_text(folder / VAL_MAP, val_map_text())  # last: its presence marks the folder complete
    return folder
