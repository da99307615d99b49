"""``python bench/run.py ray``: runs on Ray replicas (--ray) against one process and the raw engine, and
the null backend through Ray (what the driver and Ray's calls cost).

One Ray instance serves every run (started here, with the machine's CPUs), so each figure pays for its
replicas' start only once. Rows: ResNet50 onnxruntime Offline, N replicas x 1 thread on Ray against raw
onnxruntime at N threads and against one process at N threads, all three taking turns in one command; the
null backend on Ray: Offline samples/s at a large batch and at batches that are views of the replica's
block (the dispatch ceiling), the highest VALID Server QPS at the 15 ms bound, and one batch's round trip
(driver -> replica -> driver) beside a bare actor call.
"""

from __future__ import annotations

import dataclasses
import statistics
import time

from bench import goals
from bench.engine import OFFLINE_QUERY_MARGIN, EngineCase, command, raw_throughput, ready_feeds, run_config
from bench.null import search_peak
from bench.options import RayBenchOptions
from bench.rows import Row, absolute, compared, judge
from bench.workspace import Workspace, write_user_conf
from common.runner import RunConfig, Session, open_session
from scaleout.options import RayOptions

RAY_VS_RAW = ">= 0.95"  # ResNet50 Offline on replicas / raw onnxruntime at the same cores
GROUP = "ray"
SERVER_QUERIES = 1024
VIEW_BATCH = 20  # the sample set's images: Offline batches of all of them are views of the loaded block


def ray_session(cfg: RunConfig, replicas: int) -> Session:
    return open_session(dataclasses.replace(cfg, ray=RayOptions(replicas=replicas, restarts=0)))


def offline_rate(session: Session, target_qps: float, batch: int | None = None) -> tuple[float, bool]:
    """One Offline performance run sized for ``target_qps``: LoadGen's samples/s and validity."""
    changes = {"target_qps": target_qps} | ({"max_batchsize": batch} if batch else {})
    phase = session.run_phase("performance", session.phase_options(**changes))
    return float(phase.loadgen.metric_value or 0.0), bool(phase.loadgen.valid)


def resnet50_rows(opts: RayBenchOptions, ws: Workspace) -> list[Row]:
    """Replicas x 1 thread on Ray against raw onnxruntime and one process, both at ``replicas`` threads.

    Raw windows, one-process runs and Ray runs take turns (raw, one process, raw, Ray, raw, ...), and each
    run is divided by the mean of the raw windows either side of it, so that other work coming and going on
    the machine falls on both sides of every ratio; the rows show the medians.
    """
    case = EngineCase("resnet50", "onnxruntime")
    conf = write_user_conf(ws.runs / "ray-offline.conf",
                           {"Offline": {"min_duration": int(opts.seconds * 1000), "min_query_count": 1}})
    local = open_session(run_config(case, ws, "Offline", opts.batch, opts.replicas, conf))
    feeds = ready_feeds(local, opts.batch)
    remote_cfg = dataclasses.replace(run_config(case, ws, "Offline", opts.batch, 1, conf),
                                     output=ws.runs / "ray-resnet50-offline")
    remote = ray_session(remote_cfg, opts.replicas)
    raws = [raw_throughput(local.backend, feeds, opts.seconds)]
    runs: dict[str, list[float]] = {"one": [], "ray": []}
    ratios: dict[str, list[float]] = {"one": [], "ray": []}
    try:
        for _ in range(opts.repeats):
            for kind, session in (("one", local), ("ray", remote)):
                rate, _ = offline_rate(session, OFFLINE_QUERY_MARGIN * raws[-1])
                raws.append(raw_throughput(local.backend, feeds, opts.seconds))
                runs[kind].append(rate)
                ratios[kind].append(rate / statistics.mean(raws[-2:]))
        cluster = remote.cluster.describe().to_dict()
    finally:
        remote.close()
    raw, one, ray_rate = statistics.median(raws), statistics.median(runs["one"]), statistics.median(runs["ray"])
    details = {"raw_runs": raws, "one_process_runs": runs["one"], "ray_runs": runs["ray"], "ratios": ratios,
               "cluster": cluster}
    ray_command = command(remote.cfg) + f" --ray --replicas {opts.replicas}"
    name = f"resnet50 onnxruntime Offline b{opts.batch}"
    rows = [
        compared(GROUP, f"{name}: 1 process x {opts.replicas} threads vs raw onnxruntime at {opts.replicas} threads",
                 one, raw, "samples/s", "raw predict", goals.OFFLINE_VS_ENGINE, command=command(local.cfg),
                 details=details),
        compared(GROUP, f"{name}: {opts.replicas} replicas x 1 thread on Ray vs raw onnxruntime at {opts.replicas} "
                 "threads", ray_rate, raw, "samples/s", "raw predict", RAY_VS_RAW, command=ray_command),
        compared(GROUP, f"{name}: {opts.replicas} replicas x 1 thread on Ray vs 1 process x {opts.replicas} threads",
                 ray_rate, one, "samples/s", "the one-process runs", "", command=ray_command),
    ]
    for row, kind in zip(rows[:2], ("one", "ray"), strict=True):  # medians of the per-run ratios
        row.ratio = statistics.median(ratios[kind])
        row.met = judge(row.ratio, row.goal)
    rows[2].ratio = statistics.median(r / o for r, o in zip(ratios["ray"], ratios["one"], strict=True))
    return rows


