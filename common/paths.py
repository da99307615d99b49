"""Checks of paths the user gives, light enough for the argument parser (no numpy, no engine): the
command line refuses a bad one while parsing, in well under a second, and the runner the same way."""

from __future__ import annotations

from pathlib import Path

from common.errors import UsageError


def dataset_folder(path: str | Path) -> Path:
    """``--dataset-path``: an existing folder, or a UsageError saying where the data comes from."""
    if not Path(path).is_dir():
        raise UsageError(f"--dataset-path {path}: no such folder (see 'mlperf-ref make-samples' or the "
                         "benchmark's download_dataset.sh)")
    return Path(path)
