"""A small synthetic COCO-layout folder: drawn shapes with their boxes as annotations.

For tests and the quick start only: the real category ids and names, images of varied sizes, a few
annotations per image, and some images without any annotation (as the 48 of COCO val2017). Beside them,
a few pictures in ``train2017/`` named in ``calibration_list.txt``: what ``mlperf-ref calibrate
--calibration-list`` can use here (a model calibrated on them is marked not valid for submission).
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from common.atomic import atomic_open, atomic_write_text
from common.samples import SAMPLE_CALIBRATION_LIST
from vision.coco.annotations import ANNOTATIONS_FILE, IMAGES_DIR, coco_categories
from vision.coco.calibration_lists import CALIBRATION_IMAGES_DIR

# (width, height) of each synthetic image; every third image has no annotation
SAMPLE_SIZES = (
    (640, 480),
    (480, 640),
    (500, 375),
    (427, 640),
    (640, 427),
    (320, 240),
    (612, 612),
    (640, 360),
)
IMAGE_ID_BASE = 100  # synthetic image ids: 100, 101, ... (any positive ints do)
CALIBRATION_SIZES = ((640, 480), (480, 640), (500, 333), (612, 612))  # the train2017/ calibration pictures
CALIBRATION_ID_BASE = 900  # their ids, apart from the validation pictures'
CALIBRATION_SEED_OFFSET = 1  # their random stream, apart from the validation pictures' one


def _draw_image(
    rng: np.random.Generator, width: int, height: int, with_objects: bool
) -> tuple[np.ndarray, list]:
    image = np.full((height, width, 3), rng.integers(40, 200, 3), dtype=np.uint8)
    image = cv2.add(image, rng.integers(0, 20, (height, width, 3), dtype=np.uint8))
    boxes = []
    for _ in range(int(rng.integers(1, 4)) if with_objects else 0):
        w, h = int(rng.integers(width // 8, width // 2)), int(rng.integers(height // 8, height // 2))
        x, y = int(rng.integers(0, width - w)), int(rng.integers(0, height - h))
        color = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            cv2.rectangle(image, (x, y), (x + w - 1, y + h - 1), color, thickness=-1)
        else:
            cv2.ellipse(image, (x + w // 2, y + h // 2), (w // 2, h // 2), 0, 0, 360, color, thickness=-1)
        boxes.append([float(x), float(y), float(w), float(h)])
    return image, boxes


def make_coco_samples(output: Path, seed: int = 0) -> Path:
    """Write ``output/val2017/*.jpg`` and ``output/annotations/instances_val2017.json``; return ``output``."""
    output = Path(output)
    rng = np.random.default_rng(seed)
    categories = coco_categories()
    images, annotations = [], []
    for index, (width, height) in enumerate(SAMPLE_SIZES):
        image_id = IMAGE_ID_BASE + index
        file_name = f"{image_id:012d}.jpg"
        image, boxes = _draw_image(rng, width, height, with_objects=index % 3 != 2)
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])
        assert ok
        with atomic_open(output / IMAGES_DIR / file_name, "wb") as handle:
            handle.write(encoded.tobytes())
        images.append({"id": image_id, "file_name": file_name, "height": height, "width": width})
        for x, y, w, h in boxes:
            category = categories[int(rng.integers(0, len(categories)))]["id"]
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": category,
                    "bbox": [x, y, w, h],
                    "area": w * h,
                    "iscrowd": 0,
                    "segmentation": [[x, y, x + w, y, x + w, y + h, x, y + h]],
                }
            )
    data = {
        "info": {"description": "synthetic COCO-layout sample (not COCO data)"},
        "images": images,
        "annotations": annotations,
        "categories": categories,
    }
    write_calibration_pictures(output, seed + CALIBRATION_SEED_OFFSET)
    atomic_write_text(output / ANNOTATIONS_FILE, json.dumps(data) + "\n")
    return output


def write_calibration_pictures(output: Path, seed: int) -> None:
    """``output/train2017/*.jpg`` and ``output/calibration_list.txt`` naming them."""
    rng = np.random.default_rng(seed)
    names = []
    for index, (width, height) in enumerate(CALIBRATION_SIZES):
        name = f"{CALIBRATION_ID_BASE + index:012d}.jpg"
        image, _ = _draw_image(rng, width, height, with_objects=True)
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])
        assert ok
        with atomic_open(output / CALIBRATION_IMAGES_DIR / name, "wb") as handle:
            handle.write(encoded.tobytes())
        names.append(name)
    atomic_write_text(output / SAMPLE_CALIBRATION_LIST, "".join(f"{n}\n" for n in names))
