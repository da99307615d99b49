"""The official MLPerf v0.5 COCO calibration list (mlcommons/inference, ``calibration/COCO``).

500 images of the COCO 2017 *training* set (not val2017): a calibration reads them from the dataset
folder's ``train2017/``, where download_dataset.sh puts them.
"""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).with_name("calibration")
CALIBRATION_LISTS = {"coco": FOLDER / "coco_cal_images_list.txt"}
CALIBRATION_IMAGES_DIR = "train2017"
