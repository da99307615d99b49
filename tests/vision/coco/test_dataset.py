from __future__ import annotations

import functools
import json
import shutil

import numpy as np
import pytest

from common.benchmark import DatasetOptions
from common.cache import entry_path
from common.errors import UsageError
from vision.coco.dataset import CocoDataset, Recipe, keep_source
from vision.coco.preprocess import mobilenet_uint8_nhwc, read_bgr, resnet34_float_nchw


def options(tmp_path, count=None):
    return DatasetOptions(
        backend="onnxruntime",
        layout="NHWC",
        cache_dir=tmp_path / "cache",
        workers=1,
        count=count,
        progress=False,
    )


def test_samples_follow_the_order_of_images_in_the_annotation_file(coco_samples, tmp_path):
    data = json.loads((coco_samples / "annotations" / "instances_val2017.json").read_text())
    recipe = Recipe("coco-300", functools.partial(mobilenet_uint8_nhwc, size=300))
    dataset = CocoDataset(coco_samples, recipe, options(tmp_path))
    assert len(dataset) == len(data["images"])
    block = dataset.load([1, 0, 1])
    assert isinstance(block, np.ndarray) and block.flags.c_contiguous
    assert block.shape == (3, 300, 300, 3) and block.dtype == np.uint8
    for row, index in zip(block, [1, 0, 1], strict=True):
        expected = mobilenet_uint8_nhwc(read_bgr(coco_samples / "val2017" / data["images"][index]["file_name"]))
        np.testing.assert_array_equal(row, expected)


def test_cache_keeps_the_source_and_finishes_at_load_time(coco_samples, tmp_path):
    recipe = Recipe("coco-source", keep_source, functools.partial(resnet34_float_nchw, size=64), key={"v": 1})
    dataset = CocoDataset(coco_samples, recipe, options(tmp_path, count=2))
    assert len(dataset) == 2
    block = dataset.load([1, 0])
    assert isinstance(block, np.ndarray) and block.flags.c_contiguous
    assert block.shape == (2, 3, 64, 64) and block.dtype == np.float32
    for row, image in zip(block, [dataset.images[1], dataset.images[0]], strict=True):
        source = np.load(entry_path(dataset.cache, image.file_name))
        assert source.dtype == np.uint8 and source.ndim == 3  # the decoded image, exact
        np.testing.assert_array_equal(row, resnet34_float_nchw(source, size=64))
    assert len(list(dataset.cache.glob("*.npy"))) == 2


def test_missing_annotation_file_is_a_clear_error(coco_samples, tmp_path):
    broken = tmp_path / "coco"
    shutil.copytree(coco_samples / "val2017", broken / "val2017")
    with pytest.raises(UsageError, match="instances_val2017.json"):
        CocoDataset(broken, Recipe("x", keep_source), options(tmp_path))
