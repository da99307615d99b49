"""Synthetic COCO data and seeded random-weight SSD-MobileNet files, made once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from vision.ssd_mobilenet.benchmark import SSDMobileNetBenchmark


@pytest.fixture(scope="session")
def mobilenet_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ssd-mobilenet")
    bench = SSDMobileNetBenchmark()
    files = {"data": bench.make_samples(root / "samples"), "cache": root / "cache"}
    for suffix in (".onnx", ".pb", ".pt"):
        files[suffix] = bench.export_model(root / f"ssd_mobilenet{suffix}", seed=0)
    return files
