"""ImageNetDataset: val_map order, model-ready samples, the keyed uint8 cache, clear errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from common.benchmark import DatasetOptions
from common.errors import UsageError
from vision.imagenet.dataset import ImageNetDataset
from vision.imagenet.preprocess import Preprocessing, crop_file, scale_to_unit_range, subtract_means
from vision.imagenet.val_map import read_val_map

RESNET = Preprocessing(cv2.INTER_AREA, subtract_means)
MOBILENET = Preprocessing(cv2.INTER_LINEAR, scale_to_unit_range)


def options(cache: Path, layout: str = "NCHW", count: int | None = None, workers: int = 1) -> DatasetOptions:
    return DatasetOptions(backend="onnxruntime", layout=layout, cache_dir=cache, workers=workers, count=count,
                          progress=False)


@pytest.fixture
def folder(imagenet_samples: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "imagenet"
    shutil.copytree(imagenet_samples, copy)
    return copy


def test_samples_are_normalized_images_in_val_map_order(imagenet_samples: Path, tmp_path: Path) -> None:
    dataset = ImageNetDataset(imagenet_samples, RESNET, options(tmp_path / "cache", workers=2))
    assert len(dataset) == len(read_val_map(imagenet_samples))
    samples = dataset.load([4, 0])
    assert samples.shape == (2, 3, 224, 224) and samples.dtype == np.float32
    name = read_val_map(imagenet_samples).names[4]
    expected = RESNET.to_model_input(crop_file(name, imagenet_samples, cv2.INTER_AREA)[None], "NCHW")[0]
    np.testing.assert_array_equal(samples[0], expected)
    nhwc = ImageNetDataset(imagenet_samples, RESNET, options(tmp_path / "cache", "NHWC")).load([4])[0]
    np.testing.assert_array_equal(nhwc, expected.transpose(1, 2, 0))


@pytest.mark.parametrize(("preprocessing", "layout"), [(RESNET, "NCHW"), (RESNET, "NHWC"), (MOBILENET, "NCHW")])
def test_load_returns_one_contiguous_array_of_the_samples_in_order(imagenet_samples, tmp_path, preprocessing,
                                                                   layout) -> None:
    dataset = ImageNetDataset(imagenet_samples, preprocessing, options(tmp_path, layout))
    block = dataset.load([3, 1, 2, 3])
    assert isinstance(block, np.ndarray) and block.flags.c_contiguous and block.dtype == np.float32
    names = read_val_map(imagenet_samples).names
    for row, index in zip(block, [3, 1, 2, 3], strict=True):  # each row is that sample preprocessed alone
        crop = crop_file(names[index], imagenet_samples, preprocessing.interpolation)
        np.testing.assert_array_equal(row, preprocessing.to_model_input(crop[None], layout)[0])


def test_count_takes_the_first_samples(imagenet_samples: Path, tmp_path: Path) -> None:
    dataset = ImageNetDataset(imagenet_samples, RESNET, options(tmp_path, count=3))
    assert len(dataset) == 3
    assert dataset.labels.tolist() == read_val_map(imagenet_samples).labels[:3].tolist()


def test_cache_holds_uint8_crops_and_is_reused(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = ImageNetDataset(folder, RESNET, options(cache, count=2))
    before = first.load([0, 1])
    entries = sorted(first.cache_dir.glob("*.npy"))
    assert len(entries) == 2
    stored = np.load(entries[0])
    assert stored.dtype == np.uint8 and stored.shape == (224, 224, 3)
    key = json.loads((first.cache_dir / "key.json").read_text())
    assert key["interpolation"] == "INTER_AREA" and key["crop"] == 224 and key["resize_shorter"] == 256
    assert key["opencv"] == cv2.__version__
    # Unchanged images are not decoded again (a changed one is: tests/common/test_cache_invalidation.py).
    second = ImageNetDataset(folder, RESNET, options(cache, count=2))
    assert second.preprocess([0, 1]) == 0
    again = second.load([0, 1])
    for a, b in zip(before, again, strict=True):
        np.testing.assert_array_equal(a, b)


def test_preprocess_fills_only_the_missing_entries_with_the_crops_load_returns(folder: Path, tmp_path: Path) -> None:
    dataset = ImageNetDataset(folder, RESNET, options(tmp_path / "cache"))
    assert dataset.preprocess([0, 2]) == 2
    assert dataset.preprocess([0, 1, 2]) == 1  # only image 1 was missing
    assert dataset.preprocess([0, 1, 2]) == 0
    np.testing.assert_array_equal(np.load(dataset.cache_dir / f"{dataset.names[2]}.npy"),
                                  crop_file(dataset.names[2], folder, cv2.INTER_AREA))


def test_cache_key_changes_with_interpolation_and_val_map(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    resnet = ImageNetDataset(folder, RESNET, options(cache)).cache_dir
    assert ImageNetDataset(folder, MOBILENET, options(cache)).cache_dir != resnet
    assert ImageNetDataset(folder, RESNET, options(cache, "NHWC")).cache_dir == resnet  # layout comes later
    val_map = folder / "val_map.txt"
    val_map.write_text(val_map.read_text().replace(" ", "  ", 1))
    assert ImageNetDataset(folder, RESNET, options(cache)).cache_dir != resnet


def test_missing_images_are_named(folder: Path, tmp_path: Path) -> None:
    name = read_val_map(folder).names[2]
    (folder / name).unlink()
    with pytest.raises(UsageError, match=rf"1 of the 20 images listed in val_map.txt are missing \({name}\)"):
        ImageNetDataset(folder, RESNET, options(tmp_path))
    assert len(ImageNetDataset(folder, RESNET, options(tmp_path, count=2))) == 2  # not among the first two


def test_corrupt_image_fails_loading_with_its_name(folder: Path, tmp_path: Path) -> None:
    name = read_val_map(folder).names[0]
    (folder / name).write_bytes(b"corrupt")
    dataset = ImageNetDataset(folder, RESNET, options(tmp_path, count=1))
    with pytest.raises(ValueError, match=rf"{name}: does not decode as an image"):
        dataset.load([0])
