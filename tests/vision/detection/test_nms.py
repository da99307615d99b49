from __future__ import annotations

import torch

from vision.detection.nms import greedy_nms, topk_per_group
from vision.ssd_mobilenet.decode import mobilenet_iou, suppressed_above_threshold
from vision.ssd_resnet34.decode import suppressed_at_or_above, unclamped_iou


def loop_nms(boxes, scores, iou, keep_if):
    """The reference's one-box-at-a-time greedy loop (pick best, drop what fails ``keep_if``)."""
    order = torch.argsort(scores, descending=True, stable=True).tolist()
    picked = []
    while order:
        current = order[0]
        picked.append(current)
        rest = torch.tensor(order[1:], dtype=torch.long)
        if not len(rest):
            break
        values = iou(boxes[rest], boxes[current][None])
        order = rest[keep_if(values)].tolist()
    return picked


def random_boxes(generator, count):
    corner = torch.rand(count, 2, generator=generator)
    size = torch.rand(count, 2, generator=generator) * 0.4 + 0.01
    return torch.cat([corner, corner + size], dim=1)


def test_batched_nms_equals_the_greedy_loop_for_both_iou_variants():
    generator = torch.Generator().manual_seed(0)
    variants = [(mobilenet_iou, suppressed_above_threshold), (unclamped_iou, suppressed_at_or_above)]
    for iou, suppresses in variants:
        groups = []
        for _ in range(6):
            boxes, scores = random_boxes(generator, 40), torch.rand(40, generator=generator)
            groups.append((boxes, scores))
        order = [torch.argsort(s, descending=True, stable=True) for _, s in groups]
        stacked = torch.stack([b[o] for (b, _), o in zip(groups, order, strict=True)])
        keep = greedy_nms(stacked, torch.ones(6, 40, dtype=torch.bool), iou, suppresses)
        for g, ((boxes, scores), o) in enumerate(zip(groups, order, strict=True)):
            expected = loop_nms(boxes, scores, iou, lambda v, s=suppresses: ~s(v))
            assert o[keep[g]].tolist() == expected


def test_hand_made_overlaps():
    boxes = torch.tensor(
        [[[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 0.9], [2.0, 2.0, 3.0, 3.0], [0.0, 0.0, 0.5, 1.0]]]
    )
    keep = greedy_nms(boxes, torch.ones(1, 4, dtype=torch.bool), mobilenet_iou, suppressed_above_threshold)
    # box 1 overlaps box 0 at IoU 0.9 (dropped); box 3 at IoU 0.5 (kept, <= 0.6); box 2 is disjoint
    assert keep.tolist() == [[True, False, True, True]]


def test_padding_is_never_kept_and_topk_orders_best_first():
    scores = torch.tensor([[0.1, 0.9, 0.5, 0.2], [0.0, 0.0, 0.0, 0.0]])
    values, order, valid = topk_per_group(scores, 0.15, 2)
    assert order[0].tolist() == [1, 2] and valid.tolist() == [[True, True], [False, False]]
    boxes = torch.tensor([0.1, 0.1, 0.4, 0.4]).expand(2, 2, 4)
    keep = greedy_nms(boxes, valid, mobilenet_iou, suppressed_above_threshold)
    assert keep.tolist() == [[True, False], [False, False]]  # identical boxes: the best one stays
