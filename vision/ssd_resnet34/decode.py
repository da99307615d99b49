"""The v0.5 reference's SSD-ResNet34 post-processing (``ssd_r34.py`` ``Encoder``), batched.

Softmax over 81 labels; boxes decoded with variances 0.1/0.2; per label 1..80 keep scores > 0.05, the
200 best, greedy NMS at IoU 0.5; then the 200 best detections per image, returned in ascending score
order. The quirks of the reference are kept and named where they live.
"""

from __future__ import annotations

import numpy as np
import torch

from vision.detection.nms import greedy_nms, topk_per_group
from vision.ssd_resnet34.anchors import default_boxes_xywh

SCALE_XY = 0.1  # v0.5 DefaultBoxes scale_xy (centre variance)
SCALE_WH = 0.2  # v0.5 DefaultBoxes scale_wh (size variance)
SCORE_THRESHOLD = 0.05  # v0.5 Encoder.decode_single: score > 0.05
CANDIDATES_PER_LABEL = 200  # v0.5 decode_single max_num
IOU_THRESHOLD = 0.5  # v0.5 SSD_R34.forward passes criteria 0.50 (the method default 0.45 is unused)
MAX_DETECTIONS = 200  # v0.5 SSD_R34.forward max_output


def default_boxes() -> torch.Tensor:
    """Default boxes (cx, cy, w, h) ``[15130, 4]``, built in float64 and cast as ``decode_batch`` does."""
    return torch.from_numpy(default_boxes_xywh()).to(torch.float32)


def decode_boxes(locs: torch.Tensor, dboxes_xywh: torch.Tensor) -> torch.Tensor:
    """``scale_back_batch``: locs ``[N, 4, A]`` (x, y, w, h codes) -> boxes ``[N, A, 4]`` ltrb."""
    codes = locs.permute(0, 2, 1)
    scale_xy = torch.tensor(SCALE_XY, dtype=torch.float32)
    scale_wh = torch.tensor(SCALE_WH, dtype=torch.float32)
    cxcy = (scale_xy * codes[..., :2]) * dboxes_xywh[:, 2:] + dboxes_xywh[:, :2]
    wh = (scale_wh * codes[..., 2:]).exp() * dboxes_xywh[:, 2:]
    return torch.cat([cxcy - 0.5 * wh, cxcy + 0.5 * wh], dim=-1)


def unclamped_iou(remaining: torch.Tensor, picked: torch.Tensor) -> torch.Tensor:
    """``calc_iou_tensor`` as the reference computes it.

    Quirk kept: the reference clamps a discarded copy of the overlap (``delta.clone().masked_fill_``),
    so negative overlaps are not clamped: boxes disjoint on one axis get a negative intersection, boxes
    disjoint on both axes a positive one. With random weights a clamped IoU changes ~70% of the output.
    """
    delta = torch.min(remaining[..., 2:], picked[..., 2:]) - torch.max(remaining[..., :2], picked[..., :2])
    intersect = delta[..., 0] * delta[..., 1]
    size1 = remaining[..., 2:] - remaining[..., :2]
    size2 = picked[..., 2:] - picked[..., :2]
    area1 = size1[..., 0] * size1[..., 1]
    area2 = size2[..., 0] * size2[..., 1]
    return intersect / (area1 + area2 - intersect)


def suppressed_at_or_above(iou: torch.Tensor) -> torch.Tensor:
    """The reference keeps a remaining box when IoU < 0.5 (``iou_sorted < criteria``); NaN removes."""
    return ~(iou < IOU_THRESHOLD)


def postprocess(
    locs: torch.Tensor, confs: torch.Tensor, dboxes_xywh: torch.Tensor
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per image: boxes ``[K, 4]`` [xmin, ymin, xmax, ymax], labels 1..80, scores; K <= 200.

    Quirk kept: the order is ascending by score (the reference sorts ascending and keeps the last 200).
    An image without any score above 0.05 gives no detection (the reference raises there).
    """
    boxes = decode_boxes(locs, dboxes_xywh)
    probs = torch.softmax(confs.permute(0, 2, 1), dim=-1)
    n, a, c = probs.shape
    per_label = probs[:, :, 1:].permute(0, 2, 1).reshape(n * (c - 1), a)  # label 0 is background
    values, order, valid = topk_per_group(per_label, SCORE_THRESHOLD, CANDIDATES_PER_LABEL)
    image_of_group = torch.arange(n).repeat_interleave(c - 1)
    candidates = boxes[image_of_group[:, None], order]
    keep = greedy_nms(candidates, valid, unclamped_iou, suppressed_at_or_above)
    results = []
    for image in range(n):
        groups = slice(image * (c - 1), (image + 1) * (c - 1))
        kept = keep[groups]
        labels = torch.arange(1, c)[:, None].expand_as(kept)[kept]
        scores = values[groups][kept]
        chosen = torch.sort(scores, stable=True).indices[-MAX_DETECTIONS:]  # ascending, best last
        results.append(
            (candidates[groups][kept][chosen].numpy(), labels[chosen].numpy(), scores[chosen].numpy())
        )
    return results