def null_rows(opts: RayBenchOptions, ws: Workspace) -> list[Row]:
    """The null backend on Ray: Offline at a large batch, the Server peak at 15 ms, a batch's round trip."""
    conf = write_user_conf(ws.runs / "ray-null.conf", {
        "Offline": {"min_duration": int(opts.seconds * 1000), "min_query_count": 1},
        # LoadGen's early stopping at p99 needs ~660 queries even when none is late: 1,024 at the lowest rates
        "Server": {"min_duration": int(opts.server_seconds * 1000), "min_query_count": SERVER_QUERIES},
    })
    case = EngineCase("resnet50", "null")
    base = dataclasses.replace(run_config(case, ws, "Offline", opts.null_batch, 1, conf), model=None,
                               output=ws.runs / "ray-null-offline")
    rows: list[Row] = []
    session = ray_session(base, opts.replicas)
    try:
        for batch in dict.fromkeys((opts.null_batch, VIEW_BATCH)):
            probe, _ = offline_rate(session, 20000.0, batch)
            rate, valid = offline_rate(session, OFFLINE_QUERY_MARGIN * probe, batch)
            how = ("each batch a view of the replica's block: the dispatch ceiling" if batch == VIEW_BATCH else
                   f"each batch spans passes over the {VIEW_BATCH} loaded samples: the replica gathers it, "
                   f"{batch} x 602 KB")
            state = "VALID" if valid else "INVALID"
            rows.append(absolute(GROUP, f"null Offline b{batch} on Ray, {opts.replicas} replicas (ResNet50 "
                                 "samples)", rate, "samples/s", note=f"{how}; LoadGen {state}",
                                 command=command(dataclasses.replace(session.cfg, max_batchsize=batch))
                                 + f" --ray --replicas {opts.replicas}"))
        trip, bare = round_trips(session, opts.round_trips)
        rows.append(absolute(GROUP, "one batch of 1 sample, driver -> replica -> driver (null)", trip, "ms",
                             note=f"median of {opts.round_trips}; a bare actor call: {bare:.3f} ms"))
    finally:
        session.close()
    server = dataclasses.replace(base, scenario="Server", output=ws.runs / "ray-null-server",
                                 max_batchsize=opts.null_batch)
    session = ray_session(server, opts.replicas)
    tried: list[list[float]] = []
    try:
        def valid(qps: float) -> bool:
            phase = session.run_phase("performance", session.phase_options(target_qps=qps))
            p99 = phase.loadgen.latency_ms.get("p99")
            tried.append([qps, bool(phase.loadgen.valid), p99])
            return bool(phase.loadgen.valid)

        peak = search_peak(valid, opts.server_start_qps, opts.server_max_qps, steps=2)
    finally:
        session.close()
    rows.append(absolute(GROUP, f"null Server peak VALID QPS at 15 ms on Ray, {opts.replicas} replicas, "
                         f"b{opts.null_batch} dynamic", peak, "QPS",
                         command=command(session.cfg) + f" --ray --replicas {opts.replicas}",
                         details={"tried": tried}))
    return rows


def round_trips(session: Session, count: int) -> tuple[float, float]:
    """Median ms of one 1-sample batch through the pool, and of a bare actor call (an empty unload)."""
    pool = session.cluster.pool
    pool.open_phase("performance")
    pool.load([0])
    replica = pool.live[0].actor

    def timed(call) -> float:
        found = []
        for _ in range(count):
            started = time.perf_counter()
            call()
            found.append((time.perf_counter() - started) * 1e3)
        return statistics.median(found)

    import ray

    trip = timed(lambda: pool.run([0]))
    bare = timed(lambda: ray.get(replica.unload.remote([])))
    pool.unload([0])
    return trip, bare


def collect(opts: RayBenchOptions) -> list[Row]:
    import os

    import ray

    ws = Workspace(opts.work_dir)
    ray.init(num_cpus=os.cpu_count() or 1, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    try:
        return resnet50_rows(opts, ws) + null_rows(opts, ws)
    finally:
        ray.shutdown()

