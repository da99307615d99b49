from __future__ import annotations

import json

import torch

from vision.ssd_mobilenet.benchmark import REFERENCE_STATE_DICT
from vision.ssd_mobilenet.model import SSDMobileNetV1, same_padding


def test_parameters_and_state_dict_match_the_reference_port():
    reference = json.loads(REFERENCE_STATE_DICT.read_text())
    model = SSDMobileNetV1()
    assert sum(p.numel() for p in model.parameters()) == 6_796_223  # facts: trainable elements
    shapes = [list(t.shape) for t in model.state_dict().values()]
    assert len(shapes) == 107
    assert shapes == [shape for _, shape, _ in reference["state_dict"]]
    buffers = sum(b.numel() for b in model.buffers())
    assert buffers == 15_904  # folded batch norm: scale and bias buffers, no running statistics


def test_raw_heads_at_300():
    model = SSDMobileNetV1().eval()
    with torch.no_grad():
        maps = model.feature_maps(torch.zeros(1, 3, 300, 300))
        logits, codes = model(torch.zeros(2, 3, 300, 300))
    assert [m.shape[-1] for m in maps] == [19, 10, 5, 3, 2, 1]
    assert [m.shape[1] for m in maps] == [512, 1024, 512, 256, 256, 128]
    assert logits.shape == (2, 1917, 91) and codes.shape == (2, 1917, 4)


def test_tf_same_padding_puts_the_odd_pixel_after():
    assert same_padding(300, 3, 2) == (0, 1)  # out 150: total (149 * 2 + 3 - 300) = 1
    assert same_padding(150, 3, 1) == (1, 1)
    assert same_padding(19, 3, 2) == (1, 1)
    assert same_padding(10, 3, 2) == (0, 1)
