"""Row 6: GNMT Offline sentences/s through the harness, batched against batch 1 (one loaded model)."""

from __future__ import annotations

import dataclasses

from bench import goals
from bench.engine import OFFLINE_QUERY_MARGIN, EngineCase, command, raw_throughput, ready_feeds, run_config
from bench.rows import Row, compared
from bench.workspace import Workspace, write_user_conf
from common.runner import open_session

PROBE_SECONDS = 2.0  # raw predict timing that sizes each Offline query
SIZING_TRIES = 3  # runs until the Offline query fills min_duration (then LoadGen calls it VALID)
SAMPLES_IN_MEMORY = 512  # sentences the QSL loads (v0.5 asks for 3,903,900; a measurement needs fewer)


def gnmt_row(ws: Workspace, batch: int, threads: int, seconds: float) -> Row:
    """Offline sentences/s at ``batch`` / at batch 1, same session, LoadGen's own figures."""
    conf = write_user_conf(
        ws.runs / "gnmt-offline.conf",
        {
            "Offline": {
                "min_duration": int(seconds * 1000),
                "min_query_count": 1,
                "performance_sample_count_override": SAMPLES_IN_MEMORY,
            }
        },
    )
    cfg = run_config(EngineCase("gnmt", "pytorch"), ws, "Offline", 1, threads, conf)
    session = open_session(dataclasses.replace(cfg, model=ws.model("gnmt", suffix="")))
    figures = {}
    raw: dict[int, float] = {}
    for size in (1, batch):
        raw[size] = raw_throughput(session.backend, ready_feeds(session, size), PROBE_SECONDS)
        # the expected rate sizes LoadGen's Offline query
        options = session.phase_options(max_batchsize=size, output=cfg.output / f"b{size}",
                                        target_qps=OFFLINE_QUERY_MARGIN * raw[size])
        for _ in range(SIZING_TRIES):  # sentences differ: the raw probe can misjudge the rate
            figures[size] = session.run_phase("performance", options)
            if figures[size].loadgen.valid:
                break
            options = dataclasses.replace(options, target_qps=OFFLINE_QUERY_MARGIN * figures[size].loadgen.metric_value)
    single = figures[1].loadgen.metric_value
    batched = figures[batch].loadgen.metric_value
    return compared(
        "6 GNMT batching",
        f"gnmt pytorch fp32 Offline b{batch} vs b1 (small export: "
        f"{ws.model('gnmt', suffix='').name}, 128 units)",
        batched,
        single,
        "sentences/s",
        "same harness at b1",
        goals.GNMT_BATCHING,
        command=command(session.cfg, options),
        details={
            f"b{size}": {
                "valid": f.loadgen.valid,
                "seconds": f.seconds,
                "raw_predict_per_s": raw[size],
            }
            for size, f in figures.items()
        },
    )
