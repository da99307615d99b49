"""The official v0.5 ImageNet calibration lists as shipped: 500 validation images each, fixed bytes."""

from __future__ import annotations

import hashlib

import pytest

from tools.calibration.lists import read_names
from vision.imagenet.calibration_lists import CALIBRATION_LISTS

# sha256 of the files as shipped (mlcommons/inference calibration/ImageNet, transcribed from the stored copy)
SHA256 = {
    "option_1": "7662247d1d9407d6cb564268f64c5a4a6cf9f1a34fd2e6cdc3b94dcf278b3dc9",
    "option_2": "11ce810122226ec0ca8c56e47ee356e3c1185f3c6ce8262edb50c3c1d0a9705e",
}


@pytest.mark.parametrize("name", list(CALIBRATION_LISTS))
def test_each_list_names_500_distinct_validation_images(name: str) -> None:
    path = CALIBRATION_LISTS[name]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SHA256[name]
    names = read_names(path)
    assert len(names) == len(set(names)) == 500
    assert all(n.startswith("ILSVRC2012_val_000") and n.endswith(".JPEG") and 1 <= int(n[15:23]) <= 50_000
               for n in names)


def test_option_2_adds_an_index_after_each_name_and_the_lists_differ() -> None:
    lines = CALIBRATION_LISTS["option_2"].read_text().splitlines()
    assert [int(line.split()[1]) for line in lines] == list(range(500))
    assert read_names(CALIBRATION_LISTS["option_1"])[0] == "ILSVRC2012_val_00027145.JPEG"
    assert read_names(CALIBRATION_LISTS["option_2"])[0] == "ILSVRC2012_val_00031333.JPEG"
    shared = set(read_names(CALIBRATION_LISTS["option_1"])) & set(read_names(CALIBRATION_LISTS["option_2"]))
    assert len(shared) < 50  # two different draws (they share a few images by chance)
