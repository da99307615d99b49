"""What counts as a good image file, one rule for the runs and for verify_dataset.sh.

An image is bad when it is missing, empty, a JPEG without its end-of-image marker (truncated: libjpeg
would decode it anyway, the missing rows filled with gray, and print only a warning), or does not decode.
A run that meets a bad image fails naming it; verify_dataset.sh reports it. The cheap checks (missing,
empty, truncated: a stat and two small reads) run without decoding.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from common.errors import UsageError

JPEG_START, JPEG_END = b"\xff\xd8", b"\xff\xd9"  # SOI and EOI markers
TRAILING_SLACK = 1024  # bytes a complete JPEG may carry after its EOI marker
ADVICE = "run verify_dataset.sh, and download_dataset.sh again to restore it"


class BadImage(UsageError, ValueError):
    """An image file that is missing, empty, truncated or does not decode; the message names it."""


def jpeg_truncated(head: bytes, tail: bytes) -> bool:
    """A JPEG (``head`` starts with SOI) whose EOI marker is not within the last bytes ``tail``.

    0xFFD9 cannot occur inside entropy-coded data; an EXIF thumbnail's EOI sits near the start.
    """
    return head[:2] == JPEG_START and JPEG_END not in tail


def file_fault(path: Path) -> str | None:
    """What is wrong with ``path`` short of decoding it ("missing", "empty", "truncated"), or None."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                return "empty"
            head = handle.read(2)
            handle.seek(max(0, size - TRAILING_SLACK - 2))
            tail = handle.read()
    except FileNotFoundError:
        return "missing"
    except OSError:
        return "unreadable"
    return "truncated" if jpeg_truncated(head, tail) else None


DESCRIPTIONS = {
    "missing": "no such file",
    "unreadable": "cannot be opened",
    "empty": "empty file (0 bytes)",
    "truncated": "truncated JPEG (no end-of-image marker)",
    "corrupt": "does not decode as an image",
}


def read_image(path: Path, flags: int = cv2.IMREAD_COLOR) -> np.ndarray:
    """``cv2.imread(path, flags)`` of a good image; BadImage naming the file and the fault otherwise."""
    fault = file_fault(path)
    image = cv2.imread(str(path), flags) if fault is None else None
    if image is None:
        raise BadImage(f"{path}: {DESCRIPTIONS[fault or 'corrupt']}; {ADVICE}")
    return image


def image_fault(path: Path, decode: bool = True) -> str | None:
    """verify_dataset.sh's verdict on one file: a key of DESCRIPTIONS, or None when it is good."""
    fault = file_fault(path)
    if fault is None and decode and cv2.imread(str(path), cv2.IMREAD_REDUCED_COLOR_2) is None:
        return "corrupt"
    return fault


def missing_or_empty(folder: Path, names: Sequence[str]) -> dict[str, list[str]]:
    """The ``names`` below ``folder`` that are missing or empty (a stat each: cheap enough to run when a
    dataset is opened, so such files stop a run before LoadGen starts), by fault."""
    found: dict[str, list[str]] = {}
    for name in names:
        try:
            empty = os.stat(folder / name).st_size == 0
        except OSError:
            found.setdefault("missing", []).append(name)
            continue
        if empty:
            found.setdefault("empty", []).append(name)
    return found


def shown(names: Sequence[str], count: int = 5) -> str:
    """The first few of ``names``, for an error line."""
    return ", ".join(names[:count]) + (", ..." if len(names) > count else "")


def unusable_summary(found: dict[str, list[str]], of: str) -> str:
    """"2 of the 20 images are missing (a, b); 1 of the 20 images are empty (0 bytes) (c)" for
    ``missing_or_empty``'s answer, ``of`` being "the 20 images"."""
    words = {"missing": "missing", "empty": "empty (0 bytes)"}
    return "; ".join(f"{len(names)} of {of} are {words[fault]} ({shown(names)})" for fault, names in found.items())
