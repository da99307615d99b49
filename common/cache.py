"""The preprocessing cache: one file per sample, in a folder keyed by everything that shapes the tensor.

A changed setting (interpolation, crop, normalization, layout, dtype, code version) gives another key and
so another folder: a stale tensor is never reused. Within a folder each entry also records the stamp of the
source file it was computed from (size, modification and change times in ns): an entry whose source has
been changed, replaced or emptied since is computed again, and so is an entry that does not read back whole
(truncated, wrong size, bad header). No content hash: it would read every source image on every run, as
much I/O as the cache itself saves; a stat per sample is the whole price of the check.

Files are written atomically, misses are computed on all cores with a progress bar, and hits are reused
across runs. An entry is a ``.npy`` file (``np.load`` reads the tensor) followed by a second ``.npy``
record, the stamp; the reader also checks that the file ends where the stamp does.

The misses are computed on threads: decoding and resizing happen in OpenCV and numpy, which release the GIL
(OpenCV held to one thread of its own per worker), so threads use every core without a process pool's
start-up (an interpreter per worker that imports numpy and OpenCV again) or the pickling of every task
sent to it (figures: bench/PERFORMANCE.md, "Preprocessing measured as the work it is").
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

import numpy as np

from common.atomic import atomic_open, atomic_write_text
from common.paths import writable_folder
from common.progress import progress

NO_SOURCE = np.zeros(0, np.int64)  # the stamp of an entry computed from no file (synthetic tests)


def default_cache_dir() -> Path:
    """``$MLPERF_REF_CACHE``, else ``$XDG_CACHE_HOME/mlperf-ref``, else ``~/.cache/mlperf-ref``."""
    if os.environ.get("MLPERF_REF_CACHE"):
        return Path(os.environ["MLPERF_REF_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mlperf-ref"


# The room a cache must have before the work starts: about a hundred of ResNet50's 588 KiB fp32 tensors (the
# whole dataset's size is known only once it is listed; a disk that fills later ends the run in one line)
CACHE_FLOOR_BYTES = 64 << 20


def check_cache_dir(cache_dir: Path | None) -> None:
    """The cache folder (``--cache-dir``, else the default) can hold entries: one line naming it if not."""
    option = "--cache-dir" if cache_dir is not None else "the cache folder (--cache-dir, MLPERF_REF_CACHE)"
    writable_folder(cache_dir if cache_dir is not None else default_cache_dir(), option, CACHE_FLOOR_BYTES,
                    "the preprocessing cache's first entries")


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


def source_stamp(path: Path | None) -> np.ndarray | None:
    """int64 ``[size, mtime_ns, ctime_ns]`` of a source file; ``NO_SOURCE`` without one; None when it
    cannot be read (then the sample is computed, and the computation names the file)."""
    if path is None:
        return NO_SOURCE
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return np.array([stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns], np.int64)


def write_entry(path: Path, array: np.ndarray, stamp: np.ndarray) -> None:
    """The tensor, then the stamp of its source, as two ``.npy`` records of one atomically written file."""
    with atomic_open(path, "wb") as handle:
        np.lib.format.write_array(handle, np.asanyarray(array), allow_pickle=False)
        np.lib.format.write_array(handle, stamp, allow_pickle=False)


def _skip_array(handle: IO[bytes]) -> None:
    """Move past one ``.npy`` record without reading its data (headers checked)."""
    version = np.lib.format.read_magic(handle)
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    if version not in readers:
        raise ValueError(f"npy version {version}")
    shape, _, dtype = readers[version](handle)
    handle.seek(int(np.prod(shape, dtype=np.int64)) * dtype.itemsize, os.SEEK_CUR)


def _check_entry(path: Path, stamp: np.ndarray | None, data: bool) -> tuple[bool, np.ndarray | None]:
    """(whether ``path`` holds a whole entry computed from a source stamped ``stamp``, its tensor if ``data``)."""
    if stamp is None:
        return False, None
    try:
        with open(path, "rb") as handle:
            array = np.lib.format.read_array(handle, allow_pickle=False) if data else _skip_array(handle)
            recorded = np.lib.format.read_array(handle, allow_pickle=False)
            whole = handle.tell() == os.fstat(handle.fileno()).st_size
    except (OSError, ValueError, EOFError):
        return False, None
    current = whole and recorded.shape == stamp.shape and bool(np.array_equal(recorded, stamp))
    return current, array if current else None


def read_entry(path: Path, stamp: np.ndarray | None) -> np.ndarray | None:
    """The cached tensor, or None when the entry is missing, stale, truncated or unreadable (then it is
    computed again, never trusted)."""
    return _check_entry(path, stamp, data=True)[1]


def entry_is_current(path: Path, stamp: np.ndarray | None) -> bool:
    """Whether ``path`` holds a whole entry for ``stamp``, checked without reading the tensor's data."""
    return _check_entry(path, stamp, data=False)[0]


