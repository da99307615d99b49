"""Made once per test session for both ImageNet classifiers: synthetic samples and exports with seeded weights.

Tests that take ``bench`` run once per model; pytest groups them by model, so each model is exported once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from vision.classification.benchmark import ImageNetClassifier
from vision.imagenet.samples import write_samples
from vision.mobilenet.benchmark import MobileNetBenchmark
from vision.resnet50.benchmark import ResNet50Benchmark

SEED = 7
CLASSIFIERS: dict[str, type[ImageNetClassifier]] = {"resnet50": ResNet50Benchmark, "mobilenet": MobileNetBenchmark}


@pytest.fixture(scope="session", params=list(CLASSIFIERS))
def bench(request: pytest.FixtureRequest) -> ImageNetClassifier:
    """Each classifier in turn; ``parametrize("bench", [name], indirect=True)`` picks one."""
    return CLASSIFIERS[request.param]()


@pytest.fixture(scope="session")
def source_model(bench: ImageNetClassifier):
    """The torch model the exports hold (same seed), in eval mode; tests must not change it."""
    return bench.random_model(SEED)


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic ImageNet folder both models read; tests must not change it."""
    return write_samples(tmp_path_factory.mktemp("imagenet-samples"))


def export(bench: ImageNetClassifier, backend: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The model exported under its official file name for ``backend``, alone in a new folder."""
    name = bench.info.model_files[backend]
    return bench.export_model(tmp_path_factory.mktemp(f"{bench.info.name}-{backend}") / name, seed=SEED)


@pytest.fixture(scope="session")
def onnx_file(bench: ImageNetClassifier, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export(bench, "onnxruntime", tmp_path_factory)


@pytest.fixture(scope="session")
def pb_file(bench: ImageNetClassifier, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export(bench, "tensorflow", tmp_path_factory)
