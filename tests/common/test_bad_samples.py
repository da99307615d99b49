"""A sample that cannot be read ends the run with one line naming the file, not a backend failure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from common.errors import RunError
from common.runner import RunConfig, run_benchmark
from common.samples import make_all_samples

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def broken_imagenet(tmp_path: Path) -> Path:
    """The ImageNet sample set with its fifth image replaced by text (the first one still reads; an empty
    image is refused earlier, when the dataset opens: tests/common/test_cache_invalidation.py)."""
    folder = make_all_samples(tmp_path / "samples", ["resnet50"])["resnet50"]
    fifth = (folder / "val_map.txt").read_text().splitlines()[4].split()[0]
    (folder / fifth).write_text("not an image\n")
    return folder


def test_the_command_line_names_the_file(broken_imagenet: Path, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "tools.cli", "run", "resnet50", "--backend", "null",
                           "--scenario", "Offline", "--quick", "--dataset-path", str(broken_imagenet),
                           "--output", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache")],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 1
    line = done.stderr.strip().splitlines()[-1]
    assert line == (f"error: loading samples failed: BadImage: {broken_imagenet}/synthetic_val_00000005.JPEG: "
                    "does not decode as an image; run verify_dataset.sh, and download_dataset.sh again to restore it")
    assert not (tmp_path / "out" / "results.json").exists()


def test_the_library_raises_a_run_error_with_the_cause(broken_imagenet: Path, tmp_path: Path) -> None:
    with pytest.raises(RunError, match=r"loading samples: BadImage: .*synthetic_val_00000005.JPEG: does not decode"):
        run_benchmark(RunConfig("resnet50", "null", "Offline", dataset_path=broken_imagenet, quick=True,
                                output=tmp_path / "out", cache_dir=tmp_path / "cache", progress=False))
