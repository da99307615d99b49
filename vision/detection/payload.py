"""The v0.5 detection payload: 7 float32 each, ``[qsl_idx, ymin, xmin, ymax, xmax, score, class]``."""

from __future__ import annotations

import numpy as np

FIELDS = 7  # v0.5 coco.py PostProcessCoco*: id, ymin, xmin, ymax, xmax, score, class


def pack_detections(qsl_idx: int, boxes_yxyx: np.ndarray, scores: np.ndarray, classes: np.ndarray) -> bytes:
    """One sample's payload: boxes normalized ``[K, 4]`` (ymin, xmin, ymax, xmax), classes COCO ids.

    Zero detections give an empty payload, as in the reference.
    """
    count = len(scores)
    rows = np.empty((count, FIELDS), dtype=np.float32)
    rows[:, 0] = qsl_idx
    rows[:, 1:5] = np.asarray(boxes_yxyx, dtype=np.float32).reshape(count, 4)
    rows[:, 5] = scores
    rows[:, 6] = classes
    return rows.tobytes()


def unpack_detections(payload: bytes) -> np.ndarray:
    """A payload back as ``[K, 7]`` float32 rows."""
    if len(payload) % (4 * FIELDS):
        raise ValueError(f"a detection payload holds 7 float32 per detection; got {len(payload)} bytes")
    return np.frombuffer(payload, dtype=np.float32).reshape(-1, FIELDS)
