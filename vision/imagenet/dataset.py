"""The ImageNet validation set as the harness's Dataset: val_map.txt order, cached uint8 crops."""

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
from vision.imagenet.preprocess import Preprocessing, crop_file
from vision.imagenet.val_map import VAL_MAP, read_val_map

CACHE_VERSION = 1  # bump when the crop code changes in a way the key does not show
MISSING_SHOWN = 5  # how many missing files an error names


class ImageNetDataset(Dataset):
    """Samples are float32 images in the model's layout, normalized when the QSL loads them."""

    def __init__(self, path: Path, preprocessing: Preprocessing, options: DatasetOptions) -> None:
        self.path = Path(path)
        self.preprocessing = preprocessing
        self.options = options
        val_map = read_val_map(self.path)
        count = len(val_map) if options.count is None else min(options.count, len(val_map))
        if count < 1:
            raise UsageError(f"--count {options.count}: use at least one sample")
        self.names = val_map.names[:count]
        self.labels = val_map.labels[:count]
        missing = [name for name in self.names if not (self.path / name).is_file()]
        if missing:
            shown = ", ".join(missing[:MISSING_SHOWN]) + (", ..." if len(missing) > MISSING_SHOWN else "")
            raise UsageError(
                f"--dataset-path {self.path}: {len(missing)} of the {count} images listed in {VAL_MAP} "
                f"are missing ({shown}); run verify_dataset.sh, or download_dataset.sh again"
            )
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

    def __len__(self) -> int:
        return len(self.names)

    def preprocess(self, indices: Sequence[int]) -> int:
        """Crop and cache the given samples not cached yet, on all cores; how many were computed."""
        return fill_cache(self.cache_dir, [self.names[i] for i in indices], self._crop, self.options.workers,
                          "preprocessing ImageNet", self.options.progress)

    def crops(self, indices: Sequence[int]) -> np.ndarray:
        """uint8 NHWC crops of the given samples (computed on all cores once, then read from the cache)."""
        names = [self.names[i] for i in indices]
        arrays = load_cached(self.cache_dir, names, self._crop, workers=self.options.workers,
                             desc="preprocessing ImageNet", show_progress=self.options.progress)
        return np.stack(arrays) if arrays else np.empty((0, 0, 0, 3), np.uint8)

    def load(self, indices: Sequence[int]) -> np.ndarray:
        """The samples as rows of one C-contiguous float32 array in the model's layout."""
        return np.ascontiguousarray(self.preprocessing.to_model_input(self.crops(indices), self.options.layout))

    def describe(self) -> dict[str, Any]:
        return {"samples": len(self), "path": str(self.path), "cache": str(self.cache_dir)}
