"""Made once per test session: the synthetic ImageNet folder and MobileNet exports with seeded weights."""

from __future__ import annotations

from pathlib import Path

import pytest

from vision.imagenet.samples import write_samples
from vision.mobilenet.benchmark import MobileNetBenchmark

SEED = 7


@pytest.fixture(scope="session")
def bench() -> MobileNetBenchmark:
    return MobileNetBenchmark()


@pytest.fixture(scope="session")
def source_model(bench: MobileNetBenchmark):
    """The torch model the exports hold (same seed), in eval mode; tests must not change it."""
    return bench.random_model(SEED)


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_samples(tmp_path_factory.mktemp("mobilenet-samples"))


@pytest.fixture(scope="session")
def onnx_file(bench: MobileNetBenchmark, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bench.export_model(tmp_path_factory.mktemp("mobilenet-onnx") / "mobilenet_v1_1.0_224.onnx", seed=SEED)


@pytest.fixture(scope="session")
def pb_file(bench: MobileNetBenchmark, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bench.export_model(tmp_path_factory.mktemp("mobilenet-pb") / "mobilenet_v1_1.0_224_frozen.pb", seed=SEED)
