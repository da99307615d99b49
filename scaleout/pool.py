"""The replicas of a distributed run and how batches reach them.

Each batch goes to the live replica with the fewest batches in flight (ties: the one that has run the
fewest), and the SUT's threads block on its answer. A replica whose process dies (Ray raises
RayActorError) is marked lost; the batch it held runs again on another replica, so every sample is
answered exactly once, and a replacement actor starts in the background (while the restart budget
lasts), opens the phase's dataset and loads the samples loaded now before it takes batches. With no
replica left and none starting, the batch fails with a line naming what died.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayActorError, RayTaskError

from common.errors import RunError, UsageError
from scaleout.replica import Replica, ReplicaFailure

ReplicaActor = ray.remote(Replica)
OPEN_TIMEOUT_S = 300.0  # placing a replica and loading its model (a large model on a slow disk takes long)
IN_FLIGHT = 2  # batches sent to each replica at once: the next is queued there while one runs


class ReplicasLost(RuntimeError):
    """No replica is left to run a batch."""


@dataclass
class ReplicaHandle:
    """One replica as the driver sees it."""

    index: int
    actor: Any
    facts: dict[str, Any] = field(default_factory=dict)
    alive: bool = True
    in_flight: int = 0
    batches: int = 0  # batches it answered
    samples: int = 0  # samples it answered
    generation: int = 0  # 0: started with the run, n: the n-th replacement in its place

    @property
    def pid(self) -> int | None:
        return self.facts.get("pid")

    def name(self) -> str:
        facts = self.facts
        return (f"replica {self.index} (pid {facts.get('pid')} on node {facts.get('host')} "
                f"{str(facts.get('node_id', '?'))[:12]})")


def opened(handles: Sequence[ReplicaHandle], method: str, *args: Any, timeout: float = OPEN_TIMEOUT_S) -> list[Any]:
    """Call ``method`` on every replica and wait; a replica's error becomes a UsageError or RunError naming its
    node, before LoadGen starts."""
    refs = [getattr(h.actor, method).remote(*args) for h in handles]
    try:
        return ray.get(refs, timeout=timeout)
    except RayTaskError as exc:
        cause = cause_of(exc)
        usage = isinstance(cause, ReplicaFailure) and cause.usage
        raise (UsageError if usage else RunError)(f"Ray {cause}") from None
    except GetTimeoutError:
        raise RunError(f"the Ray replicas did not start within {timeout:.0f} s: the cluster's resources are "
                       "taken by other work (see 'ray status')") from None
    except RayActorError as exc:
        raise RunError(f"a Ray replica died while starting: {str(exc).splitlines()[0]}") from None


def cause_of(exc: RayTaskError) -> BaseException:
    """The replica's own exception (its ReplicaFailure) instead of Ray's wrapper with the remote traceback."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, BaseException) else exc


