"""COCO mAP of detection payloads with pycocotools (the v0.5 ``tools/accuracy-coco.py`` computation).

Each payload holds 7 float32 per detection ``[qsl_idx, ymin, xmin, ymax, xmax, score, class]`` with
normalized coordinates; qsl index i is the i-th entry of ``images`` in the annotation file. Boxes are
scaled by that image's width and height, every image in the log is evaluated (those without detections
count as misses), and COCOeval (bbox) prints the standard 12 lines; the score is ``stats[0]`` in percent.

The options of ``accuracy-coco.py`` (``ScoreOptions``): ``use_inv_map`` maps payload class c to the c-th
category id of the annotation file counted from 1 (SSD-ResNet34's contiguous 1..80 labels);
``remove_48_empty_images`` makes qsl index i the i-th image that has annotations, for a dataset preprocessed
without the 48 images that have none; ``output_file`` receives the detections as COCO results JSON. As in
that script, a detection whose first field is not the sample's qsl index counts for LoadGen's sample.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from common.accuracy.options import ScoreOptions
from common.atomic import atomic_open
from common.benchmark import AccuracyReport
from common.errors import UsageError

FIELDS = 7  # floats per detection in a payload
STAT_NAMES = (
    "AP@[.50:.95] all",
    "AP@.50 all",
    "AP@.75 all",
    "AP small",
    "AP medium",
    "AP large",
    "AR@1 all",
    "AR@10 all",
    "AR@100 all",
    "AR small",
    "AR medium",
    "AR large",
)


def detections_to_coco(
    results: Mapping[int, bytes], images: Sequence[dict], label_map: Sequence[int] | None = None
) -> tuple[list[dict], list[int]]:
    """COCO result dicts ``{image_id, category_id, bbox [x, y, w, h] in pixels, score}`` and the ids of
    every image in the log. ``label_map`` maps a payload class to a category id (``--use-inv-map``)."""
    detections: list[dict] = []
    image_ids: list[int] = []
    for qsl_idx in sorted(results):
        if not 0 <= qsl_idx < len(images):
            raise UsageError(
                f"the log has qsl_idx {qsl_idx} but the annotation file lists {len(images)} images"
            )
        image = images[qsl_idx]
        image_ids.append(int(image["id"]))
        payload = results[qsl_idx]
        if len(payload) % (4 * FIELDS):
            raise UsageError(
                f"qsl_idx {qsl_idx}: payload of {len(payload)} bytes is not 7 float32 per detection"
            )
        # float64 box arithmetic, as the v0.5 script's float32 scalars times Python ints gave under the
        # numpy of 2019 (before NEP 50)
        rows = np.frombuffer(payload, dtype=np.float32).reshape(-1, FIELDS).astype(np.float64)
        height, width = float(image["height"]), float(image["width"])
        for _, ymin, xmin, ymax, xmax, score, label in rows:
            category = int(label) if label_map is None else int(label_map[int(label)])
            x, y = xmin * width, ymin * height
            detections.append(
                {
                    "image_id": int(image["id"]),
                    "category_id": category,
                    "bbox": [x, y, xmax * width - x, ymax * height - y],
                    "score": float(score),
                }
            )
    return detections, image_ids


def images_with_annotations(ground_truth) -> list[dict]:
    """The images that have at least one annotation, in accuracy-coco.py's ``--remove-48-empty-images``
    order: the set of the image ids listed under each category (in category order), as a list. Quirk kept
    for fidelity: that order is CPython's iteration order of a set of ints, which a preprocessing that
    dropped the 48 empty images with the same construction shares."""
    listed: list[int] = []
    for category in ground_truth.getCatIds():
        listed += ground_truth.catToImgs[category]
    return [ground_truth.imgs[image_id] for image_id in list(set(listed))]


def inverse_label_map(ground_truth) -> list[int]:
    """accuracy-coco.py's ``--use-inv-map``: payload class c -> the c-th category id (c from 1; 0 unused)."""
    return [0, *ground_truth.getCatIds()]


