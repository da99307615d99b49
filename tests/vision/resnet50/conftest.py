"""Made once per test session: the synthetic ImageNet folder and ResNet50 exports with seeded weights."""

from __future__ import annotations

from pathlib import Path

import pytest

from vision.imagenet.samples import write_samples
from vision.resnet50.benchmark import ResNet50Benchmark

SEED = 7


@pytest.fixture(scope="session")
def bench() -> ResNet50Benchmark:
    return ResNet50Benchmark()


@pytest.fixture(scope="session")
def source_model(bench: ResNet50Benchmark):
    """The torch model the exports hold (same seed), in eval mode; tests must not change it."""
    return bench.random_model(SEED)


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_samples(tmp_path_factory.mktemp("resnet50-samples"))


@pytest.fixture(scope="session")
def onnx_file(bench: ResNet50Benchmark, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bench.export_model(tmp_path_factory.mktemp("resnet50-onnx") / "resnet50_v1.onnx", seed=SEED)


@pytest.fixture(scope="session")
def pb_file(bench: ResNet50Benchmark, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bench.export_model(tmp_path_factory.mktemp("resnet50-pb") / "resnet50_v1.pb", seed=SEED)
