from __future__ import annotations

import json
import shutil
import subprocess
import sys

import cv2
import pytest

from common.samples import SYNTHETIC_MARKER
from vision.coco.upscale import main, upscale


def test_resized_copy_has_matching_names_and_scaled_boxes(coco_samples, tmp_path):
    target = upscale(coco_samples, tmp_path / "out", (300, 200), "png")
    before = json.loads((coco_samples / "annotations" / "instances_val2017.json").read_text())
    after = json.loads(target.read_text())
    for image in after["images"]:
        assert image["file_name"].endswith(".png") and (image["width"], image["height"]) == (300, 200)
        assert cv2.imread(str(tmp_path / "out" / "val2017" / image["file_name"])).shape == (200, 300, 3)
    sizes = {i["id"]: (i["width"], i["height"]) for i in before["images"]}
    old, new = before["annotations"][0], after["annotations"][0]
    w, h = sizes[old["image_id"]]
    assert new["bbox"] == pytest.approx(
        [
            old["bbox"][0] * 300 / w,
            old["bbox"][1] * 200 / h,
            old["bbox"][2] * 300 / w,
            old["bbox"][3] * 200 / h,
        ]
    )
    assert new["area"] == pytest.approx(old["area"] * 300 / w * 200 / h)


def test_a_copy_of_synthetic_data_stays_marked(coco_samples, tmp_path):
    source = shutil.copytree(coco_samples, tmp_path / "coco")
    upscale(source, tmp_path / "plain", (30, 20), "png")
    assert not (tmp_path / "plain" / SYNTHETIC_MARKER).exists()  # real data stays unmarked
    (source / SYNTHETIC_MARKER).write_text("sample data\n")
    upscale(source, tmp_path / "out", (30, 20), "png")
    assert (tmp_path / "out" / SYNTHETIC_MARKER).read_text() == "sample data\n"


def test_command_line_errors_are_one_line(tmp_path, capsys):
    assert main(["--inputs", str(tmp_path), "--outputs", str(tmp_path / "o"), "--size", "300", "300"]) == 2
    assert "instances_val2017.json" in capsys.readouterr().err
    result = subprocess.run(
        [sys.executable, "-m", "vision.coco.upscale", "-h"], capture_output=True, text=True
    )
    assert result.returncode == 0 and "--size" in result.stdout
