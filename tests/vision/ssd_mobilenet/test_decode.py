"""Post-processing against a one-box-at-a-time transcription of the reference's filter_results."""

from __future__ import annotations

import torch

from vision.ssd_mobilenet.anchors import ssd_anchors
from vision.ssd_mobilenet.decode import decode_boxes, mobilenet_iou, postprocess


def reference_filter(scores, boxes):
    """v0.5 ssd_mobilenet_v1.py filter_results + utils.nms, box by box."""
    out_boxes, out_labels, out_scores = [], [], []
    for label in range(1, scores.shape[1]):
        probs = scores[:, label]
        mask = probs > 0.3
        subset, probs = boxes[mask], probs[mask]
        order = torch.argsort(probs, descending=True, stable=True)
        picked = []
        while len(order):
            current = order[0]
            picked.append(int(current))
            order = order[1:]
            if not len(order):
                break
            iou = mobilenet_iou(subset[order], subset[current][None])
            order = order[iou <= 0.6]
        out_boxes.append(subset[picked])
        out_scores.append(probs[picked])
        out_labels += [label] * len(picked)
    return torch.cat(out_boxes), torch.tensor(out_labels), torch.cat(out_scores)


def test_decode_of_zero_codes_is_the_anchor_in_xyxy():
    anchors = torch.tensor([[0.1, 0.2, 0.5, 0.6]])  # ymin, xmin, ymax, xmax
    boxes = decode_boxes(torch.zeros(1, 1, 4), anchors)
    torch.testing.assert_close(boxes[0, 0], torch.tensor([0.2, 0.1, 0.6, 0.5]))
    shifted = decode_boxes(torch.tensor([[[10.0, 0.0, 0.0, 5.0 * 0.6931472]]]), anchors)  # dy=1 h, w x2
    torch.testing.assert_close(shifted[0, 0], torch.tensor([0.0, 0.5, 0.8, 0.9]))


def test_batched_postprocess_equals_the_reference_loop():
    generator = torch.Generator().manual_seed(1)
    logits = torch.randn(2, 1917, 91, generator=generator) * 0.8 - 2.0
    codes = torch.randn(2, 1917, 4, generator=generator)
    anchors = torch.from_numpy(ssd_anchors())
    results = postprocess(logits, codes, anchors)
    scores, boxes = torch.sigmoid(logits), decode_boxes(codes, anchors)
    for image, (got_boxes, got_labels, got_scores) in enumerate(results):
        want_boxes, want_labels, want_scores = reference_filter(scores[image], boxes[image])
        assert len(want_labels) > 20
        assert got_labels.tolist() == want_labels.tolist()
        assert torch.equal(torch.from_numpy(got_scores), want_scores)
        assert torch.equal(torch.from_numpy(got_boxes), want_boxes)


def test_no_score_above_threshold_gives_no_detection():
    [(boxes, labels, scores)] = postprocess(
        torch.full((1, 1917, 91), -5.0), torch.zeros(1, 1917, 4), torch.from_numpy(ssd_anchors())
    )
    assert boxes.shape == (0, 4) and len(labels) == 0 and len(scores) == 0
