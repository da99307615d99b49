"""The preprocessing cache: one .npy per sample, in a folder keyed by everything that shapes the tensor.

A changed setting (interpolation, crop, normalization, layout, dtype, code version) gives another key and
so another folder: a stale tensor is never reused. Files are written atomically, misses are computed on
all cores with a progress bar, and hits are reused across runs.

The misses are computed on threads: decoding and resizing happen in OpenCV and numpy, which release the GIL
(OpenCV held to one thread of its own per worker), so threads use every core without a process pool's
start-up (an interpreter per worker that imports numpy and OpenCV again) or the pickling of every task
sent to it (figures: bench/PERFORMANCE.md, "Preprocessing measured as the work it is").
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from common.atomic import atomic_open, atomic_write_text
from common.progress import progress


def default_cache_dir() -> Path:
    """``$MLPERF_REF_CACHE``, else ``$XDG_CACHE_HOME/mlperf-ref``, else ``~/.cache/mlperf-ref``."""
    if os.environ.get("MLPERF_REF_CACHE"):
        return Path(os.environ["MLPERF_REF_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mlperf-ref"


def cache_folder(root: Path, name: str, key: Mapping[str, Any]) -> Path:
    """``root/<name>-<hash of key>``, with the key written beside the entries as key.json."""
    text = json.dumps(key, sort_keys=True, default=str)
    folder = Path(root) / f"{name}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"
    if not (folder / "key.json").is_file():
        atomic_write_text(folder / "key.json", json.dumps(key, sort_keys=True, indent=1, default=str) + "\n")
    return folder


def entry_path(folder: Path, sample: str) -> Path:
    """Where one sample's tensor lives (sample names may contain folders)."""
    return folder / f"{sample}.npy"


def _compute_and_store(compute: Callable[[str], np.ndarray], folder: Path, sample: str) -> None:
    array = compute(sample)
    with atomic_open(entry_path(folder, sample), "wb") as handle:
        np.save(handle, array, allow_pickle=False)


@contextlib.contextmanager
def _opencv_threads(count: int) -> Iterator[None]:
    """OpenCV's own pool at ``count`` threads while the workers run (one per core already)."""
    try:
        import cv2
    except ImportError:
        yield
        return
    before = cv2.getNumThreads()
    cv2.setNumThreads(count)
    try:
        yield
    finally:
        cv2.setNumThreads(before)


def fill_cache(
    folder: Path,
    samples: Sequence[str],
    compute: Callable[[str], np.ndarray],
    workers: int,
    desc: str,
    show_progress: bool = True,
) -> int:
    """Compute the missing entries on ``workers`` threads; return how many were computed."""
    missing = [s for s in dict.fromkeys(samples) if not entry_path(folder, s).is_file()]
    if not missing:
        return 0
    store = functools.partial(_compute_and_store, compute, folder)
    if workers <= 1 or len(missing) == 1:
        for sample in progress(missing, desc, enabled=show_progress):
            store(sample)
        return len(missing)
    with _opencv_threads(1), ThreadPoolExecutor(workers, thread_name_prefix="preprocess") as pool:
        for _ in progress(pool.map(store, missing), desc, total=len(missing), enabled=show_progress):
            pass
    return len(missing)


def load_cached(
    folder: Path,
    samples: Sequence[str],
    compute: Callable[[str], np.ndarray],
    workers: int = os.cpu_count() or 1,
    desc: str = "preprocessing",
    show_progress: bool = True,
) -> list[np.ndarray]:
    """The tensors of ``samples`` in order, computing and caching the ones not cached yet."""
    fill_cache(folder, samples, compute, workers, desc, show_progress)
    return [np.load(entry_path(folder, s), allow_pickle=False) for s in samples]
