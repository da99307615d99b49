"""The Ray watchdog (scaleout/reaper.py) without Ray: after a kill -9 of the driver it ends what ran below
the driver, token or not, even when another process still holds the driver's end of its pipe; after an
orderly stop it ends only the processes carrying the token."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# A stand-in driver: starts the watchdog, then two sleepers (one with the token, one with it removed from its
# environment), and a fork of itself that holds every descriptor the driver has (the watchdog's pipe too);
# prints their pids, then waits to be killed, or stops in order when told to.
DRIVER = """
import os, subprocess, sys, time
from scaleout.reaper import OWNER_VARIABLE, LocalProcesses
local = LocalProcesses()
sleep = [sys.executable, "-c", "import time; time.sleep(120)"]
carrying = subprocess.Popen(sleep)
without = subprocess.Popen(sleep, env={k: v for k, v in os.environ.items() if k != OWNER_VARIABLE})
holder = os.fork()
if holder == 0:
    time.sleep(120)
    os._exit(0)
print(carrying.pid, without.pid, holder, flush=True)
if sys.argv[1] == "stop":
    time.sleep(1.5)
    local.stop()
    print("stopped", flush=True)
time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _driver(how: str) -> tuple[subprocess.Popen, list[int]]:
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, how], cwd=REPO, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "MLPERF_REF_TEST_TAG": uuid.uuid4().hex})
    pids = [int(p) for p in driver.stdout.readline().split()]
    assert len(pids) == 3 and all(map(_alive, pids))
    return driver, pids


def _end(pids: list[int]) -> None:
    for pid in pids:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_a_killed_driver_leaves_nothing_it_started() -> None:
    driver, pids = _driver("kill")
    try:
        time.sleep(1.5)  # the watchdog has looked below the driver
        driver.kill()
        driver.wait()
        deadline = time.monotonic() + 20
        while any(map(_alive, pids)) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [pid for pid in pids if _alive(pid)]
    finally:
        _end(pids)
    assert left == []  # the fork held the pipe: the watchdog saw its parent go, not an EOF


def test_an_orderly_stop_ends_only_the_token_carriers() -> None:
    driver, pids = _driver("stop")
    carrying, without, holder = pids
    try:
        assert driver.stdout.readline().strip() == "stopped"
        assert not _alive(carrying)
        assert _alive(without) and _alive(holder)  # not Ray's: the stop leaves them to their owner
    finally:
        driver.kill()
        driver.wait()
        _end(pids)
