"""The official MLPerf v0.5 ImageNet calibration lists (mlcommons/inference, ``calibration/ImageNet``).

Two lists of 500 validation images each; the rules allow calibrating on one of them. ``option_2`` adds an
index after each name, which the list reader skips.
"""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).with_name("calibration")
CALIBRATION_LISTS = {
    "option_1": FOLDER / "cal_image_list_option_1.txt",
    "option_2": FOLDER / "cal_image_list_option_2.txt",
}
