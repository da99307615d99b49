"""The shipped val_map.txt and the reader's errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from common.errors import UsageError
from vision.imagenet.val_map import SHIPPED_VAL_MAP, read_val_map


def test_shipped_val_map_has_50000_images_in_file_order() -> None:
    val_map = read_val_map(SHIPPED_VAL_MAP)
    assert len(val_map) == 50_000
    assert val_map.labels[:10].tolist() == [65, 970, 230, 809, 516, 57, 334, 415, 674, 332]
    assert val_map.names[0] == "ILSVRC2012_val_00000001.JPEG"
    assert val_map.names[-1] == "ILSVRC2012_val_00050000.JPEG"
    assert list(val_map.names) == [f"ILSVRC2012_val_{i:08d}.JPEG" for i in range(1, 50_001)]


def test_shipped_val_map_has_50_images_per_class() -> None:
    counts = np.bincount(read_val_map(SHIPPED_VAL_MAP).labels, minlength=1000)
    assert len(counts) == 1000 and counts.min() == counts.max() == 50


def test_missing_val_map_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"no val_map.txt there .*download_dataset.sh"):
        read_val_map(tmp_path)


@pytest.mark.parametrize("line", ["a.JPEG", "a.JPEG x", "a.JPEG 1000", "a.JPEG -1"])
def test_malformed_line_names_file_and_line(tmp_path: Path, line: str) -> None:
    (tmp_path / "val_map.txt").write_text(f"ok.JPEG 3\n{line}\n")
    with pytest.raises(UsageError, match=r"val_map.txt:2: expected '<image path> <label 0..999>'"):
        read_val_map(tmp_path)
