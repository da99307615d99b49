"""The preprocessing cache: one .npy per sample, in a folder keyed by everything that shapes the tensor.

A changed setting (interpolation, crop, normalization, layout, dtype, code version) gives another key and
so another folder: a stale tensor is never reused. Files are written atomically, misses are computed on
all cores with a progress bar, and hits are reused across runs.
"""

from __future__ import annotations

import functools
import hashlib
import json
import multiprocessing
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from common.atomic import atomic_open, atomic_write_text
from common.progress import progress

# Below this many missing samples per worker, starting a process pool costs more than it returns.
IN_PROCESS_SAMPLES_PER_WORKER = 32


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


def _worker_init() -> None:
    try:
        import cv2

        cv2.setNumThreads(1)  # one process per core already
    except ImportError:
        pass


def fill_cache(
    folder: Path,
    samples: Sequence[str],
    compute: Callable[[str], np.ndarray],
    workers: int,
    desc: str,
    show_progress: bool = True,
) -> int:
    """Compute the missing entries on ``workers`` processes; return how many were computed.

    ``compute`` must be picklable (a module-level function or a functools.partial of one).
    """
    missing = [s for s in dict.fromkeys(samples) if not entry_path(folder, s).is_file()]
    if not missing:
        return 0
    if workers <= 1 or len(missing) <= IN_PROCESS_SAMPLES_PER_WORKER * workers:
        for sample in progress(missing, desc, enabled=show_progress):  # fewer than a pool's start-up is worth
            _compute_and_store(compute, folder, sample)
        return len(missing)
    context = multiprocessing.get_context("forkserver")
    chunk = max(1, len(missing) // (workers * 16))  # few round trips, still an even spread and a live bar
    store = functools.partial(_compute_and_store, compute, folder)
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init) as pool:
        for _ in progress(pool.map(store, missing, chunksize=chunk), desc, total=len(missing),
                          enabled=show_progress):
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
