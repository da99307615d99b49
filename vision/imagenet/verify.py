"""Check an ImageNet folder: every image val_map.txt lists exists and decodes.

``python -m vision.imagenet.verify DIR [--any-count] [--workers N]`` (verify_dataset.sh calls this).
Exit 0 when all is well, 1 naming what is missing or corrupt, 2 for a missing or malformed val_map.txt.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2

from common.errors import UsageError
from common.progress import progress
from vision.image_file import DESCRIPTIONS, image_fault
from vision.imagenet.val_map import VAL_IMAGES, VAL_MAP, read_val_map

SHOWN = 10  # how many bad files the report names
CHUNK = 256  # images per task


def check_images(root: Path, names: Sequence[str]) -> list[tuple[str, str]]:
    """(name, fault) for each image of ``names`` that is not good: missing, empty, truncated or corrupt, by
    the rule the runs follow (vision/image_file.py; picklable)."""
    cv2.setNumThreads(1)
    return [(name, fault) for name in names if (fault := image_fault(root / name)) is not None]


def verify(folder: Path, expect: int | None, workers: int,
           show_progress: bool = True) -> tuple[int, list[tuple[str, str]]]:
    """(images listed, bad images) of ``folder``; UsageError for a missing, malformed or short val_map.txt."""
    val_map = read_val_map(folder)
    if expect is not None and len(val_map) != expect:
        raise UsageError(f"{folder / VAL_MAP}: lists {len(val_map)} images, expected {expect} (place the "
                         "shipped val_map.txt with download_dataset.sh, or pass --any-count for a subset)")
    chunks = [val_map.names[i:i + CHUNK] for i in range(0, len(val_map), CHUNK)]
    bad: list[tuple[str, str]] = []
    if workers <= 1 or len(chunks) == 1:
        for chunk in progress(chunks, "verifying ImageNet", enabled=show_progress):
            bad += check_images(folder, chunk)
        return len(val_map), bad
    with ProcessPoolExecutor(workers) as pool:
        futures = [pool.submit(check_images, folder, chunk) for chunk in chunks]
        for future in progress(futures, "verifying ImageNet", total=len(futures), enabled=show_progress):
            bad += future.result()
    return len(val_map), bad


def report(folder: Path, total: int, bad: list[tuple[str, str]]) -> str:
    """One line: OK, or what is missing or corrupt and what to do."""
    if not bad:
        return f"OK: all {total} images listed in {folder / VAL_MAP} exist and decode"
    kinds = {kind: [name for name, k in bad if k == kind] for kind in DESCRIPTIONS}
    parts = [f"{len(names)} {kind} ({', '.join(names[:SHOWN])}{', ...' if len(names) > SHOWN else ''})"
             for kind, names in kinds.items() if names]
    return (f"ERROR: {folder}: {'; '.join(parts)} of {total} images; "
            "run download_dataset.sh again to re-extract them")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="verify_dataset.sh", description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the dataset folder holding val_map.txt")
    parser.add_argument("--any-count", action="store_true",
                        help=f"accept a val_map.txt with other than {VAL_IMAGES} lines (a subset)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes (default: all)")
    args = parser.parse_args(argv)
    try:
        total, bad = verify(args.folder, None if args.any_count else VAL_IMAGES, args.workers)
    except UsageError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    line = report(args.folder, total, bad)
    print(line, file=sys.stderr if bad else sys.stdout)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
