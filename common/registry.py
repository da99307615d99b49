"""Finds the benchmarks through the ``mlperf_ref.benchmarks`` entry points, so common/ imports none; and
the remote engines a run may ask for (``--ray``: scaleout/) through ``mlperf_ref.remote_engines``.

Names come from the entry points alone (no benchmark module imported), so --help and argument errors stay
quick; a benchmark's module, with its torch, OpenCV or onnx imports, loads only when a command needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

from common.errors import UsageError

if TYPE_CHECKING:  # the Benchmark module imports numpy; --help must not
    from common.benchmark import Benchmark

GROUP = "mlperf_ref.benchmarks"
REMOTE_GROUP = "mlperf_ref.remote_engines"


def _module_exists(module: str) -> bool:
    """Whether ``module`` can be found, without executing it (its parent packages' __init__ do run)."""
    try:
        return find_spec(module) is not None
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(f"{exc.name}."):  # a parent package is missing
            return False
        raise


@cache
def _entries() -> dict[str, EntryPoint]:
    """The registered benchmarks whose folder exists (one may be registered before it is written), by name."""
    found = {entry.name: entry for entry in entry_points(group=GROUP) if _module_exists(entry.module)}
    return dict(sorted(found.items()))


def benchmark_names() -> list[str]:
    """The benchmark names, sorted, without importing any benchmark module."""
    return list(_entries())


@cache
def benchmarks() -> dict[str, Benchmark]:
    """Every registered benchmark whose folder exists, by its mlperf.conf model name."""
    return {name: entry.load()() for name, entry in _entries().items()}


def get_benchmark(name: str) -> Benchmark:
    """A benchmark by name, or a clear error listing the known names."""
    known = benchmarks()
    if name not in known:
        raise UsageError(f"unknown benchmark '{name}'; choose one of {', '.join(known) or '(none installed)'}")
    return known[name]


def remote_engines(kind: str) -> Callable[..., Any]:
    """The factory of ``kind``'s remote engines (``ray``: scaleout's RayCluster), or a clear error."""
    for entry in entry_points(group=REMOTE_GROUP):
        if entry.name == kind and _module_exists(entry.module):
            return entry.load()
    raise UsageError(f"--{kind}: the scale-out package (scaleout/) is not installed; "
                     "reinstall the checkout with pip install -e .")
