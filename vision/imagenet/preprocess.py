"""The v0.5 reference's ImageNet preprocessing, step for step (``dataset.pre_process_vgg`` and
``pre_process_mobilenet``), split where it is cheapest to cache.

Decode with ``cv2.imread`` (3 channels: grayscale files come out as 3 equal channels), BGR to RGB, resize
the **uint8** image so its shorter side is 256 (interpolation per model), centre-crop 224: that uint8
crop is exact and is what the cache stores (150 KB). Only then float32: the per-model normalization and
the layout (NCHW/NHWC) are applied to whole batches of crops when the QSL loads them. Each detail moves
the labels of a real model (a one-pixel crop shift, another interpolation, resizing float data, BGR
order, other means), and top-1 moves with the OpenCV version, which requirements/base.txt pins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vision.image_file import read_image

CROP_RATIO_PERCENT = 87.5  # v0.5 reference: the centre crop keeps 87.5% of the resized image
CROP_SIZE = 224  # v0.5 reference: network input 224x224
RESIZE_SHORTER = int(100 * CROP_SIZE / CROP_RATIO_PERCENT)  # v0.5 reference: int(100*224/87.5) = 256
RESNET_MEANS = (123.68, 116.78, 103.94)  # v0.5 pre_process_vgg: per-channel RGB means, no scaling


def decode_rgb(path: Path) -> np.ndarray:
    """uint8 HxWx3 RGB, as ``cv2.imread`` (default flags) decodes the file; BadImage (a ValueError) naming
    a missing, empty, truncated or undecodable file (vision/image_file.py: verify_dataset.sh's rule)."""
    return cv2.cvtColor(read_image(path), cv2.COLOR_BGR2RGB)


def resized_size(width: int, height: int, shorter: int = RESIZE_SHORTER) -> tuple[int, int]:
    """(width, height) after the v0.5 aspect-preserving resize: shorter side ``shorter``, the longer
    ``int(shorter * long / short)`` (v0.5 ``resize_with_aspectratio``; a square stays square)."""
    if height > width:
        return shorter, int(shorter * height / width)
    return int(shorter * width / height), shorter


def crop_box(width: int, height: int, crop: int = CROP_SIZE) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the v0.5 centre crop: ``int((w-224)/2)`` to ``int((w+224)/2)``."""
    return (int((width - crop) / 2), int((height - crop) / 2), int((width + crop) / 2),
            int((height + crop) / 2))


def resize_and_crop(image: np.ndarray, interpolation: int, shorter: int = RESIZE_SHORTER,
                    crop: int = CROP_SIZE) -> np.ndarray:
    """The uint8 centre crop of the aspect-preserving resize (the resize works on uint8 data)."""
    height, width = image.shape[:2]
    new_width, new_height = resized_size(width, height, shorter)
    resized = cv2.resize(image, (new_width, new_height), interpolation=interpolation)
    left, top, right, bottom = crop_box(new_width, new_height, crop)
    return np.ascontiguousarray(resized[top:bottom, left:right])


def subtract_means(batch: np.ndarray) -> np.ndarray:
    """ResNet50: float32 RGB minus the per-channel means (v0.5 ``pre_process_vgg``)."""
    return batch.astype(np.float32) - np.asarray(RESNET_MEANS, dtype=np.float32)


def scale_to_unit_range(batch: np.ndarray) -> np.ndarray:
    """MobileNet: x/255, -0.5, x2 in float32, in the v0.5 order (``pre_process_mobilenet``); 0..255 -> -1..1."""
    out = batch.astype(np.float32)
    out /= np.float32(255.0)
    out -= np.float32(0.5)
    out *= np.float32(2.0)
    return out


@dataclass(frozen=True)
class Preprocessing:
    """One model's recipe: the interpolation of the uint8 resize and the float normalization."""

    interpolation: int  # cv2.INTER_AREA (ResNet50) or cv2.INTER_LINEAR (MobileNet)
    normalize: Callable[[np.ndarray], np.ndarray]  # uint8 NHWC batch -> float32 NHWC batch
    shorter: int = RESIZE_SHORTER
    crop: int = CROP_SIZE

    def crop_key(self) -> dict[str, object]:
        """Everything that shapes the cached uint8 crop (the normalization and layout come later)."""
        return {
            "stored": "uint8 RGB HWC centre crop",
            "decode": "cv2.imread default flags, BGR to RGB",
            "interpolation": interpolation_name(self.interpolation),
            "resize_shorter": self.shorter,
            "crop": self.crop,
            "opencv": cv2.__version__,
        }

    def to_model_input(self, crops: np.ndarray, layout: str) -> np.ndarray:
        """uint8 NHWC crops -> float32 normalized, NCHW (contiguous) or NHWC."""
        batch = self.normalize(crops)
        return np.ascontiguousarray(batch.transpose(0, 3, 1, 2)) if layout == "NCHW" else batch


def interpolation_name(flag: int) -> str:
    names = {cv2.INTER_AREA: "INTER_AREA", cv2.INTER_LINEAR: "INTER_LINEAR", cv2.INTER_CUBIC: "INTER_CUBIC"}
    return names.get(flag, str(flag))


def crop_file(name: str, root: Path, interpolation: int, shorter: int = RESIZE_SHORTER,
              crop: int = CROP_SIZE) -> np.ndarray:
    """The cached unit of work: decode ``root/name`` and return its uint8 224x224x3 crop (picklable)."""
    return resize_and_crop(decode_rgb(Path(root) / name), interpolation, shorter, crop)
