"""The SSD graphs' NMS on a shortlist of the best scores gives the full NMS's detections, bit for bit.

Real shapes (SSD-MobileNet: 90 classes, 1,917 anchors, 100 per class and in all); onnxruntime runs both
ways in one graph (the exported form before ``branch_on``) and the joined graph with its ``If``.
"""

from __future__ import annotations

import io

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from torch import nn

from vision.detection.onnx_branch import branch_on
from vision.detection.onnx_nms import NonMaxSuppression, shortlisted_detections, top_detections
from vision.ssd_mobilenet.official_graph import (
    GRAPH_IOU_THRESHOLD,
    GRAPH_MAX_DETECTIONS,
    GRAPH_MAX_PER_CLASS,
    GRAPH_SCORE_THRESHOLD,
    GRAPH_SHORTLIST,
)

CLASSES, ANCHORS = 90, 1917
FAST = ["fast_scores", "fast_boxes", "fast_labels", "fast_count"]
EXACT = ["scores", "boxes", "labels", "count"]


class BothWays(nn.Module):
    def __init__(self, shortlist: int) -> None:
        super().__init__()
        self.shortlist = shortlist

    def forward(self, scores: torch.Tensor, boxes: torch.Tensor):
        selected = NonMaxSuppression.apply(boxes, scores, GRAPH_MAX_PER_CLASS, GRAPH_IOU_THRESHOLD,
                                           GRAPH_SCORE_THRESHOLD)
        exact = top_detections(selected, scores, boxes, GRAPH_MAX_DETECTIONS)
        fast, enough = shortlisted_detections(scores, boxes, GRAPH_MAX_DETECTIONS, self.shortlist,
                                              GRAPH_MAX_PER_CLASS, GRAPH_IOU_THRESHOLD, GRAPH_SCORE_THRESHOLD)
        return *fast, enough, *exact


def exported(shortlist: int) -> onnx.ModelProto:
    buffer = io.BytesIO()
    example = (torch.rand(1, CLASSES, ANCHORS), torch.rand(1, ANCHORS, 4))
    torch.onnx.export(BothWays(shortlist), example, buffer, input_names=["s", "b"],
                      output_names=[*FAST, "enough", *EXACT], opset_version=17, dynamo=False,
                      dynamic_axes={"s": {0: "n"}, "b": {0: "n"}})
    return onnx.load_from_string(buffer.getvalue())


def session(model: onnx.ModelProto) -> ort.InferenceSession:
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def inputs(seed: int, images: int, levels: int | None) -> dict[str, np.ndarray]:
    """Scores (``levels``: rounded to that many values, so that many tie) and boxes in clusters around 40
    centres, so that NMS suppresses many of them, as around real objects."""
    rng = np.random.default_rng(seed)
    scores = rng.random((images, CLASSES, ANCHORS), dtype=np.float32) ** 4
    if levels:
        scores = np.round(scores * levels) / levels
    centres = rng.random((40, 2)) * 0.8 + 0.1
    centre = centres[rng.integers(0, 40, (images, ANCHORS))] + rng.normal(0, 0.02, (images, ANCHORS, 2))
    size = rng.uniform(0.05, 0.3, (images, ANCHORS, 2))
    boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=-1).astype(np.float32)
    return {"s": scores.astype(np.float32), "b": boxes}


@pytest.fixture(scope="module")
def both() -> onnx.ModelProto:
    return exported(GRAPH_SHORTLIST)


@pytest.mark.parametrize(("seed", "levels"), [(0, None), (1, 50), (2, 7)])
def test_the_shortlist_keeps_what_the_full_nms_keeps(both, seed, levels):
    out = dict(zip([*FAST, "enough", *EXACT], session(both).run(None, inputs(seed, 3, levels)), strict=True))
    assert bool(out["enough"])  # 100 kept among the 400 best: the shortlist's answer stands
    for fast, exact in zip(FAST, EXACT, strict=True):
        np.testing.assert_array_equal(out[fast], out[exact])


def test_the_joined_graph_takes_the_full_nms_when_the_shortlist_keeps_too_few(both):
    feeds = inputs(3, 2, 20)
    joined = branch_on(exported(GRAPH_SHORTLIST), "enough", FAST, EXACT, [f"out_{n}" for n in EXACT], [])
    assert [n.op_type for n in joined.graph.node].count("If") == 1
    assert [o.name for o in joined.graph.output] == [f"out_{n}" for n in EXACT]
    # the second image's boxes all on top of each other: each class keeps one box, 90 in all, < 100
    feeds["b"][1] = feeds["b"][1, :1]
    full = session(both).run(None, feeds)
    assert not bool(full[4]) and full[-1].tolist() == [100, 90]
    for got, expected in zip(session(joined).run(None, feeds), full[5:], strict=True):
        np.testing.assert_array_equal(got, expected)
    feeds = inputs(4, 2, None)  # enough kept: the joined graph answers as the full NMS does
    for got, expected in zip(session(joined).run(None, feeds), session(both).run(None, feeds)[5:], strict=True):
        np.testing.assert_array_equal(got, expected)
