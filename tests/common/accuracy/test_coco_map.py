from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from common.accuracy.coco_map import coco_map
from common.errors import UsageError
from vision.coco.samples import make_coco_samples
from vision.detection.payload import pack_detections


@pytest.fixture(scope="module")
def coco(tmp_path_factory):
    folder = make_coco_samples(tmp_path_factory.mktemp("map") / "coco")
    annotations = folder / "annotations" / "instances_val2017.json"
    return annotations, json.loads(annotations.read_text())


def perfect_payloads(data):
    payloads = {}
    for index, image in enumerate(data["images"]):
        anns = [a for a in data["annotations"] if a["image_id"] == image["id"]]
        w, h = image["width"], image["height"]
        boxes = np.array(
            [
                [
                    a["bbox"][1] / h,
                    a["bbox"][0] / w,
                    (a["bbox"][1] + a["bbox"][3]) / h,
                    (a["bbox"][0] + a["bbox"][2]) / w,
                ]
                for a in anns
            ]
        ).reshape(-1, 4)
        payloads[index] = pack_detections(
            index, boxes, np.ones(len(anns)), np.array([a["category_id"] for a in anns])
        )
    return payloads


def test_perfect_detections_score_100_percent(coco):
    annotations, data = coco
    report = coco_map(perfect_payloads(data), annotations)
    assert report.value == pytest.approx(100.0)
    assert report.count == len(data["images"])  # images without annotations or detections included
    assert len(report.lines) == 13 and report.lines[-1] == "mAP=100.000%"
    assert report.lines[0].startswith(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all")


def test_crafted_detections_equal_pycocotools_called_directly(coco):
    annotations, data = coco
    rng = np.random.default_rng(5)
    payloads, reference = {}, []
    categories = [c["id"] for c in data["categories"]]
    for index, image in enumerate(data["images"][:6]):
        count = 0 if index == 1 else 5
        corner = rng.uniform(0, 0.6, (count, 2))
        boxes = np.concatenate([corner, corner + rng.uniform(0.05, 0.4, (count, 2))], axis=1)
        scores = rng.uniform(0.1, 1, count)
        classes = np.array([categories[int(i)] for i in rng.integers(0, 80, count)])
        gt = [a for a in data["annotations"] if a["image_id"] == image["id"]]
        if gt and count:  # one detection near a real box, so the score is not zero
            x, y, w, h = gt[0]["bbox"]
            boxes[0] = [
                y / image["height"],
                x / image["width"],
                (y + h * 0.9) / image["height"],
                (x + w) / image["width"],
            ]
            classes[0] = gt[0]["category_id"]
        payloads[index] = pack_detections(index, boxes, scores, classes)
        rows = np.frombuffer(payloads[index], np.float32).reshape(-1, 7)
        for _, ymin, xmin, ymax, xmax, score, label in rows.tolist():
            x0, y0 = xmin * image["width"], ymin * image["height"]
            reference.append(
                {
                    "image_id": image["id"],
                    "category_id": int(label),
                    "score": score,
                    "bbox": [x0, y0, xmax * image["width"] - x0, ymax * image["height"] - y0],
                }
            )
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(annotations))
        evaluator = COCOeval(gt, gt.loadRes(reference), iouType="bbox")
        evaluator.params.imgIds = [image["id"] for image in data["images"][:6]]
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    report = coco_map(payloads, annotations)
    assert 0 < report.value < 100
    assert report.value == pytest.approx(evaluator.stats[0] * 100, abs=1e-9)
    assert report.count == 6 and report.lines[-1] == f"mAP={evaluator.stats[0] * 100:.3f}%"


def test_log_without_detections_scores_zero(coco):
    annotations, data = coco
    report = coco_map({0: b"", 1: b""}, annotations)
    assert report.value == 0.0 and report.count == 2 and report.lines[-1] == "mAP=0.000%"


def test_bad_payload_and_index_are_clear_errors(coco):
    annotations, data = coco
    with pytest.raises(UsageError, match="7 float32"):
        coco_map({0: b"123"}, annotations)
    with pytest.raises(UsageError, match="qsl_idx 99"):
        coco_map({99: b""}, annotations)
