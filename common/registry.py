"""Finds the benchmarks through the ``mlperf_ref.benchmarks`` entry points, so common/ imports none."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from common.benchmark import Benchmark
from common.errors import UsageError

GROUP = "mlperf_ref.benchmarks"


@cache
def benchmarks() -> dict[str, Benchmark]:
    """Every registered benchmark whose folder exists, by its mlperf.conf model name."""
    found: dict[str, Benchmark] = {}
    for entry in entry_points(group=GROUP):
        module = entry.value.split(":")[0]
        try:
            cls = entry.load()
        except ModuleNotFoundError as exc:
            if exc.name and module.startswith(exc.name):  # registered, folder not written yet
                continue
            raise
        found[entry.name] = cls()
    return dict(sorted(found.items()))


def get_benchmark(name: str) -> Benchmark:
    """A benchmark by name, or a clear error listing the known names."""
    known = benchmarks()
    if name not in known:
        raise UsageError(f"unknown benchmark '{name}'; choose one of {', '.join(known) or '(none installed)'}")
    return known[name]
