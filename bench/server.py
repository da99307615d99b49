"""Row 4: Server with dynamic batching against the same harness serving batch 1, at the model's v0.5 bound.

One runner session (one loaded model); for each max batch size the highest target QPS with a VALID
LoadGen run is searched: doubling from a quarter of the engine's batch-1 rate, then bisections.
"""

from __future__ import annotations

import dataclasses

from bench import goals
from bench.engine import EngineCase, command, raw_throughput, ready_feeds, run_config
from bench.null import PEAK_TRIES, search_peak
from bench.rows import Row, compared
from bench.workspace import Workspace, write_user_conf
from common.runner import PhaseOptions, Session, open_session

START_FRACTION = 0.5  # the search starts at this fraction of the raw batch-1 rate (halved twice at most)
HALVINGS = 2
# LoadGen's early stopping calls a Server run at the 99th percentile INVALID below roughly 500 queries
# even when every query met the bound; 1024 leaves room for a few late ones.
MIN_QUERIES = 1024


def peak_qps(
    session: Session, batch: int, timeout_ms: float, start: float
) -> tuple[float | None, list[list]]:
    """The highest VALID Server QPS of the session's model with ``batch`` and ``timeout_ms``."""
    tried: list[list] = []

    def valid(qps: float) -> bool:
        for attempt in range(PEAK_TRIES):
            options = _options(session, batch, timeout_ms, qps, attempt)
            loadgen = session.run_phase("performance", options).loadgen
            tried.append([round(qps, 1), bool(loadgen.valid), loadgen.latency_ms.get("p99")])
            if loadgen.valid:
                return True
        return False

    return search_peak(valid, start, start * 64, steps=3, halvings=HALVINGS), tried


def _options(session: Session, batch: int, timeout_ms: float, qps: float, attempt: int = 0) -> PhaseOptions:
    """One Server run of the search: its batching, target QPS and log folder."""
    output = session.cfg.output / f"b{batch}" / f"{qps:.1f}qps-{attempt + 1}"
    return session.phase_options(max_batchsize=batch, batch_timeout_ms=timeout_ms, target_qps=qps, output=output)


def server_row(
    case: EngineCase,
    ws: Workspace,
    batch: int,
    timeout_ms: float,
    threads: int,
    seconds: float,
    bound_ms: float | None = None,
) -> Row:
    """Peak VALID Server QPS with dynamic batching up to ``batch`` / the same at batch 1.

    ``bound_ms`` replaces the model's v0.5 Server latency bound (None keeps it).
    """
    keys: dict[str, float | int] = {"min_duration": int(seconds * 1000), "min_query_count": MIN_QUERIES}
    if bound_ms is not None:
        keys["target_latency"] = int(bound_ms)
    label = "v05" if bound_ms is None else f"{bound_ms:g}ms"
    conf = write_user_conf(ws.runs / f"server-{label}.conf", {"Server": keys})
    cfg = run_config(case, ws, "Server", 1, threads, conf)
    session = open_session(dataclasses.replace(cfg, output=cfg.output / label))
    rate = raw_throughput(session.backend, ready_feeds(session, 1), 2.0)
    # the most batching can give: how much faster the engine alone runs full batches than single samples
    batched_rate = raw_throughput(session.backend, ready_feeds(session, batch), 2.0)
    start = START_FRACTION * rate
    single, single_tried = peak_qps(session, 1, timeout_ms, start)
    batched, batched_tried = peak_qps(session, batch, timeout_ms, start)
    bound = session.bench.info.server_latency_ms if bound_ms is None else bound_ms
    kind = "v0.5 bound" if bound_ms is None else "RELAXED bound, not v0.5"
    name = (
        f"{case.benchmark} {case.backend} {case.precision} Server peak VALID QPS at {bound:g} ms ({kind}), "
        f"b{batch} (wait {timeout_ms:g} ms) vs b1"
    )
    return compared(
        "4 Server batching",
        name,
        batched,
        single,
        "QPS",
        "same harness at b1",
        goals.SERVER_BATCHING,
        command=command(session.cfg, _options(session, batch, timeout_ms, start))
        + f" --batch-timeout-ms {timeout_ms:g} (target QPS searched)",
        note=f"the engine alone: b{batch} {batched_rate:,.0f} / b1 {rate:,.0f} samples/s = "
        f"{batched_rate / rate:.2f}x, the ceiling for batching",
        details={
            "raw_b1_samples_per_s": rate,
            f"raw_b{batch}_samples_per_s": batched_rate,
            "tried_b1": single_tried,
            f"tried_b{batch}": batched_tried,
            "backend": session.backend.describe(),
        },
    )
