"""The processes of a local Ray instance this run started, stopped before the run exits on every path.

``ray.shutdown()`` stops the GCS and the raylet, but the raylet's agents (``ray::DashboardAgent``,
``ray::RuntimeEnvAgent``) outlive it for half a minute when it ends early (Ctrl-C while Ray starts). The
driver therefore becomes a child subreaper (Linux), so those agents, orphaned, stay its descendants, and
:meth:`LocalProcesses.stop` ends every descendant that was not there before Ray started.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import time
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h
GRACE_S = 3.0  # SIGTERM, then SIGKILL for what still runs after this


def _become_subreaper() -> bool:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def descendants(pid: int | None = None) -> set[int]:
    """Every living process below ``pid`` (default: this one), from /proc."""
    root = os.getpid() if pid is None else pid
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = stat.read_text()
            fields = text[text.rindex(")") + 2:].split()
            if fields[0] != "Z":  # a zombie has ended already
                children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


class LocalProcesses:
    """What was running below this process before a local Ray started; :meth:`stop` ends the rest."""

    def __init__(self) -> None:
        self.reaping = _become_subreaper()
        self.before = descendants()

    def started(self) -> set[int]:
        return descendants() - self.before

    def stop(self, grace_s: float = GRACE_S) -> None:
        """SIGTERM the processes started since, SIGKILL those alive after ``grace_s``; reap those that are
        our children (orphans reparented to us among them)."""
        left = self.started()
        ours = set(left)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in left:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + grace_s
            while left and time.monotonic() < deadline:
                _reap(ours)
                time.sleep(0.05)
                left &= descendants()
            if not left:
                break
        _reap(ours)


def _reap(pids: set[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)
