from __future__ import annotations

import json

import numpy as np

from vision.ssd_mobilenet.anchors import layer_specs, ssd_anchors

FACTS = {  # facts ssd_mobilenet_v1_state_dict.json "anchors": first index, first and last box per level
    0: ([-0.023684, -0.023684, 0.076316, 0.076316], [0.832263, 0.902974, 1.115106, 1.044395]),
    1083: ([-0.125, -0.125, 0.225, 0.225], [0.740835, 0.740835, 1.159165, 1.159165]),
    1683: ([-0.15, -0.15, 0.35, 0.35], [0.614956, 0.614956, 1.185044, 1.185044]),
    1833: ([-0.158333, -0.158333, 0.491667, 0.491667], [0.472778, 0.472778, 1.193889, 1.193889]),
    1887: ([-0.15, -0.15, 0.65, 0.65], [0.31411, 0.31411, 1.18589, 1.18589]),
    1911: ([0.025, 0.025, 0.975, 0.975], [0.01266, 0.01266, 0.98734, 0.98734]),
}


def test_1917_anchors_with_the_reference_corners():
    anchors = ssd_anchors()
    assert anchors.shape == (1917, 4) and anchors.dtype == np.float32
    starts = sorted(FACTS) + [1917]
    for start, end in zip(starts[:-1], starts[1:], strict=True):
        first, last = FACTS[start]
        np.testing.assert_allclose(anchors[start], first, atol=1e-6)
        np.testing.assert_allclose(anchors[end - 1], last, atol=1e-6)


def test_scales_and_interpolated_scales():
    specs = layer_specs()
    assert [round(s[0][0], 4) for s in specs[1:]] == [0.35, 0.5, 0.65, 0.8, 0.95]
    assert [round(s[-1][0], 4) for s in specs[1:]] == [0.4183, 0.5701, 0.7211, 0.8718, 0.9747]
    assert specs[0] == [(0.1, 1.0), (0.2, 2.0), (0.2, 0.5)]
    assert json.dumps([len(s) for s in specs]) == "[3, 6, 6, 6, 6, 6]"
