"""The synthetic ImageNet folder, written once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from vision.imagenet.samples import write_samples


@pytest.fixture(scope="session")
def imagenet_samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_samples(tmp_path_factory.mktemp("samples"))
