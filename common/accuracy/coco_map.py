"""COCO mAP of detection payloads with pycocotools (the v0.5 ``tools/accuracy-coco.py`` computation).

Each payload holds 7 float32 per detection ``[qsl_idx, ymin, xmin, ymax, xmax, score, class]`` with
normalized coordinates; qsl index i is the i-th entry of ``images`` in the annotation file. Boxes are
scaled by that image's width and height, every image in the log is evaluated (those without detections
count as misses), and COCOeval (bbox) prints the standard 12 lines; the score is ``stats[0]`` in percent.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

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


def coco_map(
    results: Mapping[int, bytes], annotations_file: Path, label_map: Sequence[int] | None = None
) -> AccuracyReport:
    """Score payloads by qsl index against ``annotations_file`` (pycocotools COCOeval, bbox)."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    annotations_file = Path(annotations_file)
    if not annotations_file.is_file():
        raise UsageError(f"{annotations_file}: no such annotation file (check --dataset-path)")
    with contextlib.redirect_stdout(io.StringIO()):
        ground_truth = COCO(str(annotations_file))
    images = ground_truth.dataset["images"]
    detections, image_ids = detections_to_coco(results, images, label_map)
    if not image_ids:
        raise UsageError("the accuracy log has no samples (run with --accuracy)")
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
    return AccuracyReport(
        value=value,
        count=len(image_ids),
        lines=lines,
        accuracy_txt="\n".join(lines) + "\n",
        extra={
            "stats": dict(zip(STAT_NAMES, stats, strict=True)),
            "detections": len(detections),
            "images": len(image_ids),
        },
    )
