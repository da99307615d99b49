"""The registry: names from the entry points alone; a benchmark registered before its folder exists is skipped."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

import common.registry as registry
from common.errors import UsageError


@pytest.fixture
def entries(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[EntryPoint]]:
    """Entry points the test chooses, in place of the installed ones (the caches cleared around it)."""
    chosen: list[EntryPoint] = []
    monkeypatch.setattr(registry, "entry_points", lambda group: [e for e in chosen if e.group == group])
    registry._entries.cache_clear()
    registry.benchmarks.cache_clear()
    yield chosen
    registry._entries.cache_clear()
    registry.benchmarks.cache_clear()


def _entry(name: str, value: str) -> EntryPoint:
    return EntryPoint(name, value, registry.GROUP)


def test_names_come_sorted_and_skip_a_folder_not_written_yet(entries: list[EntryPoint]) -> None:
    entries += [_entry("zeta", "vision.resnet50.benchmark:ResNet50Benchmark"),
                _entry("later", "vision.not_written_yet.benchmark:Later"),
                _entry("elsewhere", "not_written_yet_pkg.benchmark:Later"),
                _entry("alpha", "translation.gnmt.benchmark:GNMTBenchmark")]
    assert registry.benchmark_names() == ["alpha", "zeta"]


def test_a_benchmark_missing_a_dependency_fails_loudly(entries: list[EntryPoint], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder that exists but cannot import is an error, not a benchmark silently left out."""
    (tmp_path / "half_installed_bench.py").write_text("import no_such_dependency_for_the_test\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    entries.append(_entry("half", "half_installed_bench:Bench"))
    assert registry.benchmark_names() == ["half"]
    with pytest.raises(ModuleNotFoundError, match="no_such_dependency_for_the_test"):
        registry.benchmarks()


def test_an_unknown_name_lists_the_known_ones(entries: list[EntryPoint], tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tiny_bench.py").write_text("class Bench:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    entries += [_entry("tiny", "tiny_bench:Bench"), _entry("later", "vision.not_written_yet.benchmark:Later")]
    assert type(registry.get_benchmark("tiny")).__name__ == "Bench"
    with pytest.raises(UsageError, match=r"^unknown benchmark 'nope'; choose one of tiny$"):
        registry.get_benchmark("nope")


def test_the_runner_finds_the_ray_scale_out_through_its_entry_point() -> None:
    """common/ never imports scaleout/: the installed entry point names its RayCluster."""
    from scaleout.cluster import RayCluster

    assert registry.remote_engines("ray") is RayCluster


def test_a_missing_scale_out_is_one_line(entries: list[EntryPoint]) -> None:
    entries.append(EntryPoint("ray", "not_written_yet_pkg.cluster:RayCluster", registry.REMOTE_GROUP))
    with pytest.raises(UsageError, match=r"^--ray: the scale-out package \(scaleout/\) is not installed; "
                                         r"reinstall the checkout with pip install -e \.$"):
        registry.remote_engines("ray")
