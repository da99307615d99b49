"""Atomic writes: nothing half-written, and the mode a plain open() would give."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from common import atomic
from common.atomic import atomic_open, atomic_write_text

ROOT = Path(__file__).resolve().parents[2]


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


def _current_umask() -> int:
    mask = os.umask(0)  # safe here: the test runs no other thread that creates files
    os.umask(mask)
    return mask


def test_writes_never_change_the_process_umask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Setting the umask, even for a moment, would give files other threads create then mode 0666."""
    mask = _current_umask()

    def refuse(_mask: int) -> int:
        raise AssertionError("os.umask called during a write")

    monkeypatch.setattr(os, "umask", refuse)
    atomic_write_text(tmp_path / "b.txt", "y")
    with atomic_open(tmp_path / "c.bin", "wb") as handle:
        handle.write(b"z")
    assert (tmp_path / "b.txt").stat().st_mode & 0o777 == 0o666 & ~mask
    assert (tmp_path / "c.bin").stat().st_mode & 0o777 == 0o666 & ~mask


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="Linux reports the umask in /proc")
def test_the_umask_is_read_from_proc_without_setting_it(monkeypatch: pytest.MonkeyPatch) -> None:
    mask = _current_umask()
    monkeypatch.setattr(os, "umask", lambda _mask: pytest.fail("os.umask called"))
    assert atomic._read_umask() == mask


def test_without_proc_the_umask_is_set_and_restored(tmp_path: Path) -> None:
    mask = _current_umask()
    assert atomic._read_umask(tmp_path / "no-such-status") == mask
    assert _current_umask() == mask


def test_a_non_default_umask_gives_the_matching_mode(tmp_path: Path) -> None:
    """A fresh process with umask 027: files come out 0640, as open() would make them."""
    script = textwrap.dedent(f"""
        import os
        from pathlib import Path
        os.umask(0o027)
        from common.atomic import atomic_write_text
        atomic_write_text(Path({str(tmp_path / "d.txt")!r}), "w")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "d.txt").stat().st_mode & 0o777 == 0o640
