"""The v0.5 ImageNet preprocessing, detail by detail: sizes, crop, uint8 resize, colours, normalization."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from vision.imagenet.preprocess import (
    RESIZE_SHORTER,
    RESNET_MEANS,
    Preprocessing,
    crop_box,
    crop_file,
    decode_rgb,
    resize_and_crop,
    resized_size,
    scale_to_unit_range,
    subtract_means,
)
from vision.imagenet.val_map import read_val_map
from vision.mobilenet.benchmark import MobileNetBenchmark
from vision.resnet50.benchmark import ResNet50Benchmark


def test_resize_target_is_256() -> None:
    assert RESIZE_SHORTER == 256  # int(100 * 224 / 87.5)


def test_500x375_is_resized_to_341x256_and_cropped_at_58_16() -> None:
    assert resized_size(500, 375) == (341, 256)
    assert crop_box(341, 256) == (58, 16, 282, 240)


def test_portrait_and_square_sizes() -> None:
    assert resized_size(375, 500) == (256, 341)
    assert crop_box(256, 341) == (16, 58, 240, 282)
    assert resized_size(300, 300) == (256, 256)
    assert crop_box(256, 256) == (16, 16, 240, 240)
    assert resized_size(100, 80) == (320, 256)  # small images are enlarged


def test_crop_is_the_centre_of_the_uint8_resize() -> None:
    image = np.random.default_rng(0).integers(0, 256, (375, 500, 3), dtype=np.uint8)
    crop = resize_and_crop(image, cv2.INTER_AREA)
    resized = cv2.resize(image, (341, 256), interpolation=cv2.INTER_AREA)
    assert crop.dtype == np.uint8 and crop.shape == (224, 224, 3)
    np.testing.assert_array_equal(crop, resized[16:240, 58:282])
    # One pixel off in x is another image:
    assert not np.array_equal(crop, resized[16:240, 59:283])


def test_resizing_float_data_would_give_other_inputs() -> None:
    image = np.random.default_rng(1).integers(0, 256, (375, 500, 3), dtype=np.uint8)
    ours = subtract_means(resize_and_crop(image, cv2.INTER_LINEAR)[None])[0]
    float_first = cv2.resize(image.astype(np.float32), (341, 256), interpolation=cv2.INTER_LINEAR)
    other = float_first[16:240, 58:282] - np.asarray(RESNET_MEANS, np.float32)
    assert np.mean(ours != other) > 0.5


def test_interpolation_per_model() -> None:
    assert ResNet50Benchmark.preprocessing.interpolation == cv2.INTER_AREA
    assert MobileNetBenchmark.preprocessing.interpolation == cv2.INTER_LINEAR
    image = np.random.default_rng(2).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    assert not np.array_equal(resize_and_crop(image, cv2.INTER_AREA), resize_and_crop(image, cv2.INTER_LINEAR))


def test_decode_gives_rgb_and_three_channels_for_grayscale(tmp_path: Path) -> None:
    bgr = np.zeros((20, 30, 3), np.uint8)
    bgr[..., 2] = 255  # red in OpenCV's BGR order
    cv2.imwrite(str(tmp_path / "red.png"), bgr)
    rgb = decode_rgb(tmp_path / "red.png")
    assert rgb.shape == (20, 30, 3) and rgb[0, 0].tolist() == [255, 0, 0]
    gray = np.arange(600, dtype=np.uint8).reshape(20, 30) % 251
    cv2.imwrite(str(tmp_path / "gray.png"), gray)
    decoded = decode_rgb(tmp_path / "gray.png")
    assert decoded.shape == (20, 30, 3)
    for channel in range(3):
        np.testing.assert_array_equal(decoded[..., channel], gray)


def test_undecodable_file_names_itself(tmp_path: Path) -> None:
    (tmp_path / "bad.JPEG").write_bytes(b"not a jpeg")
    with pytest.raises(ValueError, match=r"bad.JPEG: does not decode as an image; run verify_dataset.sh"):
        decode_rgb(tmp_path / "bad.JPEG")


def test_resnet_means_map_to_zero() -> None:
    means = np.asarray(RESNET_MEANS, np.float32).reshape(1, 1, 1, 3)
    assert subtract_means(means).tolist() == [[[[0.0, 0.0, 0.0]]]]
    zeros = subtract_means(np.zeros((1, 1, 1, 3), np.uint8))
    np.testing.assert_array_equal(zeros.reshape(3), -np.asarray(RESNET_MEANS, np.float32))
    assert zeros.dtype == np.float32


def test_mobilenet_maps_0_to_minus_1_and_255_to_1() -> None:
    out = scale_to_unit_range(np.asarray([0, 255, 128], np.uint8).reshape(1, 1, 1, 3))
    assert out.dtype == np.float32
    assert out.reshape(3)[:2].tolist() == [-1.0, 1.0]
    assert out.reshape(3)[2] == pytest.approx(128 / 127.5 - 1, abs=1e-6)


def test_layouts() -> None:
    crops = np.random.default_rng(3).integers(0, 256, (2, 224, 224, 3), dtype=np.uint8)
    recipe = Preprocessing(cv2.INTER_AREA, subtract_means)
    nchw = recipe.to_model_input(crops, "NCHW")
    nhwc = recipe.to_model_input(crops, "NHWC")
    assert nchw.shape == (2, 3, 224, 224) and nchw.flags.c_contiguous
    assert nhwc.shape == (2, 224, 224, 3)
    np.testing.assert_array_equal(nchw, nhwc.transpose(0, 3, 1, 2))
    assert nchw[1, 2, 5, 7] == np.float32(crops[1, 5, 7, 2]) - np.float32(RESNET_MEANS[2])


def v05_recipe(path: Path, interpolation: int, mobilenet: bool) -> np.ndarray:
    """The v0.5 recipe written out in one function, as the facts describe it (float at the very end)."""
    image = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    height, width = image.shape[:2]
    if height > width:
        w, h = 256, int(256 * height / width)
    else:
        h, w = 256, int(256 * width / height)
    image = cv2.resize(image, (w, h), interpolation=interpolation)
    image = image[int((h - 224) / 2):int((h + 224) / 2), int((w - 224) / 2):int((w + 224) / 2)]
    image = np.asarray(image, dtype="float32")
    if mobilenet:
        image /= 255.0
        image -= 0.5
        image *= 2
    else:
        image -= np.array([123.68, 116.78, 103.94], dtype=np.float32)
    return image.transpose([2, 0, 1])


@pytest.mark.parametrize("bench", [ResNet50Benchmark, MobileNetBenchmark])
def test_bit_identical_to_the_v05_recipe_on_every_sample(imagenet_samples: Path, bench) -> None:
    recipe = bench.preprocessing
    names = read_val_map(imagenet_samples).names
    crops = np.stack([crop_file(name, imagenet_samples, recipe.interpolation) for name in names])
    ours = recipe.to_model_input(crops, "NCHW")
    for index, name in enumerate(names):
        expected = v05_recipe(imagenet_samples / name, recipe.interpolation, bench is MobileNetBenchmark)
        np.testing.assert_array_equal(ours[index], expected, err_msg=name)
