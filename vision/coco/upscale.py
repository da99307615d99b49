"""Write a resized copy of COCO (the v0.5 ``tools/upscale_coco``), with matching file names.

    python -m vision.coco.upscale --inputs COCO_DIR --outputs OUT_DIR --size 1200 1200 [--format png]

Every image is resized to W x H with INTER_LINEAR (no aspect kept; gray becomes RGB), each box and
area is scaled by the size ratios, polygon segmentations too, and the images' width/height are
rewritten. Unlike the v0.5 tool, which wrote ``.png`` files under ``.jpg`` names, ``file_name`` in the
new annotations names the file actually written. PNG is lossless; JPEG storage costs up to 0.5 mAP.
A copy of the synthetic sample data stays marked as such (its SYNTHETIC file is copied too).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2

from common.atomic import atomic_open, atomic_write_text
from common.errors import UsageError
from common.progress import progress
from common.samples import SYNTHETIC_MARKER
from vision.coco.annotations import ANNOTATIONS_FILE, IMAGES_DIR
from vision.coco.preprocess import read_bgr


def upscale(
    inputs: Path,
    outputs: Path,
    size: tuple[int, int],
    fmt: str = "png",
    images_dir: str = IMAGES_DIR,
    annotations: Path = ANNOTATIONS_FILE,
) -> Path:
    """Resize every image of ``inputs`` into ``outputs``; return the new annotation file."""
    source = Path(inputs) / annotations
    if not source.is_file():
        raise UsageError(f"--inputs {inputs}: missing {annotations} (point it at a COCO folder)")
    data = json.loads(source.read_text(encoding="utf-8"))
    width, height = size
    ratios = {}
    for image in progress(data["images"], "resizing"):
        path = Path(inputs) / images_dir / image["file_name"]
        pixels = read_bgr(path)  # BadImage (a UsageError) names a missing, empty, truncated or corrupt one
        ratios[image["id"]] = (width / pixels.shape[1], height / pixels.shape[0])
        resized = cv2.resize(pixels, (width, height), interpolation=cv2.INTER_LINEAR)
        name = f"{Path(image['file_name']).stem}.{fmt}"
        ok, encoded = cv2.imencode(f".{fmt}", resized)
        if not ok:
            raise UsageError(f"--format {fmt}: OpenCV cannot write it (choose png or jpg)")
        with atomic_open(Path(outputs) / images_dir / name, "wb") as handle:
            handle.write(encoded.tobytes())
        image.update(file_name=name, width=width, height=height)
    for annotation in data["annotations"]:
        rx, ry = ratios[annotation["image_id"]]
        x, y, w, h = annotation["bbox"]
        annotation["bbox"] = [x * rx, y * ry, w * rx, h * ry]
        annotation["area"] = annotation["area"] * rx * ry
        if isinstance(annotation.get("segmentation"), list):  # polygons; crowd RLEs stay as they are
            annotation["segmentation"] = [
                [v * (rx if i % 2 == 0 else ry) for i, v in enumerate(polygon)]
                for polygon in annotation["segmentation"]
            ]
    marker = Path(inputs) / SYNTHETIC_MARKER
    if marker.is_file():  # the copy of sample data is sample data
        atomic_write_text(Path(outputs) / SYNTHETIC_MARKER, marker.read_text(encoding="utf-8"))
    target = Path(outputs) / annotations
    atomic_write_text(target, json.dumps(data))
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vision.coco.upscale", description=__doc__.split("\n")[0])
    parser.add_argument("--inputs", type=Path, required=True, help="COCO folder (val2017/, annotations/)")
    parser.add_argument("--outputs", type=Path, required=True, help="folder for the resized copy")
    parser.add_argument("--size", type=int, nargs=2, metavar=("W", "H"), required=True)
    parser.add_argument("--format", choices=("png", "jpg"), default="png")
    parser.add_argument("--images", default=IMAGES_DIR, help="images folder below --inputs")
    parser.add_argument(
        "--annotations", type=Path, default=ANNOTATIONS_FILE, help="annotation file below --inputs"
    )
    args = parser.parse_args(argv)
    if min(args.size) < 1:
        parser.error(f"--size {args.size[0]} {args.size[1]}: both must be positive")
    try:
        target = upscale(
            args.inputs, args.outputs, tuple(args.size), args.format, args.images, args.annotations
        )
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
