"""The v0.5 COCO preprocessing: imread, float32 first, BGR to RGB, resize the float image (INTER_LINEAR).

The reference converts to float32 *before* resizing; resizing the uint8 image instead changes the
input of almost every image, so every recipe here starts from :func:`resized_rgb_float`.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from vision.image_file import read_image

# v0.5 dataset.py pre_process_coco_resnet34: torchvision ImageNet statistics on x / 255
RESNET34_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
RESNET34_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
# v0.5 dataset.py pre_process_coco_pt_mobilenet: (x - 127.5) / 127.5
MOBILENET_MEAN = 127.5
MOBILENET_STD = 127.5


def read_bgr(path: Path) -> np.ndarray:
    """``cv2.imread`` with 3 channels (uint8 HWC BGR); BadImage (a UsageError) naming a missing, empty,
    truncated or undecodable file (vision/image_file.py: verify_dataset.sh's rule)."""
    return read_image(path, cv2.IMREAD_COLOR)


def resized_rgb_float(bgr: np.ndarray, size: int) -> np.ndarray:
    """float32 first, then BGR to RGB, then resize to ``size`` x ``size`` (INTER_LINEAR, no aspect kept)."""
    image = bgr.astype(np.float32)
    if image.ndim == 2:  # v0.5: gray to RGB
        image = np.stack([image] * 3, axis=-1)
    image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_LINEAR)


def mobilenet_uint8_nhwc(bgr: np.ndarray, size: int = 300) -> np.ndarray:
    """The official TF/ONNX SSD-MobileNet input: the float result cast to uint8 by truncation, HWC."""
    return resized_rgb_float(bgr, size).astype(np.uint8)  # numpy cast truncates, as the reference


def mobilenet_float_nchw(bgr: np.ndarray, size: int = 300) -> np.ndarray:
    """The PyTorch-port SSD-MobileNet input: (x - 127.5) / 127.5, float32 CHW."""
    image = (resized_rgb_float(bgr, size) - MOBILENET_MEAN) / MOBILENET_STD
    return np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32)


def resnet34_float_nchw(bgr: np.ndarray, size: int = 1200) -> np.ndarray:
    """The SSD-ResNet34 input: x / 255, minus mean, divided by std, float32 CHW."""
    image = resized_rgb_float(bgr, size) / 255.0
    image = (image - RESNET34_MEAN) / RESNET34_STD
    return np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32)
