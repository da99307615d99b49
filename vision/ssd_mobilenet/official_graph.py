"""Our model behind the official graph interface (``image_tensor:0`` -> ``num_detections:0`` ...).

The official TF frozen graph and its ONNX conversion take uint8 NHWC images and carry the TF object-
detection post-processing (sigmoid, box decoding, multi-class NMS, 100 detections). This wrapper gives
our plain-torch model the same interface for the ONNX export, with the TF pipeline's settings.
"""

from __future__ import annotations

import torch
from torch import nn

from vision.coco.preprocess import MOBILENET_MEAN, MOBILENET_STD
from vision.detection.onnx_nms import NonMaxSuppression, shortlisted_detections, top_detections
from vision.ssd_mobilenet.decode import decode_boxes

INPUT = "image_tensor:0"
OUTPUTS = ("num_detections:0", "detection_boxes:0", "detection_scores:0", "detection_classes:0")
RAW_OUTPUTS = ("class_logits", "box_codes")  # extra outputs of our exports, for cross-checks
# TF object-detection pipeline of ssd_mobilenet_v1_coco (facts: "unverified" upstream config values)
GRAPH_SCORE_THRESHOLD = 1e-8
GRAPH_IOU_THRESHOLD = 0.6
GRAPH_MAX_PER_CLASS = 100
GRAPH_MAX_DETECTIONS = 100
# NMS runs first on each image's best (class, anchor) scores; the full NMS only when those keep fewer than
# 100 boxes (the same detections either way: shortlisted_detections). Our speed choice, not the pipeline's.
GRAPH_SHORTLIST = 400
# the exported graph's outputs before export.exact_postprocessing joins the two ways into one If
FAST_OUTPUTS = tuple(f"shortlist_{name}" for name in OUTPUTS)
EXACT_OUTPUTS = tuple(f"all_{name}" for name in OUTPUTS)
SHORTLIST_ENOUGH = "shortlist_enough"


class OfficialInterface(nn.Module):
    """uint8 ``[N, 300, 300, 3]`` -> num_detections, boxes [ymin, xmin, ymax, xmax], scores, COCO ids."""

    def __init__(self, model: nn.Module, anchors: torch.Tensor) -> None:
        super().__init__()
        self.model = model
        self.register_buffer("anchors", anchors)

    def forward(self, image: torch.Tensor):
        x = (image.float().permute(0, 3, 1, 2) - MOBILENET_MEAN) / MOBILENET_STD
        logits, codes = self.model(x)
        scores = torch.sigmoid(logits)[:, :, 1:].permute(0, 2, 1)  # [N, 90, A], class 0 is background
        ltrb = decode_boxes(codes, self.anchors)
        yxyx = torch.stack([ltrb[..., 1], ltrb[..., 0], ltrb[..., 3], ltrb[..., 2]], dim=-1)
        selected = NonMaxSuppression.apply(
            yxyx, scores, GRAPH_MAX_PER_CLASS, GRAPH_IOU_THRESHOLD, GRAPH_SCORE_THRESHOLD
        )
        exact = top_detections(selected, scores, yxyx, GRAPH_MAX_DETECTIONS)
        fast, enough = shortlisted_detections(scores, yxyx, GRAPH_MAX_DETECTIONS, GRAPH_SHORTLIST,
                                              GRAPH_MAX_PER_CLASS, GRAPH_IOU_THRESHOLD, GRAPH_SCORE_THRESHOLD)
        return *official_outputs(*fast), enough, *official_outputs(*exact), logits, codes


def official_outputs(top_scores, top_boxes, top_class, count):
    """num_detections, boxes, scores, COCO ids (class index + 1) as floats, the official graph's order."""
    return count.float(), top_boxes, top_scores, (top_class + 1).float()
