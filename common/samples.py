"""The embedded sample data and random-weight models, marked so no run passes them off as real."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from common.atomic import atomic_write_text
from common.benchmark import Benchmark
from common.registry import benchmarks

SYNTHETIC_MARKER = "SYNTHETIC"  # a file in a dataset folder made by make-samples
RANDOM_WEIGHTS_SUFFIX = ".random-weights"  # a file beside a model made by export-model
# In a sample-data folder: the sample images 'mlperf-ref calibrate' may use (they are none of the official
# calibration lists' images, so a model calibrated on them is marked not valid for submission)
SAMPLE_CALIBRATION_LIST = "calibration_list.txt"
SAMPLE_DATA_BYTES = 8 << 20  # what make-samples writes for the five benchmarks: 5.2 MiB (du -sb), with room


def make_all_samples(output: Path, names: Sequence[str] | None = None) -> dict[str, Path]:
    """The sample data of every benchmark (or of ``names``) below ``output``, each marked SYNTHETIC."""
    folders = {}
    for name, bench in benchmarks().items():
        if names is not None and name not in names:
            continue
        folder = Path(bench.make_samples(Path(output)))
        atomic_write_text(folder / SYNTHETIC_MARKER,
                          "Synthetic sample data made by 'mlperf-ref make-samples': not the real dataset.\n")
        folders[name] = folder
    return folders


def export_random_model(bench: Benchmark, output: Path, seed: int = 0) -> Path:
    """The benchmark's model with seeded random weights, with a marker file beside it."""
    path = Path(bench.export_model(Path(output), seed))
    atomic_write_text(Path(f"{path}{RANDOM_WEIGHTS_SUFFIX}"),
                      f"{path.name}: seeded random weights (seed {seed}) from 'mlperf-ref export-model'.\n")
    return path