def _compute_and_store(compute: Callable[[str], np.ndarray], folder: Path, stamps: Mapping[str, np.ndarray | None],
                       source: Callable[[str], Path] | None, sample: str) -> np.ndarray:
    stamp = stamps[sample]
    array = compute(sample)
    if stamp is None:  # the source could not be stat'ed before, yet computed: stamp it now
        stamp = source_stamp(source(sample) if source else None)
    if stamp is not None:
        write_entry(entry_path(folder, sample), array, stamp)
    return array


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


def _stamps(samples: Sequence[str], source: Callable[[str], Path] | None) -> dict[str, np.ndarray | None]:
    return {s: source_stamp(source(s) if source else None) for s in dict.fromkeys(samples)}


def _compute(missing: list[str], stamps: Mapping[str, np.ndarray | None], compute: Callable[[str], np.ndarray],
             folder: Path, source: Callable[[str], Path] | None, workers: int, desc: str,
             show_progress: bool) -> dict[str, np.ndarray]:
    """Compute and store ``missing`` on ``workers`` threads; the arrays by sample."""
    def store(sample: str) -> np.ndarray:
        return _compute_and_store(compute, folder, stamps, source, sample)

    if workers <= 1 or len(missing) <= 1:
        return {sample: store(sample) for sample in progress(missing, desc, enabled=show_progress)}
    with _opencv_threads(1), ThreadPoolExecutor(workers, thread_name_prefix="preprocess") as pool:
        arrays = list(progress(pool.map(store, missing), desc, total=len(missing), enabled=show_progress))
    return dict(zip(missing, arrays, strict=True))


def fill_cache(
    folder: Path,
    samples: Sequence[str],
    compute: Callable[[str], np.ndarray],
    workers: int,
    desc: str,
    show_progress: bool = True,
    source: Callable[[str], Path] | None = None,
) -> int:
    """Compute the entries that are missing, stale or unreadable on ``workers`` threads; how many.

    ``source(sample)`` names the file a sample is computed from (its stamp keys the entry).
    """
    stamps = _stamps(samples, source)
    missing = [s for s, stamp in stamps.items() if not entry_is_current(entry_path(folder, s), stamp)]
    if missing:
        _compute(missing, stamps, compute, folder, source, workers, desc, show_progress)
    return len(missing)


def load_cached(
    folder: Path,
    samples: Sequence[str],
    compute: Callable[[str], np.ndarray],
    workers: int = os.cpu_count() or 1,
    desc: str = "preprocessing",
    show_progress: bool = True,
    source: Callable[[str], Path] | None = None,
) -> list[np.ndarray]:
    """The tensors of ``samples`` in order: read from whole, current entries, the others computed and cached."""
    stamps = _stamps(samples, source)
    arrays: dict[str, np.ndarray] = {}
    for sample, stamp in stamps.items():
        array = read_entry(entry_path(folder, sample), stamp)
        if array is not None:
            arrays[sample] = array
    missing = [s for s in stamps if s not in arrays]
    if missing:
        arrays.update(_compute(missing, stamps, compute, folder, source, workers, desc, show_progress))
    return [arrays[s] for s in samples]
