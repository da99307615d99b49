"""Every test session keeps its per-user state to itself: the preprocessing cache defaults to a fresh
folder of the session's (not ``~/.cache/mlperf-ref``, where an earlier run may have left entries that a
test would then pass on), whatever the environment that started pytest says."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLPERF_REF_CACHE", str(tmp_path_factory.mktemp("mlperf-ref-cache")))
        patch.delenv("XDG_CACHE_HOME", raising=False)
        yield
