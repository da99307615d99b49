"""``python -c`` scripts that run mlperf-ref's main() on the synthetic benchmark (registered as 'resnet50')
with a backend of the test's own, for tests that need a process of their own (signals, os._exit, mounts)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).parent


def cli_script(backend: str, argv: Sequence[str], setup: str = "") -> str:
    """A script defining ``class Backend(NullBackend)`` from ``backend`` (its body, 4-space indented), used
    in place of every backend; ``setup`` runs first; then main(argv). Only light modules load before main():
    the runner and LoadGen load inside it, as with mlperf-ref. It prints "ready" just before main()."""
    body = textwrap.indent(textwrap.dedent(backend).strip("\n") or "pass", "    ")
    return "\n".join([
        "import sys, time",
        f"sys.path.insert(0, {str(HERE)!r})",
        "import common.backends as backends, common.registry as registry",
        "from synthetic_benchmark import SyntheticBenchmark",
        "from common.backends.null_backend import NullBackend",
        'registry.benchmarks = lambda: {"resnet50": SyntheticBenchmark()}',
        textwrap.dedent(setup).strip("\n"),
        "class Backend(NullBackend):",
        body,
        "backends.make_backend = lambda *a, **k: Backend(1)  # before the session imports it",
        "from tools.cli import main",
        'print("ready", flush=True)',
        f"sys.exit(main({list(argv)!r}))",
    ]) + "\n"