class ReplicaPool:
    """The live replicas, least-loaded dispatch, and replacements for the lost."""

    def __init__(self, spawn: Callable[[int], Any], count: int, restart_budget: int) -> None:
        self._spawn = spawn  # index -> a new actor (placed by Ray)
        self._cond = threading.Condition()
        self._members = threading.RLock()  # sample loads and replacements joining are never interleaved
        self.replicas = [ReplicaHandle(i, spawn(i)) for i in range(count)]
        try:
            for handle, facts in zip(self.replicas, opened(self.replicas, "open"), strict=True):
                handle.facts = facts
        except BaseException:  # a replica that cannot open: none of them keeps its CPUs and GPUs
            for handle in self.replicas:
                ray.kill(handle.actor, no_restart=True)
            raise
        self.restart_budget = restart_budget
        self.restarts = 0
        self.lost: list[str] = []  # what died, in order
        self._pending = 0  # replacements starting
        self._starting: list[ReplicaHandle] = []  # their handles (stopped by close if still starting)
        self._closed = False
        self.purpose: str | None = None
        self.loaded: dict[int, None] = {}  # the samples loaded now, in load order

    @property
    def live(self) -> list[ReplicaHandle]:
        return [r for r in self.replicas if r.alive]

    def open_phase(self, purpose: str) -> float:
        """Every live replica opens the phase's dataset; the fastest one's seconds per sample."""
        with self._members:
            self.purpose, self.loaded = purpose, {}
            return min(opened(self.live, "open_phase", purpose))

    # -- samples --------------------------------------------------------------------------------------
    def load(self, indices: list[int]) -> None:
        with self._members:
            self.loaded.update(dict.fromkeys(indices))
            self._everywhere("load", indices)

    def unload(self, indices: list[int]) -> None:
        with self._members:
            for index in indices:
                self.loaded.pop(index, None)
            self._everywhere("unload", indices)

    def _everywhere(self, method: str, indices: list[int]) -> None:
        live = self.live
        refs = [getattr(r.actor, method).remote(indices) for r in live]
        for replica, ref in zip(live, refs, strict=True):
            try:
                ray.get(ref)
            except RayActorError as exc:
                self.lose(replica, exc)
            except RayTaskError as exc:
                raise cause_of(exc) from None
        if not self.live and not self._pending:
            raise ReplicasLost(self.lost_line())

    # -- batches --------------------------------------------------------------------------------------
    def batch_order(self, indices: list[int]) -> list[int] | None:
        """A query's batch order as a replica that holds its samples computes it (one round trip)."""
        while True:
            replica = self._acquire()
            try:
                return ray.get(replica.actor.batch_order.remote(indices))
            except RayActorError as exc:
                self.lose(replica, exc)
            except RayTaskError as exc:
                raise cause_of(exc) from None
            finally:
                self._release(replica, answered=0)

    def run(self, indices: list[int]) -> list[bytes]:
        """One batch's payloads from a replica, again on another when the one it went to dies."""
        while True:
            replica = self._acquire()
            try:
                payloads = ray.get(replica.actor.run.remote(indices))
            except RayActorError as exc:
                self._release(replica, answered=0)
                self.lose(replica, exc)
                continue
            except RayTaskError as exc:
                self._release(replica, answered=0)
                raise cause_of(exc) from None
            except BaseException:
                self._release(replica, answered=0)
                raise
            self._release(replica, answered=len(indices))
            return payloads

    def _acquire(self) -> ReplicaHandle:
        with self._cond:
            while True:
                live = self.live
                if live:
                    chosen = min(live, key=lambda r: (r.in_flight, r.batches))
                    chosen.in_flight += 1
                    return chosen
                if not self._pending:
                    raise ReplicasLost(self.lost_line())
                self._cond.wait(0.1)

    def _release(self, replica: ReplicaHandle, answered: int) -> None:
        """A batch back from ``replica`` with ``answered`` samples (0: not answered)."""
        with self._cond:
            replica.in_flight -= 1
            replica.batches += answered > 0
            replica.samples += answered
            self._cond.notify_all()

    # -- losses ---------------------------------------------------------------------------------------
    def lose(self, replica: ReplicaHandle, exc: BaseException) -> None:
        """Mark ``replica`` lost (once) and start a replacement while the budget lasts."""
        with self._cond:
            if not replica.alive:
                return
            replica.alive = False
            self.lost.append(f"{replica.name()}: {type(exc).__name__}")
            replace = self.restarts < self.restart_budget
            if replace:
                self.restarts += 1
                self._pending += 1
        if replace:
            threading.Thread(target=self._replace, args=(replica,), daemon=True, name="ray-replace").start()

    def _replace(self, lost: ReplicaHandle) -> None:
        with self._cond:
            if self._closed:
                self._pending -= 1
                return
            handle = ReplicaHandle(lost.index, self._spawn(lost.index), generation=lost.generation + 1)
            self._starting.append(handle)
        try:
            handle.facts = opened([handle], "open")[0]
            with self._members:
                if self.purpose is not None:
                    opened([handle], "open_phase", self.purpose)
                    if self.loaded:
                        opened([handle], "load", list(self.loaded))
                with self._cond:
                    if self._closed:  # the run ended while it started
                        ray.kill(handle.actor, no_restart=True)
                    else:
                        self.replicas.append(handle)
        except (UsageError, RunError) as exc:
            with self._cond:
                self.lost.append(f"the replacement of replica {lost.index} did not start: {exc}")
        finally:
            with self._cond:
                self._starting.remove(handle)
                self._pending -= 1
                self._cond.notify_all()

    def lost_line(self) -> str:
        return f"every Ray replica was lost ({'; '.join(self.lost) or 'none started'})"

    def close(self) -> None:
        """Stop every replica, those still starting too (their CPUs and GPUs go back to the cluster)."""
        with self._cond:
            self._closed = True
            stopping = self.replicas + self._starting
        for replica in stopping:
            ray.kill(replica.actor, no_restart=True)
