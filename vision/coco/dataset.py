"""The COCO QSL dataset: samples in annotation-file order, preprocessed on all cores and cached; and the
calibration images of ``train2017/``, preprocessed by the same recipe.

What is cached is what is exact: a recipe names the tensor that goes to the cache (``cached``) and an
optional step applied when the QSL loads the sample (``finish``), outside the timed part.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from common.benchmark import Dataset, DatasetOptions
from common.cache import cache_folder, load_cached
from common.errors import UsageError
from vision.coco.annotations import IMAGES_DIR, CocoIndex, load_index
from vision.coco.calibration_lists import CALIBRATION_IMAGES_DIR
from vision.coco.preprocess import read_bgr
from vision.image_file import missing_or_empty, unusable_summary

CACHE_VERSION = 1  # bump when the code that fills the cache changes what it writes


@dataclass(frozen=True)
class Recipe:
    """How a sample becomes the model input: the cached part and the part done at load time."""

    name: str  # cache folder prefix, e.g. "coco-300-uint8"
    cached: Callable[[np.ndarray], np.ndarray]  # BGR uint8 source -> cached array (picklable)
    finish: Callable[[np.ndarray], np.ndarray] | None = None  # cached array -> model input
    key: dict[str, Any] = field(default_factory=dict)  # everything that shapes the cached tensor


def keep_source(bgr: np.ndarray) -> np.ndarray:
    """The decoded source image itself (uint8 HWC BGR): exact and about 0.9 MB for a COCO image."""
    return bgr


def finish_into_rows(arrays: Sequence[np.ndarray], finish: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``finish`` of each array, written straight into its row of one new array.

    A finished sample can be far larger than its cached source (17.3 MB for SSD-ResNet34's input): filling
    the rows one by one never holds a second copy of the whole load.
    """
    first = finish(arrays[0])
    batch = np.empty((len(arrays), *first.shape), first.dtype)
    batch[0] = first
    for row in range(1, len(arrays)):
        batch[row] = finish(arrays[row])
    return batch


def _compute(folder: Path, cached: Callable[[np.ndarray], np.ndarray], file_name: str) -> np.ndarray:
    return cached(read_bgr(folder / file_name))


class CocoImages(Dataset):
    """Named images of one folder of a COCO-layout dataset (``val2017``, ``train2017``), preprocessed by the
    recipe and cached: the model inputs as rows of one array, in the given order."""

    def __init__(self, root: Path, folder: str, names: Sequence[str], recipe: Recipe, options: DatasetOptions,
                 cache_key: dict[str, Any]) -> None:
        self.root = Path(root)
        self.folder = folder
        self.names = tuple(names)
        self.recipe = recipe
        self.options = options
        self.cache = cache_folder(Path(options.cache_dir), recipe.name, cache_key)
        self._compute = functools.partial(_compute, self.root / folder, recipe.cached)
        self._source = (self.root / folder).joinpath  # the image a cache entry is stamped with

    def __len__(self) -> int:
        return len(self.names)

    def load(self, indices: Sequence[int]) -> np.ndarray:
        """The model inputs as rows of one C-contiguous array, in the given order."""
        names = [self.names[i] for i in indices]
        arrays = load_cached(
            self.cache,
            names,
            self._compute,
            self.options.workers,
            f"preprocessing {self.recipe.name}",
            self.options.progress,
            source=self._source,
        )
        if self.recipe.finish is None:
            return np.stack(arrays)
        return finish_into_rows(arrays, self.recipe.finish)

    def describe(self) -> dict[str, Any]:
        return {"samples": len(self), "path": str(self.root / self.folder), "cache": str(self.cache),
                "cached": self.recipe.name}


def _key(root: Path, recipe: Recipe) -> dict[str, Any]:
    return {"recipe": recipe.name, "dataset": str(Path(root).resolve()), "version": CACHE_VERSION, **recipe.key}


class CocoDataset(CocoImages):
    """The images of a COCO-layout folder, in the order of ``images`` in the annotation file."""

    def __init__(self, root: Path, recipe: Recipe, options: DatasetOptions) -> None:
        self.index: CocoIndex = load_index(Path(root))
        images = self.index.images
        if options.count is not None:
            if options.count < 1:
                raise UsageError(f"--count {options.count}: must be at least 1")
            images = images[: options.count]
        self.images = images
        unusable = missing_or_empty(self.index.root / IMAGES_DIR, [i.file_name for i in images])
        if unusable:
            raise UsageError(
                f"--dataset-path {root}: {unusable_summary(unusable, f'the {len(images)} images in {IMAGES_DIR}')}; "
                "run verify_dataset.sh, and download_dataset.sh again to restore them")
        super().__init__(self.index.root, IMAGES_DIR, [i.file_name for i in images], recipe, options,
                         _key(self.index.root, recipe))

    def describe(self) -> dict[str, Any]:
        return {"samples": len(self), "path": str(self.index.root), "annotations": str(self.index.annotations_file),
                "cache": str(self.cache), "cached": self.recipe.name}


def open_calibration_images(root: Path, names: Sequence[str], recipe: Recipe, options: DatasetOptions) -> CocoImages:
    """The calibration images ``names`` of ``root/train2017`` (the official list names training images),
    preprocessed by the benchmark's recipe, in a cache folder of their own."""
    folder = Path(root) / CALIBRATION_IMAGES_DIR
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        raise UsageError(
            f"--dataset-path {root}: {len(missing)} of the {len(names)} calibration images are missing from "
            f"{folder} ({shown}); the COCO calibration images are COCO 2017 training images: put them there "
            "(see the benchmark's README, 'int8')")
    key = {**_key(root, recipe), "images": CALIBRATION_IMAGES_DIR}
    return CocoImages(root, CALIBRATION_IMAGES_DIR, names, recipe, options, key)
