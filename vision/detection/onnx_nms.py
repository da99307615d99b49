"""Post-processing inside an exported ONNX graph: ONNX ``NonMaxSuppression`` plus a fixed-size top-k.

The official SSD ONNX files carry their post-processing (``num_detections``/``detection_*`` or
``bboxes``/``labels``/``scores``); our exports do the same so that one task serves both. The legacy
torch exporter emits ``NonMaxSuppression`` through the ``symbolic`` of :class:`NonMaxSuppression`; its
eager forward (used while tracing) is a plain greedy NMS.
"""

from __future__ import annotations

import torch

from vision.detection.nms import greedy_nms, topk_per_group


def _clamped_iou(remaining: torch.Tensor, picked: torch.Tensor) -> torch.Tensor:
    lo = torch.max(
        torch.min(remaining[..., :2], remaining[..., 2:]), torch.min(picked[..., :2], picked[..., 2:])
    )
    hi = torch.min(
        torch.max(remaining[..., :2], remaining[..., 2:]), torch.max(picked[..., :2], picked[..., 2:])
    )
    overlap = torch.clamp(hi - lo, min=0).prod(-1)
    area1 = (remaining[..., 2:] - remaining[..., :2]).abs().prod(-1)
    area2 = (picked[..., 2:] - picked[..., :2]).abs().prod(-1)
    return overlap / (area1 + area2 - overlap)


class NonMaxSuppression(torch.autograd.Function):
    """ONNX NonMaxSuppression: boxes ``[N, A, 4]`` corners, scores ``[N, C, A]`` -> ``[S, 3]``
    (image, class, anchor) of the kept boxes."""

    @staticmethod
    def forward(ctx, boxes, scores, max_per_class: int, iou_threshold: float, score_threshold: float):
        n, c, a = scores.shape
        values, order, valid = topk_per_group(scores.reshape(n * c, a), score_threshold, max_per_class)
        image_of_group = torch.arange(n).repeat_interleave(c)
        candidates = boxes[image_of_group[:, None], order]
        keep = greedy_nms(candidates, valid, _clamped_iou, lambda iou: iou > iou_threshold)
        group, rank = keep.nonzero(as_tuple=True)
        return torch.stack([group // c, group % c, order[group, rank]], dim=1)

    @staticmethod
    def symbolic(g, boxes, scores, max_per_class: int, iou_threshold: float, score_threshold: float):
        return g.op(
            "NonMaxSuppression",
            boxes,
            scores,
            g.op("Constant", value_t=torch.tensor([max_per_class], dtype=torch.int64)),
            g.op("Constant", value_t=torch.tensor([iou_threshold], dtype=torch.float32)),
            g.op("Constant", value_t=torch.tensor([score_threshold], dtype=torch.float32)),
            center_point_box_i=0,
        )


def top_detections(
    selected: torch.Tensor, scores: torch.Tensor, boxes: torch.Tensor, k: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The ``k`` best kept boxes per image, best first, zero-score padding after them.

    Returns (scores ``[N, k]``, boxes ``[N, k, 4]``, class index ``[N, k]``, count ``[N]``).
    """
    n, c, a = scores.shape
    flat_scores = scores.reshape(-1)
    flat = selected[:, 0] * (c * a) + selected[:, 1] * a + selected[:, 2]
    kept = torch.zeros_like(flat_scores).scatter(0, flat, flat_scores.gather(0, flat)).reshape(n, c * a)
    top_scores, top_index = torch.topk(kept, k, dim=1)
    anchor = top_index % a
    top_boxes = torch.gather(boxes, 1, anchor.unsqueeze(-1).expand(-1, -1, 4))
    count = (top_scores > 0).sum(dim=1)
    return top_scores, top_boxes, top_index // a, count


def shortlisted_detections(
    scores: torch.Tensor,
    boxes: torch.Tensor,
    k: int,
    shortlist: int,
    max_per_class: int,
    iou_threshold: float,
    score_threshold: float,
) -> tuple[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]:
    """:func:`top_detections` of NMS over each image's ``shortlist`` best (class, anchor) scores only.

    Greedy NMS decides a box from the boxes of its class that score higher, so NMS on a class's best
    candidates decides them as NMS on all of them would (TopK and NonMaxSuppression both put the lower
    index first among equal scores, so a class's shortlisted boxes are the head of its full order). When
    an image keeps ``k`` boxes from its shortlist, every box outside it scores lower than those ``k``: its
    top ``k`` are the full NMS's. Returns the four outputs and whether every image kept ``k`` (when it is
    False the caller takes the full NMS; ``exact_postprocessing`` makes that an ONNX ``If``).
    """
    n, c, a = scores.shape
    best, flat = torch.topk(scores.reshape(n, c * a), shortlist, dim=1)
    label, anchor = flat // a, flat % a
    short_boxes = torch.gather(boxes, 1, anchor.unsqueeze(-1).expand(-1, -1, 4))
    # one row per class, the shortlisted scores of that class in place and zeros (below any threshold) elsewhere
    own = label.unsqueeze(1) == torch.arange(c, dtype=label.dtype).view(1, c, 1)
    per_class = torch.where(own, best.unsqueeze(1), torch.zeros((), dtype=best.dtype))
    selected = NonMaxSuppression.apply(short_boxes, per_class, max_per_class, iou_threshold, score_threshold)
    flat_kept = selected[:, 0] * shortlist + selected[:, 2]
    kept = torch.zeros_like(best).reshape(-1).scatter(0, flat_kept, best.reshape(-1).gather(0, flat_kept))
    top_scores, top_index = torch.topk(kept.reshape(n, shortlist), k, dim=1)
    top_boxes = torch.gather(short_boxes, 1, top_index.unsqueeze(-1).expand(-1, -1, 4))
    count = (top_scores > 0).sum(dim=1)
    return (top_scores, top_boxes, torch.gather(label, 1, top_index), count), (count >= k).all()
