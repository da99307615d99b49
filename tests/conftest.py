"""Fixtures for every test: the helpers in tests/support importable by name, a synthetic benchmark
registered in place of the real ones, and a test session that keeps its per-user state to itself (the
preprocessing cache defaults to a fresh folder of the session's, not ``~/.cache/mlperf-ref``, where an
earlier run may have left entries that a test would then pass on, whatever the environment that started
pytest says)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "support"))  # synthetic_benchmark, ray_support, recorded, ...

from synthetic_benchmark import SyntheticBenchmark  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLPERF_REF_CACHE", str(tmp_path_factory.mktemp("mlperf-ref-cache")))
        patch.delenv("XDG_CACHE_HOME", raising=False)
        yield


@pytest.fixture
def synthetic(monkeypatch: pytest.MonkeyPatch) -> SyntheticBenchmark:
    """The synthetic benchmark under the name 'resnet50' (so the v0.5 conf applies to it)."""
    import common.registry as registry

    bench = SyntheticBenchmark()
    monkeypatch.setattr(registry, "benchmarks", lambda: {"resnet50": bench})
    return bench
