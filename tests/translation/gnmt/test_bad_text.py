"""GNMT text that is not UTF-8 is found when the dataset is opened, before LoadGen starts: one error line
naming the file and the line, and what to do."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from common.errors import UsageError
from translation.gnmt.dataset import ACCURACY_SOURCE, PERFORMANCE_SOURCE, REFERENCE, WMTDataset, read_lines
from translation.gnmt.text import check_file, line_chunks, main

ROOT = Path(__file__).resolve().parents[3]
ADVICE = "run verify_dataset.sh, and download_dataset.sh again to restore it"


def spoil(path: Path, line: int, data: bytes = b"broken \xc3( text .\n") -> None:
    """Replace line ``line`` (1-based) of ``path`` with ``data`` (here an invalid two-byte sequence)."""
    lines = path.read_bytes().splitlines(keepends=True)
    lines[line - 1] = data
    path.write_bytes(b"".join(lines))


@pytest.fixture
def folder(wmt16: Path, tmp_path: Path) -> Path:
    return shutil.copytree(wmt16, tmp_path / "wmt16")


def test_the_line_is_found_across_chunk_borders(tmp_path: Path) -> None:
    path = tmp_path / "text"
    path.write_bytes("".join(f"zeile {i} äöü\n" for i in range(1, 200)).encode())
    chunks = list(line_chunks(path, chunk_bytes=37))  # many chunks, each ending at a line end
    assert b"".join(chunk for _, _, chunk in chunks) == path.read_bytes()
    assert all(chunk.endswith(b"\n") for _, _, chunk in chunks)
    assert [line for _, line, _ in chunks][:3] == [1, 3, 5]  # 18-19 bytes a line: two lines per chunk
    check_file(path)
    spoil(path, 123)
    with pytest.raises(UsageError, match=rf"^{path}: line 123 is not UTF-8 text \(byte 0xc3\); {ADVICE}$"):
        check_file(path)
    assert main([str(path)]) == 1


def test_the_accuracy_source_and_the_references_name_the_line(folder: Path) -> None:
    spoil(folder / ACCURACY_SOURCE, 7)
    with pytest.raises(UsageError, match=rf"^{folder / ACCURACY_SOURCE}: line 7 is not UTF-8 text"):
        WMTDataset(folder, "accuracy")
    spoil(folder / REFERENCE, 40)
    with pytest.raises(UsageError, match=rf"^{folder / REFERENCE}: line 40 is not UTF-8 text"):
        read_lines(folder / REFERENCE)


def test_the_performance_source_is_checked_when_opened_not_when_loadgen_asks(folder: Path) -> None:
    large = folder / PERFORMANCE_SOURCE
    spoil(large, 1234)  # no longer an exact repetition of the accuracy set: read line by line
    with pytest.raises(UsageError, match=rf"^{large}: line 1234 is not UTF-8 text \(byte 0xc3\); {ADVICE}$"):
        WMTDataset(folder, "performance")
    spoil(large, 1234, b"repaired line .\n")
    assert len(WMTDataset(folder, "performance")) == 40 * 1300


def test_the_command_line_stops_before_loadgen_with_one_line(folder: Path, tmp_path: Path) -> None:
    spoil(folder / PERFORMANCE_SOURCE, 99)
    out = tmp_path / "out"
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "tools.cli", "run", "gnmt", "--backend", "null", "--scenario",
                           "Offline", "--quick", "--dataset-path", str(folder), "--output", str(out)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 2 and time.monotonic() - started < 60
    assert done.stderr.splitlines() == [
        f"error: {folder / PERFORMANCE_SOURCE}: line 99 is not UTF-8 text (byte 0xc3); {ADVICE}"]
    assert not (out / "results.json").exists() and not list(out.rglob("mlperf_log_*"))
