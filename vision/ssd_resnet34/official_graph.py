"""Our model behind the official ONNX interface (``image`` -> ``bboxes``, ``labels``, ``scores``).

The official ``resnet34-ssd1200.onnx`` was exported from the PyTorch reference with its decoder inside.
Our export carries the same decoding (variances 0.1/0.2, softmax) and a standard ONNX NMS with the
reference's thresholds (score 0.05, IoU 0.5, 200 per label, 200 per image); the ONNX operator clamps
the IoU, unlike the reference's Python NMS (the pytorch backend keeps that quirk).
"""

from __future__ import annotations

import torch
from torch import nn

from vision.detection.onnx_nms import NonMaxSuppression, top_detections
from vision.ssd_resnet34.decode import (
    CANDIDATES_PER_LABEL,
    IOU_THRESHOLD,
    MAX_DETECTIONS,
    SCORE_THRESHOLD,
    decode_boxes,
)

INPUT = "image"
OUTPUTS = ("bboxes", "labels", "scores")
RAW_OUTPUTS = ("locs", "confs")  # extra outputs of our exports, for cross-checks


class OfficialInterface(nn.Module):
    """float ``[N, 3, 1200, 1200]`` -> bboxes ``[N, 200, 4]`` ltrb, labels 1..80, scores (best first)."""

    def __init__(self, model: nn.Module, dboxes_xywh: torch.Tensor) -> None:
        super().__init__()
        self.model = model
        self.register_buffer("dboxes_xywh", dboxes_xywh)

    def forward(self, image: torch.Tensor):
        locs, confs = self.model(image)
        boxes = decode_boxes(locs, self.dboxes_xywh)
        scores = torch.softmax(confs, dim=1)[:, 1:]  # [N, 80, A], label 0 is background
        selected = NonMaxSuppression.apply(
            boxes, scores, CANDIDATES_PER_LABEL, IOU_THRESHOLD, SCORE_THRESHOLD
        )
        top_scores, top_boxes, top_label, _ = top_detections(selected, scores, boxes, MAX_DETECTIONS)
        return top_boxes, top_label + 1, top_scores, locs, confs
