"""One replica of a distributed run: a Ray actor that opens its own backend and dataset on its node.

It is the single-process harness in another process: ``open_local_session`` loads the model (and checks it as a
local run would), the phase's dataset reads its samples from this node's preprocessing cache, a
SampleStore keeps the ones LoadGen asked to load, and each batch of sample indices becomes payloads by
``compute_payloads``, the code a local run uses. Every error comes back as a ReplicaFailure naming the
node, so the driver can say which machine could not open the model or the dataset.
"""

from __future__ import annotations

import functools
import os
import socket
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from common.errors import UsageError

Result = TypeVar("Result")


class ReplicaFailure(Exception):
    """An error on a replica, its node named in the message; ``usage`` when it was the user's input."""

    def __init__(self, message: str, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage

    def __reduce__(self) -> tuple[Any, ...]:  # pickled back to the driver with its flag
        return (ReplicaFailure, (str(self), self.usage))


def node_facts() -> dict[str, Any]:
    """Where this process runs: Ray node id, host name, IP, process id, assigned resources and GPU ids."""
    import ray

    context = ray.get_runtime_context()
    return {"node_id": context.get_node_id(), "host": socket.gethostname(), "ip": ray.util.get_node_ip_address(),
            "pid": os.getpid(), "resources": context.get_assigned_resources(),
            "gpu_ids": [str(g) for g in ray.get_gpu_ids()]}


def _named(method: Callable[..., Result]) -> Callable[..., Result]:
    """Re-raise any error of ``method`` as a ReplicaFailure that names this replica's node."""

    @functools.wraps(method)
    def wrapper(self: Replica, *args: Any) -> Result:
        try:
            return method(self, *args)
        except ReplicaFailure:
            raise
        except BaseException as exc:  # noqa: BLE001 - sent to the driver with the node's name
            facts = self.facts or {"host": socket.gethostname(), "pid": os.getpid(), "node_id": "?"}
            where = f"replica on node {facts['host']} ({str(facts['node_id'])[:12]}, pid {facts['pid']})"
            raise ReplicaFailure(f"{where}: {type(exc).__name__}: {exc}", isinstance(exc, UsageError)) from None

    return wrapper


class Replica:
    """The actor's class (made a Ray actor by scaleout/pool.py)."""

    def __init__(self, cfg: Any) -> None:  # a RunConfig without ray options: this replica's local run
        self.cfg = cfg
        self.facts: dict[str, Any] | None = None
        self.session: Any = None
        self.store: Any = None

    @_named
    def open(self) -> dict[str, Any]:
        """Load the model; this replica's node facts and engine description."""
        from common.session import open_local_session

        self.facts = node_facts()
        self.session = open_local_session(self.cfg)
        return {**self.facts, "engine": self.session.backend.describe()}

    @_named
    def open_phase(self, purpose: str) -> float:
        """Open the phase's dataset (nothing loaded yet); the seconds of one sample (warmed up once)."""
        from common.qsl import SampleStore

        dataset = self.session.open_dataset(purpose, progress=False)
        self.store = SampleStore(dataset)
        return self.session.warm(dataset)  # this replica's own session: its engine, warmed up once

    @_named
    def load(self, indices: Sequence[int]) -> int:
        """Load the samples LoadGen asked for (from this node's cache); how many are loaded now."""
        self.store.load(indices)
        if self.store.error is not None:
            error, self.store.error = self.store.error, None
            raise error
        return len(self.store.rows)

    @_named
    def unload(self, indices: Sequence[int]) -> int:
        self.store.unload(indices)
        return len(self.store.rows)

    @_named
    def batch_order(self, indices: Sequence[int]) -> list[int] | None:
        """The order a query's samples take before it is cut into batches, as a local run orders them (the
        task's sort key, e.g. GNMT's sentence lengths, needs the samples, which are here)."""
        return self.store.batch_order(indices, self.session.task)

    @_named
    def run(self, indices: Sequence[int]) -> list[bytes]:
        """One batch: its payloads in the order of ``indices``."""
        from common.sut import compute_payloads

        session = self.session
        return compute_payloads(self.store, session.task, session.backend,
                                session.backend.postprocess_for(session.task), indices)
