"""Every download/verify script in the benchmark folders has stand-in tests.

A test module claims the scripts it exercises in a ``COVERS`` tuple: the shared ones here in tests/tools/download,
a benchmark's own anywhere below tests/ (its own folder's tests, so a new benchmark edits no file here).
"""

from __future__ import annotations

import ast
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
SCRIPT_NAMES = ("download_dataset.sh", "download_model.sh", "verify_dataset.sh")


def covered_scripts() -> set[str]:
    """The union of the ``COVERS`` tuples of the test modules below tests/."""
    covered: set[str] = set()
    for path in (REPO / "tests").rglob("test_*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "COVERS" for t in node.targets):
                covered.update(ast.literal_eval(node.value))
    return covered


def test_every_download_and_verify_script_is_exercised_by_a_test():
    scripts = {str(p.relative_to(REPO)) for name in SCRIPT_NAMES for p in REPO.glob(f"*/*/{name}")}
    covered = covered_scripts()
    assert scripts, "no download scripts found"
    assert sorted(scripts - covered) == [], "scripts without stand-in tests (no COVERS names them)"
    assert sorted(covered - scripts) == [], "COVERS names scripts that do not exist"
