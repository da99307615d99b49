"""The Ray cluster of one run: connect (or start a local instance), fit the replicas on its nodes, start
them, and describe it for results.json and the summary."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import socket
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from common.errors import UsageError
from common.interruption import before_hard_exit, hard_exit
from common.results import ClusterResult
from scaleout.options import RayOptions
from scaleout.reaper import LocalProcesses

# ray start --head prints "ray start --address='HOST:PORT'" for the other nodes; the driver uses the same
START_HINT = "start one with 'ray start --head' and give its HOST:PORT (6379 by default)"


def check_reachable(address: str, timeout_s: float) -> None:
    """A clear error within ``timeout_s`` when nothing listens at ``address`` (ray.init would retry for a
    minute); "auto" is left to Ray, which answers at once when no local cluster runs."""
    if address == "auto":
        return
    where = address.removeprefix("ray://")
    host, _, port = where.rpartition(":")
    if not host or not port.isdigit():
        raise UsageError(f"--ray {address}: give HOST:PORT of the cluster's head (or 'auto'); {START_HINT}")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout_s) as connection:
            speaks = os.environ.get("RAY_USE_TLS", "0") in ("1", "true") or _speaks_grpc(connection)
    except OSError as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise UsageError(f"--ray {address}: cannot reach a Ray cluster there within {timeout_s:g} s ({reason}); "
                         f"{START_HINT}") from None
    if not speaks:  # ray.init would wait for a GCS there for minutes
        raise UsageError(f"--ray {address}: something listens there but it is not a Ray cluster's head (no gRPC "
                         f"answer within {timeout_s:g} s); {START_HINT}")
    if os.environ.get("RAY_USE_TLS", "0") not in ("1", "true"):
        refused = _gcs_refusal(where, timeout_s)
        if refused is not None:  # a gRPC server, not Ray's GCS: ray.init would retry it without end
            raise UsageError(f"--ray {address}: a gRPC server listens there but it is not a Ray cluster's head (it "
                             f"answered Ray's cluster-id request with {refused} within {timeout_s:g} s); {START_HINT}")


# HTTP/2's client preface and an empty SETTINGS frame: a gRPC server (Ray's GCS) answers with its SETTINGS
HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
SETTINGS_FRAME = 4


def _speaks_grpc(connection: socket.socket) -> bool:
    """Whether the peer answers HTTP/2's preface with a SETTINGS frame (as the GCS's gRPC server does)."""
    try:
        connection.sendall(HTTP2_PREFACE)
        header = b""
        while len(header) < 9:
            chunk = connection.recv(9 - len(header))
            if not chunk:
                return False
            header += chunk
    except OSError:
        return False
    return header[3] == SETTINGS_FRAME


def _gcs_refusal(where: str, timeout_s: float) -> str | None:
    """Ask the gRPC server at ``where`` for its Ray cluster id, as ray.init does first, with a deadline:
    None when it answers as Ray's GCS (the id, or a refusal for want of Ray's auth token, which ray.init
    sends), else the gRPC status it answered (UNIMPLEMENTED: another service; DEADLINE_EXCEEDED: none)."""
    import grpc
    from ray.core.generated import gcs_service_pb2, gcs_service_pb2_grpc

    with grpc.insecure_channel(where) as channel:
        stub = gcs_service_pb2_grpc.NodeInfoGcsServiceStub(channel)
        try:
            stub.GetClusterId(gcs_service_pb2.GetClusterIdRequest(), timeout=timeout_s)
        except grpc.RpcError as exc:
            if exc.code() in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
                return None
            return exc.code().name
    return None


@dataclass
class Connection:
    address: str
    owned: bool  # started for this run: shut down after it
    processes: LocalProcesses | None = None  # what the local instance started (owned only)


def connect(options: RayOptions) -> Connection:
    """Join the cluster at the options' address, reuse this process's connection, or start a local one."""
    loaded = sys.modules.get("ray")
    if not options.local and not (loaded and loaded.is_initialized()):  # said at once, before ray loads
        check_reachable(options.address, options.connect_timeout_s)
    import ray

    if ray.is_initialized():
        return Connection(ray.get_runtime_context().gcs_address, owned=False)
    quiet = {"logging_level": logging.ERROR, "log_to_driver": False}
    if options.local:
        processes = LocalProcesses()
        try:
            ray.init(address="local", num_cpus=os.cpu_count() or 1, include_dashboard=False, **quiet)
        except BaseException:  # Ctrl-C or a failure while Ray starts: nothing of it may outlive the run
            stop_local(processes)
            raise
        return Connection(ray.get_runtime_context().gcs_address, owned=True, processes=processes)
    try:
        with deadline(JOIN_DEADLINE_S, f"--ray {options.address}: joining the Ray cluster took more than "
                                       f"{JOIN_DEADLINE_S:g} s; {START_HINT}"):
            ray.init(address=options.address, **quiet)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise UsageError(f"--ray {options.address}: cannot join the Ray cluster: {str(exc).splitlines()[0]}; "
                         f"{START_HINT}") from None
    return Connection(options.address, owned=False)


JOIN_DEADLINE_S = 30.0  # ray.init retries an address that answers but never serves; the run does not wait


@contextlib.contextmanager
def deadline(seconds: float, line: str) -> Iterator[None]:
    """End the process with ``line`` and exit code 2 when the block (a call that cannot be interrupted from
    Python, such as ray.init's retries in C++) outlasts ``seconds``."""
    def expire() -> None:
        print(f"error: {line}", file=sys.stderr, flush=True)
        hard_exit(2)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def stop_local(processes: LocalProcesses | None) -> None:
    """Shut a local Ray instance down and end whatever of it still runs (its agents outlive the raylet)."""
    import ray

    with contextlib.suppress(Exception):
        ray.shutdown()
    if processes is not None:
        processes.stop()


def alive_nodes() -> list[dict[str, Any]]:
    import ray

    return [n for n in ray.nodes() if n.get("Alive")]


def fits(resources: dict[str, float], cpus: float, gpus: float) -> int:
    """How many replicas of ``cpus`` and ``gpus`` one node's resources hold."""
    count = int(resources.get("CPU", 0) // cpus)
    if gpus > 0:
        count = min(count, int(resources.get("GPU", 0) // gpus))
    return count


def plan_replicas(options: RayOptions, device: str, nodes: list[dict[str, Any]]) -> int:
    """The replica count: the one asked for, or as many as the nodes hold; an error when they cannot."""
    cpus, gpus = options.cpus_per_replica, options.gpus(device)
    room = sum(fits(n["Resources"], cpus, gpus) for n in nodes)
    totals = {k: sum(n["Resources"].get(k, 0) for n in nodes) for k in ("CPU", "GPU")}
    have = f"the cluster has {len(nodes)} node(s), {totals['CPU']:g} CPUs and {totals['GPU']:g} GPUs in all"
    if gpus > 0 and max((n["Resources"].get("GPU", 0) for n in nodes), default=0) < gpus:
        raise UsageError(f"--gpus-per-replica {gpus:g}: no node has that many GPUs ({have})")
    if room == 0:
        raise UsageError(f"--cpus-per-replica {cpus:g}: no node has that many CPUs ({have})")
    wanted = options.replicas or room
    if wanted > room:
        asked = f"{cpus:g} CPU" + (f" and {gpus:g} GPU" if gpus else "")
        option = "--gpus-per-replica" if gpus and room < int(totals["CPU"] // cpus) else "--replicas"
        raise UsageError(f"{option}: {wanted} replicas of {asked} each do not fit: the nodes hold {room} ({have})")
    return wanted


class RayCluster:
    """The run's connection and replicas; ``close`` stops what the run started."""

    def __init__(self, cfg: Any, options: RayOptions) -> None:
        self.options = options
        self.connection = connect(options)
        self._forget_stop = before_hard_exit(self.close) if self.connection.owned else None
        import ray

        from scaleout.pool import ReplicaActor, ReplicaPool

        try:
            nodes = alive_nodes()
            self.nodes = {n["NodeID"]: {"host": n.get("NodeManagerHostname"), "ip": n.get("NodeManagerAddress")}
                          for n in nodes}
            count = plan_replicas(options, cfg.device, nodes)
            self.cpus, self.gpus = options.cpus_per_replica, options.gpus(cfg.device)
            local = dataclasses.replace(cfg, ray=None, threads=cfg.threads or max(1, int(self.cpus)), workers=1,
                                        progress=False, fail_fast=False)
            placement = ReplicaActor.options(num_cpus=self.cpus, num_gpus=self.gpus, max_restarts=0,
                                             max_task_retries=0, scheduling_strategy="SPREAD")
            budget = options.restarts if options.restarts is not None else count
            self.pool = ReplicaPool(lambda index: placement.remote(local), count, budget)
            self.ray_version = ray.__version__
        except BaseException:
            self.close()
            raise

    # -- what the session knows of the replicas (common.session.RemoteEngines) ---------------------------
    def engine_facts(self) -> dict[str, Any]:
        return self.pool.replicas[0].facts["engine"]

    def open_phase(self, purpose: str) -> float:
        """Every live replica opens the phase's dataset; the fastest one's seconds per sample over them all."""
        seconds = self.pool.open_phase(purpose)
        return seconds / max(1, len(self.pool.live))

    def engines(self, task: Any) -> Any:
        from scaleout.serving import RayEngines

        return RayEngines(self.pool, task)

    def describe(self) -> ClusterResult:
        pool = self.pool
        replicas = []
        for r in pool.replicas:
            node = self.nodes.get(r.facts.get("node_id"), {})
            replicas.append({"replica": r.index, "generation": r.generation, "alive": r.alive,
                             "node_id": r.facts.get("node_id"), "host": r.facts.get("host") or node.get("host"),
                             "ip": r.facts.get("ip") or node.get("ip"), "pid": r.pid,
                             "cpus": r.facts.get("resources", {}).get("CPU", self.cpus),
                             "gpus": r.facts.get("resources", {}).get("GPU", 0.0),
                             "gpu_ids": r.facts.get("gpu_ids", []), "batches": r.batches,
                             "samples": r.samples})
        started = [r for r in pool.replicas if r.generation == 0]
        return ClusterResult(
            ray_version=self.ray_version, address=self.connection.address,
            local=self.connection.owned, nodes=len({r["node_id"] for r in replicas}),
            replicas=len(started), cpus_per_replica=self.cpus, gpus_per_replica=self.gpus,
            restarts=pool.restarts, lost=list(pool.lost), members=replicas,
        )

    def close(self) -> None:

        pool = getattr(self, "pool", None)
        if pool is not None:
            pool.close()
        if self.connection.owned:
            stop_local(self.connection.processes)
        if self._forget_stop is not None:
            self._forget_stop()
