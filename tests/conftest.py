"""Fixtures for every test: the helpers in tests/support importable by name, and a synthetic benchmark
registered in place of the real ones."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "support"))  # synthetic_benchmark, ray_support, ...

from synthetic_benchmark import SyntheticBenchmark  # noqa: E402


@pytest.fixture
def synthetic(monkeypatch: pytest.MonkeyPatch) -> SyntheticBenchmark:
    """The synthetic benchmark under the name 'resnet50' (so the v0.5 conf applies to it)."""
    import common.registry as registry

    bench = SyntheticBenchmark()
    monkeypatch.setattr(registry, "benchmarks", lambda: {"resnet50": bench})
    return bench
