"""Greedy per-class NMS, batched: many (image, class) groups at once, one vector step per rank.

The reference walks boxes one by one in Python (``ssd_r34.py`` ``decode_single``, ``utils.py`` ``nms``).
Here every group's boxes come sorted by descending score; the IoU matrix of each group is computed once
and the greedy pass runs over ranks, each step a tensor operation over all groups. The result equals
the reference's greedy selection: a box is kept when no kept box of higher rank suppresses it.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

IouFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
MAX_IOU_ELEMENTS = 1 << 24  # bound on one chunk's IoU tensor (64 MiB of float32)


def greedy_nms(
    boxes: torch.Tensor, valid: torch.Tensor, iou: IouFn, suppresses: Callable[[torch.Tensor], torch.Tensor]
) -> torch.Tensor:
    """Which boxes survive greedy NMS, as a bool mask ``[G, K]``.

    ``boxes`` ``[G, K, 4]`` ltrb, each group sorted by descending score; ``valid`` ``[G, K]`` marks real
    candidates (the rest is padding). ``iou(remaining, picked)`` broadcasts over box pairs;
    ``suppresses(iou)`` says which remaining boxes a picked box removes (a NaN IoU must count as removed
    where the reference's comparison is False for NaN).
    """
    groups, k = valid.shape
    keep = torch.zeros_like(valid)
    if groups == 0 or k == 0:
        return keep
    chunk = max(1, MAX_IOU_ELEMENTS // (k * k))
    for start in range(0, groups, chunk):
        part = slice(start, start + chunk)
        keep[part] = _greedy_chunk(boxes[part], valid[part], iou, suppresses)
    return keep


def _greedy_chunk(boxes: torch.Tensor, valid: torch.Tensor, iou: IouFn, suppresses) -> torch.Tensor:
    # overlaps[g, j, r]: IoU of remaining box j with picked box r (the reference's argument order)
    overlaps = iou(boxes[:, :, None, :], boxes[:, None, :, :])
    removed_by = suppresses(overlaps)
    alive = valid.clone()
    keep = torch.zeros_like(valid)
    counts = valid.sum(dim=1)
    for rank in range(int(counts.max())):
        picked = alive[:, rank]
        if not bool(picked.any()):
            continue
        keep[:, rank] = picked
        alive &= ~(picked[:, None] & removed_by[:, :, rank])
    return keep


def topk_per_group(scores: torch.Tensor, threshold: float, k: int | None) -> tuple[torch.Tensor, ...]:
    """Candidates per group: scores above ``threshold``, best first, at most ``k`` (None: all).

    ``scores`` ``[G, A]``; returns (values ``[G, K]``, anchor indices ``[G, K]``, valid ``[G, K]``) with
    K the largest candidate count (padding marked invalid). Ties keep the lower anchor index first.
    """
    above = scores > threshold
    count = int(above.sum(dim=1).max()) if scores.numel() else 0
    if k is not None:
        count = min(count, k)
    masked = torch.where(above, scores, torch.full_like(scores, -1.0))
    values, order = torch.sort(masked, dim=1, descending=True, stable=True)
    values, order = values[:, :count], order[:, :count]
    return values, order, values > threshold
