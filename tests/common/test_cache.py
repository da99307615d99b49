"""The preprocessing cache: keyed folders, entries computed once, the same on one core or a pool."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from common.cache import IN_PROCESS_SAMPLES_PER_WORKER, cache_folder, entry_path, fill_cache, load_cached


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


def test_a_process_pool_stores_the_same_entries(tmp_path: Path) -> None:
    names = [str(i) for i in range(2 * IN_PROCESS_SAMPLES_PER_WORKER + 5)]  # enough to start the pool
    pooled = cache_folder(tmp_path, "pool", {})
    assert fill_cache(pooled, names, np.asarray, workers=2, desc="pool", show_progress=False) == len(names)
    serial = load_cached(cache_folder(tmp_path, "serial", {}), names, np.asarray, workers=1, show_progress=False)
    assert [a.item() for a in load_cached(pooled, names, np.asarray, workers=2)] == [a.item() for a in serial]
    assert not list(pooled.rglob("*.tmp"))  # nothing half-written left behind
