"""The processes of a local Ray instance this run started, stopped before the run exits on every path.

``ray.shutdown()`` stops the GCS and the raylet, but the raylet's agents (``ray::DashboardAgent``,
``ray::RuntimeEnvAgent``) outlive it for half a minute when it ends early (Ctrl-C while Ray starts), and
for good when the driver is killed (SIGKILL): Ray ties the GCS and the raylet to the driver's life, not
the agents. So before Ray starts, the driver puts a token of its own in its environment, which every Ray
process it starts inherits: :meth:`LocalProcesses.stop` ends every process carrying it, and a small
watchdog process, started beside, does the same once the driver is gone however it ended, and then also
ends what it saw running below the driver (it looks every half second: a few milliseconds of /proc).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

OWNER_VARIABLE = "MLPERF_REF_RAY_OWNER"  # in the environment of every process of the run's local Ray
GRACE_S = 3.0  # SIGTERM, then SIGKILL for what still runs after this

# The watchdog: watches the driver, its parent, until the driver lets go (it writes STOP to the watchdog's
# stdin and closes it) or is gone (its stdin reads EOF, or the watchdog's parent is no longer the driver:
# another process may hold the pipe), remembering meanwhile every process below the driver (pid and start
# time). Then it ends every process carrying the token, and after a driver's death also every remembered
# one still running (SIGTERM, SIGKILL after the grace period), until none has been seen for a moment (a
# dying raylet may still start an agent), within a bound; after a death it sweeps for at least `least`
# seconds. Standard library only, no site packages: it starts in milliseconds.
_WATCHDOG = """
import os, select, signal, sys, time
token, grace, quiet, bound, least = sys.argv[1].encode(), *map(float, sys.argv[2:6])
signal.signal(signal.SIGINT, signal.SIG_IGN)
driver, me = os.getppid(), os.getpid()
def stat(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
        fields = text[text.rindex(")") + 2:].split()
        return None if fields[0] == "Z" else (int(fields[1]), fields[19])  # parent, start time
    except (OSError, ValueError, IndexError):  # gone, or caught as it went
        return None
def below(root):
    stats = {int(n): stat(n) for n in os.listdir("/proc") if n.isdigit()}
    children = {}
    for pid, found in stats.items():
        if found:
            children.setdefault(found[0], []).append(pid)
    seen, todo = {}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in seen and child != me:
                seen[child] = stats[child][1]
                todo.append(child)
    return seen
remembered, stopped = {}, False
while os.getppid() == driver:
    if select.select([0], [], [], 0.5)[0]:
        data = os.read(0, 64)
        stopped = b"STOP" in data
        if stopped or not data:
            break
        continue
    remembered.update(below(driver))
if stopped:
    remembered, least = {}, 0.0
def targets():
    found = set()
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != me:
            pid = int(name)
            try:
                with open(f"/proc/{name}/environ", "rb") as f:
                    if token in f.read():
                        found.add(pid)
                        continue
            except OSError:
                pass
            if pid in remembered and (stat(pid) or (0, None))[1] == remembered[pid]:
                found.add(pid)
    return found
start = time.monotonic()
seen = start
while (time.monotonic() - seen < quiet or time.monotonic() - start < least) and time.monotonic() - start < bound:
    for pid in targets():
        seen = time.monotonic()
        try:
            os.kill(pid, signal.SIGTERM if seen - start < grace else signal.SIGKILL)
        except OSError:
            pass
    time.sleep(0.05)
"""
QUIET_S = 0.5  # none seen for this long: all are gone
AFTER_DEATH_S = 3.0  # the shortest sweep once the driver died without stopping its Ray
BOUND_S = 15.0  # the watchdog's longest sweep


def carrying(token: str, exclude: int | None = None) -> set[int]:
    """The living processes whose environment holds ``token`` (this one excluded)."""
    found, me, needle = set(), os.getpid(), f"{OWNER_VARIABLE}={token}".encode()
    for environ in Path("/proc").glob("[0-9]*/environ"):
        pid = int(environ.parent.name)
        if pid in (me, exclude):
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            if needle in environ.read_bytes():
                stat = (environ.parent / "stat").read_text()
                if stat[stat.rindex(")") + 2] != "Z":  # a zombie has ended already
                    found.add(pid)
    return found


def descendants(pid: int | None = None) -> set[int]:
    """Every living process below ``pid`` (default: this one), from /proc."""
    root = os.getpid() if pid is None else pid
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = stat.read_text()
            fields = text[text.rindex(")") + 2:].split()
            if fields[0] != "Z":
                children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


class LocalProcesses:
    """Marks the processes a local Ray is about to start, and ends them through the watchdog: when
    :meth:`stop` lets it go, or when this process ends first, however it ends."""

    def __init__(self) -> None:
        self.token = uuid.uuid4().hex
        self.watchdog = subprocess.Popen(  # started before the token is set: it does not carry it
            [sys.executable, "-S", "-c", _WATCHDOG, f"{OWNER_VARIABLE}={self.token}", str(GRACE_S), str(QUIET_S),
             str(BOUND_S), str(AFTER_DEATH_S)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        os.environ[OWNER_VARIABLE] = self.token

    def started(self) -> set[int]:
        return carrying(self.token, exclude=self.watchdog.pid)

    def stop(self) -> None:
        """End every process of the local Ray (through the watchdog, which sweeps until none is left)."""
        if os.environ.get(OWNER_VARIABLE) == self.token:
            del os.environ[OWNER_VARIABLE]
        with contextlib.suppress(OSError):
            self.watchdog.stdin.write(b"STOP")  # an orderly stop: Ray has been shut down
            self.watchdog.stdin.close()  # EOF: the watchdog sweeps, then ends
        try:
            self.watchdog.wait(timeout=BOUND_S + 5)
        except subprocess.TimeoutExpired:
            self.watchdog.kill()
        for pid in self.started():  # the watchdog could not (it should have): end them from here
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
