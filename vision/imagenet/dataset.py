"""The ImageNet validation set as the harness's Dataset: val_map.txt order, cached uint8 crops; and the
calibration images of the same folder, cropped and cached the same way (one cache for both)."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from common.benchmark import Dataset, DatasetOptions
from common.cache import cache_folder, fill_cache, load_cached
from common.errors import UsageError
from vision.image_file import missing_or_empty, unusable_summary
from vision.imagenet.preprocess import Preprocessing, crop_file
from vision.imagenet.val_map import VAL_MAP, read_val_map

CACHE_VERSION = 1  # bump when the crop code changes in a way the key does not show


class ImageNetImages(Dataset):
    """Named images of an ImageNet-layout folder as float32 samples in the model's layout, normalized when
    loaded from their cached uint8 crops.

    The cache folder is keyed by the dataset folder (its val_map.txt included) and the crop recipe, not by
    which images are asked for: the validation run and the calibration share their crops. Each entry is
    stamped with its image's size and times: a changed image is cropped again.
    """

    def __init__(self, path: Path, names: Sequence[str], preprocessing: Preprocessing,
                 options: DatasetOptions) -> None:
        self.path = Path(path)
        self.names = tuple(names)
        self.preprocessing = preprocessing
        self.options = options
        read_val_map(self.path)  # a clear error for a folder that is not an ImageNet dataset
        key = {
            "dataset": str(self.path.resolve()),
            "val_map_sha256": hashlib.sha256((self.path / VAL_MAP).read_bytes()).hexdigest(),
            "version": CACHE_VERSION,
            **preprocessing.crop_key(),
        }
        self.cache_dir = cache_folder(options.cache_dir, "imagenet", key)
        self._crop = functools.partial(crop_file, root=self.path.resolve(),
                                       interpolation=preprocessing.interpolation,
                                       shorter=preprocessing.shorter, crop=preprocessing.crop)
        self._source = self.path.resolve().joinpath  # the image a cache entry is stamped with

    def __len__(self) -> int:
        return len(self.names)

    def preprocess(self, indices: Sequence[int]) -> int:
        """Crop and cache the given samples not cached yet, on all cores; how many were computed."""
        return fill_cache(self.cache_dir, [self.names[i] for i in indices], self._crop, self.options.workers,
                          "preprocessing ImageNet", self.options.progress, source=self._source)

    def crops(self, indices: Sequence[int]) -> np.ndarray:
        """uint8 NHWC crops of the given samples (computed on all cores once, then read from the cache)."""
        names = [self.names[i] for i in indices]
        arrays = load_cached(self.cache_dir, names, self._crop, workers=self.options.workers,
                             desc="preprocessing ImageNet", show_progress=self.options.progress,
                             source=self._source)
        return np.stack(arrays) if arrays else np.empty((0, 0, 0, 3), np.uint8)

    def load(self, indices: Sequence[int]) -> np.ndarray:
        """The samples as rows of one C-contiguous float32 array in the model's layout."""
        return np.ascontiguousarray(self.preprocessing.to_model_input(self.crops(indices), self.options.layout))

    def describe(self) -> dict[str, Any]:
        return {"samples": len(self), "path": str(self.path), "cache": str(self.cache_dir)}


class ImageNetDataset(ImageNetImages):
    """The validation images in val_map.txt order, with their labels."""

    def __init__(self, path: Path, preprocessing: Preprocessing, options: DatasetOptions) -> None:
        val_map = read_val_map(Path(path))
        count = len(val_map) if options.count is None else min(options.count, len(val_map))
        if count < 1:
            raise UsageError(f"--count {options.count}: use at least one sample")
        unusable = missing_or_empty(Path(path), val_map.names[:count])
        if unusable:
            raise UsageError(
                f"--dataset-path {path}: {unusable_summary(unusable, f'the {count} images listed in {VAL_MAP}')}; "
                "run verify_dataset.sh, and download_dataset.sh again to restore them"
            )
        super().__init__(path, val_map.names[:count], preprocessing, options)
        self.labels = val_map.labels[:count]


def open_calibration_images(path: Path, names: Sequence[str], preprocessing: Preprocessing,
                            options: DatasetOptions) -> ImageNetImages:
    """The calibration images ``names``: files of the validation folder (the official lists name
    validation images), cropped and cached as the validation run crops them."""
    unusable = missing_or_empty(Path(path), names)
    if unusable:
        raise UsageError(
            f"--dataset-path {path}: {unusable_summary(unusable, f'the {len(names)} calibration images')}; "
            "the ImageNet calibration images are validation images: run download_dataset.sh, or verify_dataset.sh")
    return ImageNetImages(path, names, preprocessing, options)
