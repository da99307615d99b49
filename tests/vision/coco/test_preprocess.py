from __future__ import annotations

import cv2
import numpy as np
import pytest

from common.errors import UsageError
from vision.coco.preprocess import (
    mobilenet_float_nchw,
    mobilenet_uint8_nhwc,
    read_bgr,
    resized_rgb_float,
    resnet34_float_nchw,
)


def test_resnet34_normalization_of_black_and_white():
    black = resnet34_float_nchw(np.zeros((4, 4, 3), np.uint8), size=2)
    white = resnet34_float_nchw(np.full((4, 4, 3), 255, np.uint8), size=2)
    # facts: pixel 0 -> (-2.117904, -2.0357141, -1.8044444); 255 -> (2.2489083, 2.4285715, 2.64)
    np.testing.assert_allclose(black[:, 0, 0], [-2.117904, -2.0357141, -1.8044444], rtol=1e-6)
    np.testing.assert_allclose(white[:, 0, 0], [2.2489083, 2.4285715, 2.64], rtol=1e-6)
    assert black.shape == (3, 2, 2) and black.dtype == np.float32


def test_mobilenet_port_normalization_maps_0_and_255_to_minus_one_and_one():
    image = np.zeros((2, 2, 3), np.uint8)
    image[0, 0] = 255
    out = mobilenet_float_nchw(image, size=2)
    assert out[:, 0, 0].tolist() == [1.0, 1.0, 1.0] and out[:, 1, 1].tolist() == [-1.0, -1.0, -1.0]


def test_bgr_becomes_rgb():
    bgr = np.zeros((2, 2, 3), np.uint8)
    bgr[..., 0] = 200  # blue
    assert mobilenet_uint8_nhwc(bgr, size=2)[0, 0].tolist() == [0, 0, 200]


def test_float_resize_then_truncation_differs_from_uint8_resize():
    """The reference resizes the float image and truncates: not the same as resizing uint8 (rounds)."""
    rng = np.random.default_rng(1)
    bgr = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    ours = mobilenet_uint8_nhwc(bgr, size=30)
    float_resized = resized_rgb_float(bgr, 30)
    np.testing.assert_array_equal(ours, np.floor(float_resized).astype(np.uint8))
    uint8_resized = cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), (30, 30), interpolation=cv2.INTER_LINEAR)
    assert (ours != uint8_resized).mean() > 0.3


def test_unreadable_image_names_the_file(tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a jpeg")
    with pytest.raises(UsageError, match="broken.jpg"):
        read_bgr(bad)
