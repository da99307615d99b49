"""Check a COCO 2017 val folder: counts, categories, every listed image present, not empty, not a
truncated JPEG (and decodable, with --decode).

    python -m vision.coco.verify DIR [--any-count] [--decode]

Exits 1 with one line per problem (at most 10 named) and what to do; 0 prints a one-line summary.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from vision.coco.annotations import ANNOTATIONS_FILE, IMAGES_DIR
from vision.image_file import image_fault

EXPECTED_IMAGES = 5000  # COCO 2017 val
EXPECTED_ANNOTATIONS = 36781
MISSING_CATEGORY_IDS = {12, 26, 29, 30, 45, 66, 68, 69, 71, 83}  # ids 1..90 without a category
ARCHIVES = {  # file name -> (bytes, md5) of the official downloads (cocodataset.org)
    "val2017.zip": (815585330, "442b8da7639aecaf257c1dceb8ba8c80"),
    "annotations_trainval2017.zip": (252907541, "f4bbac642086de4f52a3fdda2de5fa2c"),
}
FAULTS = {"missing": "missing", "unreadable": "cannot be opened", "empty": "are empty (0 bytes)",
          "truncated": "are truncated JPEGs (no end-of-image marker)", "corrupt": "do not decode"}


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def problems(root: Path, any_count: bool = False, decode: bool = False) -> tuple[list[str], str]:
    """What is wrong with ``root`` (empty when it is fine) and a summary line."""
    found: list[str] = []
    for name, (size, md5) in ARCHIVES.items():  # kept archives must be the official ones
        archive = root / name
        if archive.is_file() and (archive.stat().st_size != size or _md5(archive) != md5):
            found.append(
                f"{archive}: size or md5 differs from the official file; delete it and download again"
            )
    path = root / ANNOTATIONS_FILE
    if not path.is_file():
        return found + [f"{path}: missing; run download_dataset.sh"], ""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        images, annotations, categories = data["images"], data["annotations"], data["categories"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        return found + [f"{path}: not a COCO instances file ({exc!r}); download it again"], ""
    ids = {int(c["id"]) for c in categories}
    if ids != set(range(1, 91)) - MISSING_CATEGORY_IDS:
        found.append(f"{path}: {len(ids)} categories, not the 80 of COCO 2017; download it again")
    if not any_count and (len(images), len(annotations)) != (EXPECTED_IMAGES, EXPECTED_ANNOTATIONS):
        found.append(
            f"{path}: {len(images)} images and {len(annotations)} annotations, expected "
            f"{EXPECTED_IMAGES} and {EXPECTED_ANNOTATIONS}; download the annotations again"
        )
    bad: dict[str, list[Path]] = {}
    for image in images:  # missing, empty and truncated files always; undecodable ones with --decode
        file = root / IMAGES_DIR / image["file_name"]
        fault = image_fault(file, decode)
        if fault is not None:
            bad.setdefault(fault, []).append(file)
    for fault, files in bad.items():
        found.append(f"{len(files)} images {FAULTS[fault]}, e.g. {', '.join(map(str, files[:10]))}; "
                     + ("run download_dataset.sh again" if fault == "missing"
                        else "delete them and run download_dataset.sh again"))
    empty = len({i["id"] for i in images} - {a["image_id"] for a in annotations})
    summary = (
        f"{root}: {len(images)} images ({empty} without annotations), {len(annotations)} annotations, "
        f"{len(ids)} categories"
    )
    return found, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vision.coco.verify", description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, help="the COCO folder (val2017/, annotations/)")
    parser.add_argument("--any-count", action="store_true", help="accept other image/annotation counts")
    parser.add_argument("--decode", action="store_true", help="also decode every image (slower)")
    args = parser.parse_args(argv)
    found, summary = problems(args.folder, args.any_count, args.decode)
    for line in found:
        print(f"error: {line}", file=sys.stderr)
    if found:
        return 1
    print(f"OK {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
