"""The v0.5 PyTorch port's post-processing, batched: box decoding, sigmoid scores, per-class NMS.

Reproduces ``ssd_mobilenet_v1.py`` ``filter_results`` and ``utils.py`` ``nms``/``box_iou``/
``decode_boxes`` arithmetic, quirks included (see the names below).
"""

from __future__ import annotations

import numpy as np
import torch

from vision.detection.nms import greedy_nms, topk_per_group

BOX_CODER_WEIGHTS = (10.0, 10.0, 5.0, 5.0)  # v0.5 SSD.coder_weights for (y, x, h, w)
SCORE_THRESHOLD = 0.3  # v0.5 SSD.score_threshold (strict >; "0.01 gives better mAP but is slower")
IOU_THRESHOLD = 0.6  # v0.5 SSD.nms_threshold
IOU_EPS = 1e-5  # v0.5 utils.box_iou eps, added to the denominator


def decode_boxes(codes: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
    """Faster-RCNN box coder: codes ``[N, A, 4]`` (ty, tx, th, tw) + anchors [ymin, xmin, ymax, xmax]
    -> boxes ``[N, A, 4]`` as [xmin, ymin, xmax, ymax] (the reference's operation order)."""
    wy, wx, wh, ww = BOX_CODER_WEIGHTS
    widths = anchors[:, 3] - anchors[:, 1]
    heights = anchors[:, 2] - anchors[:, 0]
    ctr_x = anchors[:, 1] + 0.5 * widths
    ctr_y = anchors[:, 0] + 0.5 * heights
    pred_ctr_x = codes[..., 1] / wx * widths + ctr_x
    pred_ctr_y = codes[..., 0] / wy * heights + ctr_y
    pred_w = torch.exp(codes[..., 3] / ww) * widths
    pred_h = torch.exp(codes[..., 2] / wh) * heights
    left, top = pred_ctr_x - 0.5 * pred_w, pred_ctr_y - 0.5 * pred_h
    right, bottom = pred_ctr_x + 0.5 * pred_w, pred_ctr_y + 0.5 * pred_h
    return torch.stack([left, top, right, bottom], dim=-1)


def _clamped_area(lt: torch.Tensor, rb: torch.Tensor) -> torch.Tensor:
    wh = torch.clamp(rb - lt, min=0.0)
    return wh[..., 0] * wh[..., 1]


def mobilenet_iou(remaining: torch.Tensor, picked: torch.Tensor) -> torch.Tensor:
    """``utils.box_iou``: clamped overlap over (area0 + area1 - overlap + 1e-5)."""
    lt = torch.max(remaining[..., :2], picked[..., :2])
    rb = torch.min(remaining[..., 2:], picked[..., 2:])
    overlap = _clamped_area(lt, rb)
    area0 = _clamped_area(remaining[..., :2], remaining[..., 2:])
    area1 = _clamped_area(picked[..., :2], picked[..., 2:])
    return overlap / (area0 + area1 - overlap + IOU_EPS)


def suppressed_above_threshold(iou: torch.Tensor) -> torch.Tensor:
    """Quirk kept: the reference keeps a box when IoU <= 0.6 (``indexes[iou <= iou_threshold]``)."""
    return ~(iou <= IOU_THRESHOLD)


def postprocess(
    class_logits: torch.Tensor, box_codes: torch.Tensor, anchors: torch.Tensor
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per image: boxes ``[K, 4]`` [xmin, ymin, xmax, ymax], labels (COCO ids 1..90), scores.

    Order as the reference: by class ascending, then descending score; no cap on K.
    """
    scores = torch.sigmoid(class_logits)
    boxes = decode_boxes(box_codes, anchors)
    n, a, c = scores.shape
    per_class = scores[:, :, 1:].permute(0, 2, 1).reshape(n * (c - 1), a)  # class 0 is background
    values, order, valid = topk_per_group(per_class, SCORE_THRESHOLD, None)
    image_of_group = torch.arange(n).repeat_interleave(c - 1)
    candidates = boxes[image_of_group[:, None], order]
    keep = greedy_nms(candidates, valid, mobilenet_iou, suppressed_above_threshold)
    results = []
    for image in range(n):
        groups = slice(image * (c - 1), (image + 1) * (c - 1))
        kept = keep[groups]
        labels = (torch.arange(1, c)[:, None].expand_as(kept))[kept]
        results.append((candidates[groups][kept].numpy(), labels.numpy(), values[groups][kept].numpy()))
    return results
