"""Atomic writes: nothing half-written, and the mode a plain open() would give."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from common.atomic import atomic_open, atomic_write_text


def test_a_failed_write_leaves_neither_file_nor_temporary(tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    with pytest.raises(RuntimeError), atomic_open(target) as handle:
        handle.write("half")
        raise RuntimeError("disk on fire")
    assert list(tmp_path.iterdir()) == []


def test_written_files_get_the_usual_mode(tmp_path: Path) -> None:
    atomic_write_text(tmp_path / "a.txt", "x")
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o666 & ~mask
    assert (tmp_path / "a.txt").read_text() == "x"
