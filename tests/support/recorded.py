"""Runs recorded by ``mlperf-ref`` and kept as test data, with their paths made machine-independent.

The recorded files name every path below the folder they were written in as ``@RUN_ROOT@``; a test reads
them with that root set to a folder of its own (its ``tmp_path``), so nothing recorded points at a path
that happens to exist on the machine that made them.
"""

from __future__ import annotations

import json
from pathlib import Path

from common.results import RunResults

BEFORE = Path(__file__).resolve().parents[1] / "common" / "data" / "results_before"
RUN_ROOT = "@RUN_ROOT@"


def recorded_text(path: Path, root: Path) -> str:
    """The recorded file's text with its run root at ``root``."""
    return path.read_text().replace(RUN_ROOT, str(root))


def recorded_run(name: str, root: Path) -> RunResults:
    """``results_before/<name>.json`` as results whose recorded paths lie below ``root``."""
    return RunResults.from_dict(json.loads(recorded_text(BEFORE / f"{name}.json", root)))
