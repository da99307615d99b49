"""The 15,130 default boxes of SSD-ResNet34 at 1200x1200 (v0.5 ``dboxes_R34_coco``, weiliu89/caffe style).

Per level: sizes (s_k, s_k), (sqrt(s_k s_k+1), same), then (s_k sqrt(a), s_k / sqrt(a)) and its transpose
for each aspect ratio a; centres ((col + 0.5) / f_k, (row + 0.5) / f_k) with f_k = 1200 // step. Built
in float64, clamped to [0, 1] as (cx, cy, w, h), ordered slot-major: [level][size][row][col].
"""

from __future__ import annotations

import math

import numpy as np

IMAGE_SIZE = 1200  # v0.5 SSD_R34.size
FEATURE_MAPS = (50, 25, 13, 7, 3, 3)  # v0.5 dboxes_R34_coco feat_size (head outputs)
SCALES_AT_300 = (21, 45, 99, 153, 207, 261, 315)  # v0.5 dboxes_R34_coco, scaled by 1200 / 300
ASPECT_RATIOS = ((2,), (2, 3), (2, 3), (2, 3), (2,), (2,))  # v0.5 dboxes_R34_coco


def steps(image_size: int = IMAGE_SIZE) -> list[int]:
    """``int(1200 / f)`` per level: 24, 48, 92, 171, 400, 400."""
    return [int(image_size / f) for f in FEATURE_MAPS]


def scales(image_size: int = IMAGE_SIZE) -> list[int]:
    """``int(s * 1200 / 300)`` pixels: 84, 180, 396, 612, 828, 1044, 1260."""
    return [int(s * image_size / 300) for s in SCALES_AT_300]


def default_boxes_xywh(image_size: int = IMAGE_SIZE) -> np.ndarray:
    """Default boxes ``[15130, 4]`` float64 as (cx, cy, w, h), clamped to [0, 1]."""
    pixel_scales = scales(image_size)
    boxes = []
    for level, size in enumerate(FEATURE_MAPS):
        fk = image_size // steps(image_size)[level]
        sk1 = pixel_scales[level] / image_size
        sk2 = pixel_scales[level + 1] / image_size
        sizes = [(sk1, sk1), (math.sqrt(sk1 * sk2),) * 2]
        for alpha in ASPECT_RATIOS[level]:
            w, h = sk1 * math.sqrt(alpha), sk1 / math.sqrt(alpha)
            sizes += [(w, h), (h, w)]
        rows, cols = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
        cx = ((cols + 0.5) / fk).reshape(-1)
        cy = ((rows + 0.5) / fk).reshape(-1)
        for w, h in sizes:
            boxes.append(np.stack([cx, cy, np.full_like(cx, w), np.full_like(cx, h)], axis=1))
    return np.clip(np.concatenate(boxes), 0.0, 1.0)
