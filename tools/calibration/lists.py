"""Calibration lists: the official v0.5 ones a benchmark ships, and the rules a list given as a file meets.

The MLPerf rules allow post-training quantization calibrated on the official calibration set only (for
ImageNet one of its two lists). So ``--calibration-list`` takes an official list by name, or a file that
either is an official list (same bytes), or names a subset of one official list (usable, but not the
official list: marked not valid for submission), or names images of the synthetic sample data (marked
likewise). A file naming any other image of a real dataset is refused: calibrating on validation images
is against the rules.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from common.errors import UsageError


@dataclass(frozen=True)
class CalibrationList:
    """The images one calibration uses, and whether they are an official list, whole and unchanged."""

    name: str  # the official name ("option_1") or the file's name
    path: Path
    names: tuple[str, ...]  # image file names, relative to the benchmark's calibration image folder
    sha256: str  # of the list file's bytes
    official: bool
    note: str = ""  # why it is not valid for submission ("" for an official list)


def read_names(path: Path) -> tuple[str, ...]:
    """The image names of a list file: the first field of each non-blank line (ImageNet's option_2 adds
    an index after the name)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--calibration-list {path}: cannot read it ({exc})") from exc
    names = tuple(line.split()[0] for line in text.splitlines() if line.strip())
    for name in names:
        pure = PurePosixPath(name)
        if pure.is_absolute() or ".." in pure.parts:
            raise UsageError(f"--calibration-list {path}: {name} is no image name in the dataset folder")
    return names


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def official_list(name: str, path: Path) -> CalibrationList:
    return CalibrationList(name, Path(path), read_names(path), sha256_of(path), official=True)


def resolve_list(spec: str | None, official: Mapping[str, Path], synthetic: bool) -> CalibrationList:
    """The list ``--calibration-list`` names: an official one by name (the first when ``spec`` is None),
    or a file, checked against the official lists (``synthetic``: the dataset is the sample data)."""
    lists = {name: official_list(name, path) for name, path in official.items()}
    if spec is None:
        return next(iter(lists.values()))
    if spec in lists:
        return lists[spec]
    path = Path(spec)
    if not path.is_file():
        raise UsageError(f"--calibration-list {spec}: neither an official list ({', '.join(lists)}) nor a file")
    names, digest = read_names(path), sha256_of(path)
    if not names:
        raise UsageError(f"--calibration-list {spec}: names no images")
    for known in lists.values():
        if digest == known.sha256:  # the official list itself, copied elsewhere
            return known
    if synthetic:
        return CalibrationList(path.name, path, names, digest, official=False,
                               note="calibrated on the synthetic sample data: not valid for submission")
    best = max(lists.values(), key=lambda known: len(set(names) & set(known.names)))
    outside = [n for n in names if n not in set(best.names)]
    if outside:
        raise UsageError(
            f"--calibration-list {spec}: {outside[0]} is not in the official calibration list {best.name}"
            f"{f' (nor are {len(outside) - 1} more)' if len(outside) > 1 else ''}; the rules allow calibrating "
            f"on one official list only, and calibrating on validation images is against them: use "
            f"--calibration-list {best.name}")
    return CalibrationList(path.name, path, names, digest, official=False,
                           note=f"{len(names)} of the {len(best.names)} images of {best.name}, not the official "
                                "list itself: not valid for submission")
