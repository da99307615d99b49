"""Ctrl-C and SIGTERM while LoadGen runs: stop within seconds, never inside LoadGen's own threads.

LoadGen's StartTest blocks in C++; Python runs signal handlers only in the main thread between bytecodes,
and an exception raised inside a LoadGen callback aborts the process. So the test runs on a thread of its
own while the main thread waits in short steps: a first signal makes the SUT answer every further sample
at once (empty), which ends an Offline test quickly; a test that still runs after the grace period (its
schedule needs min_duration: Server, SingleStream, MultiStream) is ended with the process; a second
signal ends the process at once. Either way the phase's log folder gets an INCOMPLETE marker.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

_BEFORE_HARD_EXIT: list[Callable[[], None]] = []  # what must not outlive the process (a local Ray instance)

GRACE_SECONDS = 3.0  # how long a stopped test may take to drain before the process ends
MARKER = "INCOMPLETE"  # written into the log folder of an interrupted phase
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stop:
    """The signal that asked the run to stop (None while none has)."""

    def __init__(self) -> None:
        self.signum: int | None = None


@contextlib.contextmanager
def signals_to(stop: Stop) -> Iterator[bool]:
    """Route SIGINT and SIGTERM to ``stop`` while the block runs (main thread only; yields whether routed)."""
    if threading.current_thread() is not threading.main_thread():
        yield False
        return

    def handler(signum: int, frame: object) -> None:
        if stop.signum is not None:  # the second signal: end now
            hard_exit(128 + signum)
        stop.signum = signum

    previous = {s: signal.signal(s, handler) for s in SIGNALS}
    try:
        yield True
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def mark_incomplete(outdir: Path, why: str) -> None:
    """A marker beside LoadGen's logs: they are not a finished run."""
    with contextlib.suppress(OSError):
        outdir.mkdir(parents=True, exist_ok=True)
        (outdir / MARKER).write_text(f"{why}\nThese logs are not a finished run.\n", encoding="utf-8")


def wait_for(thread: threading.Thread, stop: Stop, on_stop: Callable[[], None],
             give_up: Callable[[int], None]) -> None:
    """Join ``thread`` in short steps; on a signal call ``on_stop`` once, and ``give_up(signum)`` when the
    thread outlives the grace period."""
    deadline = None
    while thread.is_alive():
        thread.join(0.05)
        if stop.signum is not None and deadline is None:
            on_stop()
            deadline = time.monotonic() + GRACE_SECONDS
        if deadline is not None and time.monotonic() > deadline and thread.is_alive():
            give_up(stop.signum)


_ENDING: list[str] = []  # why the process is ending at once (read by what runs before the hard exit)


def ending_reason() -> str:
    """The line :func:`end_process` printed (or 'interrupted' for a second signal)."""
    return _ENDING[-1] if _ENDING else "interrupted"


def end_process(message: str, signum: int) -> None:
    """Print the one line and end the process with 128 + the signal (LoadGen cannot be stopped mid-test)."""
    _ENDING.append(message)
    print(f"error: {message}", file=sys.stderr, flush=True)
    sys.stdout.flush()
    hard_exit(128 + signum)


def before_hard_exit(stop: Callable[[], None]) -> Callable[[], None]:
    """Call ``stop`` before the process ends with :func:`hard_exit` (atexit handlers do not run then, e.g. a
    local Ray instance's shutdown); returns what unregisters it."""
    _BEFORE_HARD_EXIT.append(stop)
    return lambda: _BEFORE_HARD_EXIT.remove(stop) if stop in _BEFORE_HARD_EXIT else None


def hard_exit(code: int) -> None:
    """End the process at once (LoadGen's thread cannot be stopped), after the registered stops."""
    for stop in reversed(_BEFORE_HARD_EXIT):
        with contextlib.suppress(BaseException):
            stop()
    os._exit(code)
