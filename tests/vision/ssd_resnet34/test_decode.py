"""Post-processing against a box-by-box transcription of the reference's Encoder.decode_single."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vision.detection.task import label_to_category
from vision.ssd_resnet34.decode import decode_boxes, postprocess, unclamped_iou


def reference_decode_single(boxes, probs, criteria=0.5, max_output=200, max_num=200):
    out_boxes, out_scores, out_labels = [], [], []
    for label in range(1, probs.shape[1]):
        score = probs[:, label]
        mask = score > 0.05
        subset, score = boxes[mask], score[mask]
        if not len(score):
            continue
        order = torch.argsort(score, stable=True)[-max_num:]  # ascending, the best last
        candidates = []
        while order.numel() > 0:
            idx = int(order[-1])
            iou = unclamped_iou(subset[order], subset[idx][None]).reshape(-1)
            order = order[iou < criteria]
            candidates.append(idx)
        out_boxes.append(subset[candidates])
        out_scores.append(score[candidates])
        out_labels += [label] * len(candidates)
    boxes, labels, scores = torch.cat(out_boxes), torch.tensor(out_labels), torch.cat(out_scores)
    keep = torch.argsort(scores, stable=True)[-max_output:]
    return boxes[keep], labels[keep], scores[keep]


def test_iou_keeps_the_unclamped_overlap_quirk():
    a = torch.tensor([[0.0, 0.0, 0.2, 0.2]])
    diagonal = torch.tensor([[0.4, 0.4, 0.6, 0.6]])  # disjoint on both axes: (-0.2) * (-0.2) = +0.04
    side = torch.tensor([[0.4, 0.0, 0.6, 0.2]])  # disjoint on x only: (-0.2) * 0.2 = -0.04
    # the disjoint diagonal box gets IoU 0.04 / (0.04 + 0.04 - 0.04) = 1: the reference suppresses it
    assert float(unclamped_iou(diagonal, a)) == pytest.approx(1.0)
    assert float(unclamped_iou(side, a)) == pytest.approx(-0.04 / 0.12)
    assert float(unclamped_iou(a, a)) == 1.0


def test_batched_postprocess_equals_the_reference_and_is_ascending():
    generator = torch.Generator().manual_seed(4)
    anchors = 600
    dboxes = torch.cat(
        [
            torch.rand(anchors, 2, generator=generator),
            torch.rand(anchors, 2, generator=generator) * 0.3 + 0.02,
        ],
        dim=1,
    )
    locs = torch.randn(2, 4, anchors, generator=generator)
    confs = torch.randn(2, 81, anchors, generator=generator) * 2.5
    results = postprocess(locs, confs, dboxes)
    boxes = decode_boxes(locs, dboxes)
    probs = torch.softmax(confs.permute(0, 2, 1), dim=-1)
    for image, (got_boxes, got_labels, got_scores) in enumerate(results):
        want_boxes, want_labels, want_scores = reference_decode_single(boxes[image], probs[image])
        assert len(got_scores) == 200  # the cap of 200 detections per image
        assert np.all(np.diff(got_scores) >= 0)  # ascending: the reference's order
        assert torch.equal(torch.from_numpy(got_scores), want_scores)
        assert got_labels.tolist() == want_labels.tolist()
        assert torch.equal(torch.from_numpy(got_boxes), want_boxes)


def test_nothing_above_threshold_gives_no_detection():
    confs = torch.zeros(1, 81, 10)
    confs[:, 0] = 10.0  # all background
    [(boxes, labels, scores)] = postprocess(torch.zeros(1, 4, 10), confs, torch.full((10, 4), 0.1))
    assert boxes.shape == (0, 4) and len(labels) == 0 and len(scores) == 0


def test_labels_map_to_coco_ids_through_sorted_category_ids():
    mapping = label_to_category(None)
    assert len(mapping) == 81 and mapping[0] == 0
    assert (mapping[1], mapping[11], mapping[12], mapping[80]) == (1, 11, 13, 90)
