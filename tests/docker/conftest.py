"""Sample data and seeded random models made once per session for the run_and_time.sh tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from common.registry import benchmarks
from common.samples import export_random_model

CLI = [sys.executable, "-m", "tools.cli"]


@pytest.fixture(scope="session")
def sample_data(tmp_path_factory) -> dict[str, Path]:
    """``mlperf-ref make-samples``: each benchmark's dataset folder, by benchmark name."""
    root = tmp_path_factory.mktemp("samples")
    result = subprocess.run([*CLI, "make-samples", "--output", str(root)], capture_output=True, text=True,
                            timeout=300, check=True)
    folders = dict(line.split(": ", 1) for line in result.stdout.splitlines() if ": " in line)
    return {name: Path(folder) for name, folder in folders.items()}


@pytest.fixture(scope="session")
def model_dirs(tmp_path_factory) -> dict[str, Path]:
    """A MODEL_DIR per benchmark holding ``export-model``'s file under the default backend's official name.

    Exported in this process (what ``mlperf-ref export-model`` calls) to spare five interpreter starts.
    """
    root = tmp_path_factory.mktemp("models")
    folders = {}
    for name, bench in benchmarks().items():
        info = bench.info
        model = root / name / info.model_files[info.default_backend]
        model.parent.mkdir(parents=True, exist_ok=True)
        export_random_model(bench, model)
        folders[name] = root / name
    return folders
