"""What ``--ray`` asks for, checked without importing ray (argument errors stay cheap)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from common.errors import UsageError

LOCAL = ""  # --ray without an address: a local Ray instance started for the run and stopped after it


@dataclass(frozen=True)
class RayOptions:
    """The cluster to use and the replicas to start on it."""

    address: str = LOCAL  # "host:port" of a running cluster's head (ray start --head), "auto", or LOCAL
    replicas: int | None = None  # default: as many as the cluster's nodes can place
    cpus_per_replica: float = 1.0
    gpus_per_replica: float | None = None  # default: 1 with --device cuda, else 0
    restarts: int | None = None  # replacements for replicas lost mid-run (default: one per replica)
    connect_timeout_s: float = 5.0

    @property
    def local(self) -> bool:
        return self.address == LOCAL

    def validate(self, device: str) -> None:
        for option, value, least in (("--replicas", self.replicas, 1), ("--cpus-per-replica", self.cpus_per_replica,
                                     None), ("--replica-restarts", self.restarts, 0)):
            if value is None:
                continue
            if not math.isfinite(value):
                raise UsageError(f"{option} {value}: not a finite number; give a number")
            if least is None and value <= 0:
                raise UsageError(f"{option} {value:g}: must be above 0")
            if least is not None and value < least:
                raise UsageError(f"{option} {value}: must be at least {least}")
        if self.gpus_per_replica is not None and not self.gpus_per_replica >= 0:  # NaN too
            raise UsageError(f"--gpus-per-replica {self.gpus_per_replica:g}: must be at least 0")
        if device == "cuda" and self.gpus_per_replica == 0:
            raise UsageError("--device cuda with --gpus-per-replica 0: give each replica a GPU "
                             "(--gpus-per-replica 1, the default with --device cuda)")

    def gpus(self, device: str) -> float:
        """GPUs each replica asks Ray for (Ray sets CUDA_VISIBLE_DEVICES to them in the replica)."""
        if self.gpus_per_replica is not None:
            return self.gpus_per_replica
        return 1.0 if device == "cuda" else 0.0
