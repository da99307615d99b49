from __future__ import annotations

import json

import numpy as np

from vision.ssd_resnet34.anchors import default_boxes_xywh, scales, steps
from vision.ssd_resnet34.benchmark import REFERENCE_STATE_DICT  # noqa: F401  (same folder of facts)

LEVELS = [  # facts: count, first index, slot sizes (w, h) per level
    (10000, 0, [[0.07, 0.07], [0.10247, 0.10247], [0.098995, 0.049497], [0.049497, 0.098995]]),
    (
        3750,
        10000,
        [
            [0.15, 0.15],
            [0.222486, 0.222486],
            [0.212132, 0.106066],
            [0.106066, 0.212132],
            [0.259808, 0.086603],
            [0.086603, 0.259808],
        ],
    ),
    (1014, 13750, None),
    (294, 14764, None),
    (36, 15058, [[0.69, 0.69], [0.77479, 0.77479], [0.975807, 0.487904], [0.487904, 0.975807]]),
    (36, 15094, [[0.87, 0.87], [0.955772, 0.955772], [1.0, 0.615183], [0.615183, 1.0]]),
]


def test_15130_default_boxes_and_the_first_one():
    boxes = default_boxes_xywh()
    assert boxes.shape == (15130, 4) and boxes.dtype == np.float64
    np.testing.assert_allclose(boxes[0], [0.01, 0.01, 0.07, 0.07])
    assert steps() == [24, 48, 92, 171, 400, 400]
    assert scales() == [84, 180, 396, 612, 828, 1044, 1260]


def test_levels_are_slot_major_with_the_reference_sizes():
    boxes = default_boxes_xywh()
    for count, first, sizes in LEVELS:
        level = boxes[first : first + count]
        if sizes is None:
            continue
        per_slot = count // len(sizes)
        for slot, size in enumerate(sizes):
            np.testing.assert_allclose(
                level[slot * per_slot : (slot + 1) * per_slot, 2:], np.tile(size, (per_slot, 1)), atol=1e-6
            )
    # within a slot: row-major positions, centres (col + 0.5) / 50
    np.testing.assert_allclose(boxes[1, :2], [0.03, 0.01])
    np.testing.assert_allclose(boxes[50, :2], [0.01, 0.03])
    assert json.dumps(boxes.min()) == "0.0" or boxes.min() >= 0.0  # clamped to [0, 1]
    assert boxes.max() <= 1.0
