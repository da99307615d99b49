from __future__ import annotations

import numpy as np

from vision.detection.payload import pack_detections, unpack_detections


def test_seven_float32_per_detection_in_the_v05_order():
    payload = pack_detections(7, np.array([[0.1, 0.2, 0.3, 0.4]]), np.array([0.9]), np.array([18]))
    assert len(payload) == 28
    assert (
        unpack_detections(payload).tolist()
        == np.array([[7, 0.1, 0.2, 0.3, 0.4, 0.9, 18]], dtype=np.float32).tolist()
    )


def test_no_detection_gives_an_empty_payload():
    assert pack_detections(3, np.zeros((0, 4)), np.zeros(0), np.zeros(0)) == b""