def mismatched_indices(results: Mapping[int, bytes]) -> int:
    """Detections whose first field is not their sample's qsl index (accuracy-coco.py prints an ERROR line
    for each and scores them as LoadGen's sample)."""
    count = 0
    for qsl_idx, payload in results.items():
        if payload and len(payload) % (4 * FIELDS) == 0:
            first = np.frombuffer(payload, dtype=np.float32).reshape(-1, FIELDS)[:, 0]
            with np.errstate(invalid="ignore"):
                count += int(np.sum(first.astype(np.float64) != qsl_idx))
    return count


def write_results_json(detections: list[dict], path: Path) -> None:
    """The detections as a COCO results file (a JSON list), written whole or not at all."""
    with atomic_open(Path(path), "w", encoding="utf-8") as handle:
        json.dump(detections, handle)


def coco_map(
    results: Mapping[int, bytes], annotations_file: Path, label_map: Sequence[int] | None = None,
    options: ScoreOptions | None = None,
) -> AccuracyReport:
    """Score payloads by qsl index against ``annotations_file`` (pycocotools COCOeval, bbox)."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    options = options or ScoreOptions()
    annotations_file = Path(annotations_file)
    if not annotations_file.is_file():
        raise UsageError(f"{annotations_file}: no such annotation file (check --dataset-path)")
    with contextlib.redirect_stdout(io.StringIO()):
        ground_truth = COCO(str(annotations_file))
    images = images_with_annotations(ground_truth) if options.remove_48_empty_images else ground_truth.dataset["images"]
    if options.use_inv_map:
        label_map = inverse_label_map(ground_truth)
    try:
        detections, image_ids = detections_to_coco(results, images, label_map)
    except IndexError as exc:  # a class beyond the inverse map
        raise UsageError(f"a detection class is beyond the {len(label_map or [])} entries of --use-inv-map's "
                         "map (0 and the category ids): this log's classes are not 1..80") from exc
    if not image_ids:
        raise UsageError("the accuracy log has no samples (run with --accuracy)")
    if options.output_file is not None:
        write_results_json(detections, options.output_file)
    if detections:
        captured = io.StringIO()
        with contextlib.redirect_stdout(captured):
            found = ground_truth.loadRes(detections)
            evaluator = COCOeval(ground_truth, found, iouType="bbox")
            evaluator.params.imgIds = image_ids
            evaluator.evaluate()
            evaluator.accumulate()
            evaluator.summarize()
        lines = [line for line in captured.getvalue().splitlines() if line.startswith(" Average")]
        stats = [float(s) for s in evaluator.stats]
    else:  # pycocotools cannot load an empty result list: nothing found means every stat is 0
        stats = [0.0] * len(STAT_NAMES)
        lines = [f" {name:<22} = 0.000 (no detections in the log)" for name in STAT_NAMES]
    value = stats[0] * 100.0
    lines.append(f"mAP={value:.3f}%")
    accuracy_txt = "\n".join(lines) + "\n"  # what accuracy-coco.py prints
    lines += option_lines(options, len(images), mismatched_indices(results))
    return AccuracyReport(
        value=value,
        count=len(image_ids),
        lines=lines,
        accuracy_txt=accuracy_txt,
        extra={
            "stats": dict(zip(STAT_NAMES, stats, strict=True)),
            "detections": len(detections),
            "images": len(image_ids),
        },
    )


def option_lines(options: ScoreOptions, images: int, mismatched: int) -> list[str]:
    """What the options did and what the log showed, one line each, after the mAP line."""
    lines = []
    if options.use_inv_map:
        lines.append("classes mapped by --use-inv-map: payload class c -> the c-th COCO category id")
    if options.remove_48_empty_images:
        lines.append(f"--remove-48-empty-images: qsl index i is the i-th of the {images} images with annotations")
    if options.output_file is not None:
        lines.append(f"detections written to {options.output_file} (COCO results JSON)")
    if mismatched:
        lines.append(f"{mismatched} detections carry another sample index than LoadGen's qsl_idx: scored as "
                     "LoadGen's sample, as accuracy-coco.py does (it prints an ERROR line for each)")
    return lines
