"""Long-lived threads on which an engine does all its compute.

torch's CPU build runs its intra-op parallelism on GNU OpenMP, which gives every thread that starts a
parallel region a team of its own and keeps that team until the thread ends. Once more OpenMP threads
exist than the machine has cores (say, the team of the thread that loaded the model plus the team of a
SUT worker that runs it), libgomp stops spinning at its barriers and puts threads to sleep instead, so
every parallel region waits for its team to wake. Running load and every predict on the same few threads
keeps one team per thread that computes (figures: bench/PERFORMANCE.md, "torch on its own threads").
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from common.backends.base import Result


class EngineThreads:
    """``count`` threads that run what :meth:`run` is given; calls made on one of them run inline.
    ``prepare`` runs first on each thread (per-thread engine state, such as the floating-point mode)."""

    def __init__(self, count: int, name: str, prepare: Callable[[], None] | None = None) -> None:
        self._own: set[int] = set()
        self._prepare = prepare
        self._pool = ThreadPoolExecutor(count, thread_name_prefix=name, initializer=self._start)

    def _start(self) -> None:
        self._own.add(threading.get_ident())
        if self._prepare is not None:
            self._prepare()

    def run(self, fn: Callable[..., Result], *args: object) -> Result:
        """``fn(*args)`` on an engine thread (its exception is raised here); waits for the result."""
        if threading.get_ident() in self._own:
            return fn(*args)
        return self._pool.submit(fn, *args).result()
