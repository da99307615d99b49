"""Checks of paths the user gives, light enough for the argument parser (no numpy, no engine): the
command line refuses a bad one while parsing, in well under a second, and the runner the same way.

This is the error boundary for the user's paths: every command checks the folders and files it will write
(its output, the preprocessing cache) and reads before any heavy work, and an OSError met later on one of
them becomes one line naming the path and the fix. Before the work, :func:`writable_folder` and
:func:`writable_file` refuse with a UsageError (exit 2) a path below a file, a folder where a file is
wanted, a read-only file system, a folder the user may not write, and too little free space. During the
work, :func:`os_error_line` is the one line the command line prints for an OSError of these kinds (exit 1;
the writes are atomic, so nothing half-written is left).
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from common.disk_space import check_free
from common.errors import UsageError


def dataset_folder(path: str | Path) -> Path:
    """``--dataset-path``: an existing folder, or a UsageError saying where the data comes from."""
    if not Path(path).is_dir():
        raise UsageError(f"--dataset-path {path}: no such folder (see 'mlperf-ref make-samples' or the "
                         "benchmark's download_dataset.sh)")
    return Path(path)

# what each errno asks the user to do
_FIXES = {
    errno.EROFS: "the file system is read-only; choose a folder on a writable disk",
    errno.EACCES: "permission denied; choose a folder you may write to",
    errno.EPERM: "not permitted; choose a folder you may write to",
    errno.ENOSPC: "the disk is full; free some space there or choose another folder",
    errno.EDQUOT: "the disk quota is used up; free some space there or choose another folder",
    errno.ENOTDIR: "a file is in the way where a folder is needed; remove it or choose another path",
    errno.EEXIST: "a file is in the way where a folder is needed; remove it or choose another path",
    errno.EISDIR: "a folder is there where a file is needed; name a file",
    errno.ENAMETOOLONG: "the name is too long; choose a shorter path",
}
USER_ERRNOS = frozenset(_FIXES)


def _fix(exc: OSError) -> str:
    return _FIXES.get(exc.errno or 0, exc.strerror or str(exc))


def os_error_line(exc: OSError, during: str = "") -> str | None:
    """The one line for an OSError of the user's paths met mid-run (None: not one of those kinds)."""
    if exc.errno not in USER_ERRNOS:
        return None
    where = exc.filename if exc.filename else "a write"
    when = f" {during}" if during else ""
    return f"{where}: {exc.strerror or os.strerror(exc.errno)}{when}: {_fix(exc)} (nothing half-written was left)"


def _file_in_the_way(path: Path) -> Path | None:
    """The nearest existing path at or above ``path`` that is not a folder (None: all folders or missing)."""
    for parent in [path, *path.parents]:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


def writable_folder(path: Path, option: str, needed: int = 0, what: str = "", shown: Path | None = None) -> None:
    """``path`` is a folder, or can be made one, that a file can be written in, with ``needed`` bytes free
    (one clear line naming ``option`` with ``shown``, default ``path``, and the fix if not). Makes the folder
    (and those above it)."""
    path = Path(path)
    shown = path if shown is None else shown
    blocker = _file_in_the_way(path)
    if blocker is not None:
        raise UsageError(f"{option} {shown}: {blocker} is a file; give a folder (or remove the file)")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise UsageError(f"{option} {shown}: cannot write there ({exc.strerror or exc}): {_fix(exc)}") from exc
    if needed:
        check_free(path, needed, what, option, shown)


def writable_file(path: Path, option: str, needed: int = 0, what: str = "") -> None:
    """``path`` names a file that can be written (atomically, beside it): no folder there, its folder
    writable with ``needed`` bytes free."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{option} {path}: a folder is there; name the file to write")
    writable_folder(path.parent, option, needed, what, shown=path)
