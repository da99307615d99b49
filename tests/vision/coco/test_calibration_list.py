"""The official v0.5 COCO calibration list as shipped: 500 COCO 2017 training images, fixed bytes."""

from __future__ import annotations

import hashlib

from tools.calibration.lists import read_names
from vision.coco.calibration_lists import CALIBRATION_IMAGES_DIR, CALIBRATION_LISTS

SHA256 = "ca6f97a9e49db992d18bf01dc98d7b164c5f57c0ce2553c45365ca8445bec559"  # as shipped (calibration/COCO)


def test_the_list_names_500_distinct_training_images() -> None:
    path = CALIBRATION_LISTS["coco"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SHA256
    names = read_names(path)
    assert len(names) == len(set(names)) == 500
    assert all(len(n) == 16 and n.endswith(".jpg") and n[:12].isdigit() for n in names)
    assert names[0] == "000000391895.jpg" and names[-1] == "000000511117.jpg"
    assert CALIBRATION_IMAGES_DIR == "train2017"
