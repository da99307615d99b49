"""Row 5: ImageNet preprocessing into the cache, ours on all cores against a v0.5-kind baseline.

The baseline does what the v0.5 reference's ``pre_process_vgg`` and cache do: one process, one image at a
time, decode, resize, crop, float32 mean subtraction, NCHW, one float32 .npy per image. Ours is
``vision.imagenet.dataset.ImageNetDataset.preprocess`` filling a cold cache (uint8 crops, one thread per
core); the float conversion happens when the QSL loads a batch, outside the timed part of a run. Both sides
are timed up to their files on disk; neither reads them back.
"""

from __future__ import annotations

import os
import shutil
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from bench import goals
from bench.rows import Row, compared, judge
from common.atomic import atomic_write_text
from common.benchmark import DatasetOptions
from vision.imagenet.dataset import ImageNetDataset
from vision.imagenet.preprocess import decode_rgb, resize_and_crop, subtract_means
from vision.imagenet.samples import SIZES, synthetic_image
from vision.imagenet.val_map import VAL_MAP
from vision.resnet50.benchmark import ResNet50Benchmark

JPEG_QUALITY = 90


def write_images(folder: Path, count: int) -> Path:
    """``count`` synthetic JPEGs (the sample set's mix of sizes, repeated with new content) + val_map.txt."""
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"bench_{i:06d}.JPEG" for i in range(count)]
    for i, name in enumerate(names):
        if not (folder / name).exists():
            width, height, gray = SIZES[i % len(SIZES)]
            cv2.imwrite(
                str(folder / name),
                synthetic_image(1000 + i, width, height, gray),
                [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY],
            )
    atomic_write_text(folder / VAL_MAP, "".join(f"{name} 0\n" for name in names))
    return folder


def baseline(folder: Path, names: list[str], output: Path) -> tuple[float, tuple[float, int]]:
    """v0.5 kind: single-threaded float32 NCHW .npy per image; returns (images/s, bytes per sample)."""
    shutil.rmtree(output, ignore_errors=True)
    output.mkdir(parents=True)
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    interpolation = ResNet50Benchmark.preprocessing.interpolation
    try:
        os.sync()  # no earlier writes flushed to disk during the timed part
        started = time.perf_counter()
        for name in names:
            crop = resize_and_crop(decode_rgb(folder / name), interpolation)
            image = subtract_means(crop[np.newaxis])[0].transpose(2, 0, 1)
            np.save(output / f"{name}.npy", image)
        seconds = time.perf_counter() - started
    finally:
        cv2.setNumThreads(threads)
    return len(names) / seconds, _bytes_per_file(output, len(names))


def ours(folder: Path, count: int, cache: Path, workers: int) -> tuple[float, tuple[float, int]]:
    """ImageNetDataset.preprocess filling a cold cache on ``workers`` threads; (images/s, bytes per sample)."""
    shutil.rmtree(cache, ignore_errors=True)
    options = DatasetOptions(
        backend="onnxruntime",
        layout="NCHW",
        cache_dir=cache,
        workers=workers,
        progress=False,
        purpose="performance",
    )
    dataset = ImageNetDataset(folder, ResNet50Benchmark.preprocessing, options)
    os.sync()  # the baseline's 1.2 GB of float32 files are not flushed during our timed part
    started = time.perf_counter()
    computed = dataset.preprocess(list(range(count)))
    seconds = time.perf_counter() - started
    if computed != count:
        raise RuntimeError(f"the cache at {cache} was not cold: {computed} of {count} images computed")
    return count / seconds, _bytes_per_file(dataset.cache_dir, count)


def _bytes_per_file(folder: Path, count: int) -> tuple[float, int]:
    """(mean .npy file size, array bytes of one cached sample)."""
    files = sorted(folder.rglob("*.npy"))
    return sum(f.stat().st_size for f in files) / count, int(np.load(files[0], mmap_mode="r").nbytes)


def preprocess_rows(root: Path, count: int, repeats: int = 1) -> list[Row]:
    """Speed and bytes per cached sample, ours against the baseline, on ``count`` images.

    Baseline and ours run ``repeats`` times in pairs, taking turns going first; the row shows the median
    of the pairs' ratios.
    """
    folder = write_images(root / "images", count)
    names = [f"bench_{i:06d}.JPEG" for i in range(count)]
    workers = os.cpu_count() or 1
    base_runs: list[float] = []
    our_runs: list[float] = []
    for repeat in range(repeats):
        if repeat % 2:  # the two take turns going first: neither always runs on a machine the other warmed
            our_speed, our_bytes = ours(folder, count, root / "cache", workers)
            base_speed, base_bytes = baseline(folder, names, root / "baseline-cache")
        else:
            base_speed, base_bytes = baseline(folder, names, root / "baseline-cache")
            our_speed, our_bytes = ours(folder, count, root / "cache", workers)
        base_runs.append(base_speed)
        our_runs.append(our_speed)
    one_worker, _ = ours(folder, count, root / "cache", 1)  # for comparison
    command = (
        f"python bench/run.py --only preprocess --images {count} --repeats {repeats} "
        "(ImageNetDataset.preprocess on a cold cache)"
    )
    name = f"ImageNet preprocessing, {count} JPEGs, {workers} threads vs 1"
    speed = compared(
        "5 preprocessing",
        name + " (speed)",
        statistics.median(our_runs),
        statistics.median(base_runs),
        "images/s",
        "v0.5 kind, 1 thread, float32",
        goals.PREPROCESS_SPEED,
        command=command,
        note=f"ours with one worker (and OpenCV's own threads): {one_worker:,.0f} images/s",
        details={"one_worker_images_per_s": one_worker, "runs": our_runs, "baseline_runs": base_runs},
    )
    speed.ratio = statistics.median(ours / base for ours, base in zip(our_runs, base_runs, strict=True))
    speed.met = judge(speed.ratio, goals.PREPROCESS_SPEED)
    return [
        speed,
        compared(
            "5 preprocessing",
            name + " (bytes per cached sample)",
            our_bytes[1],
            base_bytes[1],
            "bytes",
            "v0.5 kind float32 NCHW",
            goals.PREPROCESS_BYTES,
            command=command,
            note=f"array bytes; the .npy files are {our_bytes[0]:,.0f} vs {base_bytes[0]:,.0f} bytes "
            "(a header each)",
            details={"file_bytes": our_bytes[0], "baseline_file_bytes": base_bytes[0]},
        ),
    ]
