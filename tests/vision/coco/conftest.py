"""Synthetic COCO-layout data made once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from vision.coco.samples import make_coco_samples


@pytest.fixture(scope="session")
def coco_samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_coco_samples(tmp_path_factory.mktemp("coco-data") / "coco")
