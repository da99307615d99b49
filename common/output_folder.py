"""The run's output folder: checked before anything heavy starts, and held by one run at a time."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from common.disk_space import LOG_FLOOR_BYTES, check_free, full_disk_is_one_line
from common.errors import UsageError
from common.paths import writable_folder

LOCK_NAME = ".mlperf-ref.lock"


def check_writable(output: Path, option: str = "--output") -> None:
    """The folder exists or can be made, and a file can be written in it (one clear line if not)."""
    writable_folder(output, option)


@contextlib.contextmanager
def held(output: Path, option: str = "--output") -> Iterator[None]:
    """Hold the folder for this run; a second run into it is refused with the holder's PID. A disk that
    fills while it is held (logs, results, the cache) ends the run in one line naming where."""
    check_writable(output, option)
    check_free(output, LOG_FLOOR_BYTES, "a run's logs and results", option)  # each phase checks its own size
    path = output / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise UsageError(f"{option} {output}: another run (PID {holder}) is writing there; wait for it "
                             f"or choose another folder") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        with full_disk_is_one_line(output):
            yield
    finally:
        os.close(fd)  # closing releases the lock
