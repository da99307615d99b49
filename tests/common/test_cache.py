"""The preprocessing cache: keyed folders, entries computed once, the same on one core or on threads."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from common.cache import cache_folder, entry_path, fill_cache, load_cached


def test_every_setting_in_the_key_gives_its_own_folder(tmp_path: Path) -> None:
    area = cache_folder(tmp_path, "imagenet", {"interpolation": "INTER_AREA", "crop": 224})
    linear = cache_folder(tmp_path, "imagenet", {"interpolation": "INTER_LINEAR", "crop": 224})
    assert area != linear and area.name.startswith("imagenet-")
    assert cache_folder(tmp_path, "imagenet", {"crop": 224, "interpolation": "INTER_AREA"}) == area  # key order
    assert json.loads((area / "key.json").read_text()) == {"crop": 224, "interpolation": "INTER_AREA"}


def test_entries_are_computed_once_and_read_back(tmp_path: Path) -> None:
    folder = cache_folder(tmp_path, "t", {"v": 1})
    names = ["a/1", "b/2", "c"]  # sample names may hold folders
    arrays = load_cached(folder, names, np.asarray, workers=1, show_progress=False)
    assert [a.item() for a in arrays] == names
    assert entry_path(folder, "a/1").is_file()
    assert fill_cache(folder, names, np.asarray, workers=1, desc="again", show_progress=False) == 0


def test_worker_threads_store_the_same_entries_with_one_opencv_thread_each(tmp_path: Path) -> None:
    names = [str(i) for i in range(37)]
    seen: list[tuple[str, int]] = []

    def compute(name: str) -> np.ndarray:
        seen.append((threading.current_thread().name, cv2.getNumThreads()))
        return np.asarray(name)

    opencv_threads = cv2.getNumThreads()
    pooled = cache_folder(tmp_path, "pool", {})
    assert fill_cache(pooled, names, compute, workers=2, desc="pool", show_progress=False) == len(names)
    assert {name.startswith("preprocess") for name, _ in seen} == {True}
    assert {threads for _, threads in seen} == {1}  # one core each: OpenCV's own pool would oversubscribe
    assert cv2.getNumThreads() == opencv_threads  # given back
    serial = load_cached(cache_folder(tmp_path, "serial", {}), names, np.asarray, workers=1, show_progress=False)
    assert [a.item() for a in load_cached(pooled, names, np.asarray, workers=2)] == [a.item() for a in serial]
    assert not list(pooled.rglob("*.tmp"))  # nothing half-written left behind


def test_a_failing_sample_stops_the_fill_and_leaves_no_partial_file(tmp_path: Path) -> None:
    def compute(name: str) -> np.ndarray:
        if name == "7":
            raise ValueError(f"{name}: cannot decode this image")
        return np.asarray(name)

    folder = cache_folder(tmp_path, "failing", {})
    with pytest.raises(ValueError, match="7: cannot decode"):
        fill_cache(folder, [str(i) for i in range(20)], compute, workers=2, desc="x", show_progress=False)
    assert not entry_path(folder, "7").exists() and not list(folder.rglob("*.tmp"))
