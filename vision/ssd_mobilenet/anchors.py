"""The 1,917 anchors of SSD-MobileNet-v1 at 300x300: the TF object-detection SSD anchor generator.

Six layers (maps 19, 10, 5, 3, 2, 1) with scales linear from 0.2 to 0.95; the lowest layer uses the
reduced set (0.1, 1), (0.2, 2), (0.2, 1/2); the others use ratios 1, 2, 1/2, 3, 1/3 plus an interpolated
ratio-1 box of scale sqrt(s_k * s_k+1). Boxes are [ymin, xmin, ymax, xmax], normalized, not clipped,
ordered position-major with the slot varying fastest (TF layout).
"""

from __future__ import annotations

import math

import numpy as np

FEATURE_MAPS = (19, 10, 5, 3, 2, 1)  # at 300x300 (facts: raw_shapes_batch1)
MIN_SCALE, MAX_SCALE = 0.2, 0.95  # TF ssd_anchor_generator defaults used by the v0.5 port
ASPECT_RATIOS = (1.0, 2.0, 0.5, 3.0, 1.0 / 3.0)
LOWEST_LAYER = ((0.1, 1.0), (0.2, 2.0), (0.2, 0.5))  # reduce_boxes_in_lowest_layer=True


def layer_specs(layers: int = len(FEATURE_MAPS)) -> list[list[tuple[float, float]]]:
    """(scale, aspect ratio) of each slot of each layer."""
    scales = [MIN_SCALE + (MAX_SCALE - MIN_SCALE) * i / (layers - 1) for i in range(layers)] + [1.0]
    specs = [list(LOWEST_LAYER)]
    for k in range(1, layers):
        slots = [(scales[k], ratio) for ratio in ASPECT_RATIOS]
        slots.append((math.sqrt(scales[k] * scales[k + 1]), 1.0))
        specs.append(slots)
    return specs


def ssd_anchors(feature_maps: tuple[int, ...] = FEATURE_MAPS) -> np.ndarray:
    """Anchors ``[sum(H*W*A), 4]`` float32 as [ymin, xmin, ymax, xmax].

    float32 arithmetic in the order of TF's ``tile_anchors`` (the scales are Python floats first).
    """
    f32 = np.float32
    levels = []
    for size, slots in zip(feature_maps, layer_specs(len(feature_maps)), strict=True):
        scales = np.array([s for s, _ in slots], dtype=f32)
        ratio_sqrts = np.sqrt(np.array([r for _, r in slots], dtype=f32))
        heights, widths = scales / ratio_sqrts, scales * ratio_sqrts
        stride = f32(1.0) / f32(size)
        centers = np.arange(size, dtype=f32) * stride + f32(0.5) * stride
        cy, cx = np.meshgrid(centers, centers, indexing="ij")
        cy, cx = cy.reshape(-1, 1), cx.reshape(-1, 1)  # positions, then slots fastest
        half_h, half_w = f32(0.5) * heights, f32(0.5) * widths
        boxes = np.stack([cy - half_h, cx - half_w, cy + half_h, cx + half_w], axis=-1)
        levels.append(boxes.reshape(-1, 4))
    return np.concatenate(levels).astype(np.float32)
