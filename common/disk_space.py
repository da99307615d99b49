"""Disk space for a run's output: checked before the run and before each LoadGen phase, and a disk that
fills mid-run reported in one line naming where, with no results.json written.

What a phase writes: LoadGen's summary and detail logs (kilobytes to a few MB; no trace file), and in
accuracy mode its accuracy log, one JSON entry per sample with the payload in hex (two characters a byte).
The first check, before anything heavy, asks for the logs' floor; the check before each phase adds the
accuracy log's size from the dataset's sample count and the size of a payload the model just produced.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
from collections.abc import Iterator
from pathlib import Path

from common.errors import RunError, UsageError

LOG_FLOOR_BYTES = 16 << 20  # LoadGen's summary and detail logs, results.json, accuracy.txt, the plot, spare room
ACCURACY_ENTRY_BYTES = 64  # one accuracy log entry besides its hex payload: {"seq_id":..,"qsl_idx":..,"data":".."},
PROBE_BYTES = 64 << 10  # written after a phase to tell a disk that filled up during it
FULL = (errno.ENOSPC, errno.EDQUOT)


def free_bytes(folder: Path) -> int:
    """Bytes an unprivileged process may still write on the filesystem of ``folder`` (or of the nearest
    folder above it that exists)."""
    existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("."))
    stat = os.statvfs(existing)
    return stat.f_bavail * stat.f_frsize


def phase_bytes(samples: int, payload_bytes: int, accuracy: bool) -> int:
    """About what one LoadGen phase writes: the logs' floor, and in accuracy mode its accuracy log."""
    log = samples * (2 * payload_bytes + ACCURACY_ENTRY_BYTES) if accuracy else 0
    return LOG_FLOOR_BYTES + log


def check_free(folder: Path, needed: int, what: str, option: str = "--output", shown: Path | None = None) -> None:
    """Refuse in one line (the folder, or the path ``shown`` there, the free and the needed bytes) when
    ``needed`` bytes do not fit."""
    free = free_bytes(folder)
    if free < needed:
        where = folder if shown is None else shown
        raise UsageError(f"{option} {where}: {_size(free)} free, less than the {_size(needed)} {what} will "
                         "write; free some space there or choose another folder")


def is_disk_full(exc: BaseException) -> bool:
    """ENOSPC or EDQUOT, or numpy's short write (its tofile reports a full disk as 'N requested and M written')."""
    return isinstance(exc, OSError) and (exc.errno in FULL or (
        exc.errno is None and re.fullmatch(r"\d+ requested and \d+ written", str(exc)) is not None))


def disk_full_line(exc: OSError, output: Path | None, during: str) -> str:
    """The one line for a write that found the disk full (the file it was writing, else the folder)."""
    where = exc.filename if exc.filename else f"--output {output}" if output else "a write"
    return (f"{where}: the disk is full ({os.strerror(exc.errno or errno.ENOSPC)}) {during}; the run stopped and "
            f"wrote no results.json, free some space and run again")


@contextlib.contextmanager
def full_disk_is_one_line(output: Path) -> Iterator[None]:
    """Turn a full disk met anywhere in the block (logs, results, accuracy.txt, the cache) into a RunError."""
    try:
        yield
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        raise RunError(disk_full_line(exc, output, "while writing")) from exc


def check_room_left(outdir: Path, phase: str) -> None:
    """After a LoadGen phase: LoadGen drops the log lines it cannot write without a word, so a disk that
    filled during the phase is told by a small write failing now."""
    try:
        with open(outdir / ".mlperf-ref-space-probe", "wb") as probe:
            probe.write(bytes(PROBE_BYTES))
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        free = _size(free_bytes(outdir))
        raise RunError(f"--output {outdir.parent}: the disk filled up during the {phase} phase ({free} free now); "
                       f"LoadGen's logs in {outdir} are incomplete and no results.json was written, free some space "
                       "and run again") from exc
    finally:
        (outdir / ".mlperf-ref-space-probe").unlink(missing_ok=True)


def _size(count: int) -> str:
    """Bytes in plain units, with the exact count: '3.0 MiB (3,145,728 bytes)'."""
    if count < 1024:
        return f"{count} bytes"
    value, units = count / 1024, ["KiB", "MiB", "GiB", "TiB"]
    while value >= 1024 and len(units) > 1:
        value, units = value / 1024, units[1:]
    return f"{value:.1f} {units[0]} ({count:,} bytes)"
