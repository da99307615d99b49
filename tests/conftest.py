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


CHECKOUT = Path(__file__).resolve().parents[1]
TOOL_CACHES = {".pytest_cache", ".ruff_cache", "__pycache__"}


def _written_in_checkout() -> set[str]:
    """The checkout's top-level names and everything below output/ (where the commands write by default)."""
    names = {p.name for p in CHECKOUT.iterdir() if p.name not in TOOL_CACHES and not p.name.endswith(".egg-info")}
    output = CHECKOUT / "output"
    return names | ({str(p.relative_to(CHECKOUT)) for p in output.rglob("*")} if output.is_dir() else set())


@pytest.fixture(autouse=True)
def leaves_the_checkout_alone() -> Iterator[None]:
    """A test writes below its own temporary folder only: a file it leaves in the checkout (a default
    output/ folder, say) is one that a later run could lean on."""
    before = _written_in_checkout()
    yield
    new = sorted(_written_in_checkout() - before)
    assert not new, f"the test wrote into the checkout: {new}; give it a folder below tmp_path"
