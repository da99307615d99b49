"""Rows 1, 2 and the precision rows: the harness against the raw engine on the same loaded model.

One runner session loads the model once; the raw engine figure is ``backend.predict`` on one ready batch
in a loop, timed before and after the LoadGen run (their mean is the baseline, so drift from other work
on the machine falls on both sides). The harness figure is LoadGen's own result of a run through
``common.runner`` (QSL, SUT, Task.collate, predict, postprocess, responses).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench import goals
from bench.rows import Row, compared, judge
from bench.workspace import Workspace, write_user_conf
from common.backends.base import Backend
from common.results import PhaseResult
from common.runner import PhaseOptions, RunConfig, Session, open_session

WARM_UP_RUNS = 3  # untimed predicts first (oneDNN and OpenVINO build their kernels on first use)
RAW_BATCHES = 3  # the raw engine cycles through this many different batches
OFFLINE_QUERY_MARGIN = 1.5  # Offline query size: this many times the raw rate x min_duration


@dataclass(frozen=True)
class EngineCase:
    benchmark: str  # resnet50 | mobilenet
    backend: str  # onnxruntime | openvino | pytorch | tensorflow
    precision: str = "fp32"
    device: str = "cpu"


Feeds = dict[str, np.ndarray]


def raw_throughput(backend: Backend, batches: Sequence[Feeds], seconds: float) -> float:
    """Samples/s of ``predict`` over ready batches taken in turn, back to back for about ``seconds``
    (the loop runs where the engine computes: torch's own thread, as in the harness)."""
    return backend.run_on_engine(_throughput_loop, backend, batches, seconds)


def _throughput_loop(backend: Backend, batches: Sequence[Feeds], seconds: float) -> float:
    size = len(next(iter(batches[0].values())))
    for k in range(WARM_UP_RUNS):
        backend.predict(batches[k % len(batches)])
    runs, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds or runs < 2:
        backend.predict(batches[runs % len(batches)])
        runs += 1
    return runs * size / elapsed


def raw_latencies_ms(backend: Backend, batches: Sequence[Feeds], seconds: float) -> list[float]:
    """Milliseconds of each ``predict`` over ready batches taken in turn, for about ``seconds`` (on the
    engine's thread, so a torch figure has no thread hop the harness pays)."""
    return backend.run_on_engine(_latency_loop, backend, batches, seconds)


def _latency_loop(backend: Backend, batches: Sequence[Feeds], seconds: float) -> list[float]:
    for k in range(WARM_UP_RUNS):
        backend.predict(batches[k % len(batches)])
    found: list[float] = []
    started = time.perf_counter()
    while time.perf_counter() - started < seconds or len(found) < 10:
        begin = time.perf_counter()
        backend.predict(batches[len(found) % len(batches)])
        found.append((time.perf_counter() - begin) * 1e3)
    return found


def percentile(values: list[float], pct: float) -> float:
    return float(np.percentile(np.asarray(values), pct))


def ready_feeds(session: Session, batch: int, count: int = RAW_BATCHES) -> list[Feeds]:
    """``count`` collated batches of different real samples (cycling through the data set).

    Different data, as the harness sees: an engine can run one repeated batch faster than a stream of
    batches (bench/PERFORMANCE.md has a torch bf16 case).
    """
    dataset = session.open_dataset("performance", progress=False)
    indices = [i % len(dataset) for i in range(batch * count)]
    return [session.task.collate(dataset.load(indices[k * batch:(k + 1) * batch])) for k in range(count)]


def run_config(
    case: EngineCase,
    ws: Workspace,
    scenario: str,
    batch: int,
    threads: int,
    conf: Path,
    target_qps: float | None = None,
) -> RunConfig:
    label = f"{case.benchmark}-{case.backend}-{case.device}-{case.precision}-{scenario}-b{batch}"
    return RunConfig(
        benchmark=case.benchmark,
        backend=case.backend,
        scenario=scenario,
        mode="performance",
        model=ws.int8_model(case.benchmark) if case.precision == "int8"
        else ws.model(case.benchmark, ".pb" if case.backend == "tensorflow" else ".onnx"),
        dataset_path=ws.dataset(case.benchmark),
        output=ws.runs / label,
        max_batchsize=batch,
        threads=threads,
        workers=1,
        precision=case.precision,
        device=case.device,
        user_conf=conf,
        target_qps=target_qps,
        cache_dir=ws.cache,
        progress=False,
    )


def command(cfg: RunConfig, phase: PhaseOptions | None = None) -> str:
    """The mlperf-ref command line that makes the same harness run (``phase``: the last phase's options)."""
    phase = phase or PhaseOptions.of(cfg)
    parts = [
        f"mlperf-ref run {cfg.benchmark} --backend {cfg.backend} --scenario {cfg.scenario} --performance",
        f"--model {cfg.model} --dataset-path {cfg.dataset_path} --output {phase.output}",
        f"--cache-dir {cfg.cache_dir}",
        f"--max-batchsize {phase.max_batchsize} --threads {cfg.threads} --workers {cfg.workers}",
    ]
    if cfg.device != "cpu":
        parts.append(f"--device {cfg.device}")
    if cfg.precision != "fp32":
        parts.append(f"--precision {cfg.precision}")
    if phase.target_qps is not None:
        parts.append(f"--target-qps {phase.target_qps:.1f}")
    parts.append(f"--user-conf {phase.user_conf}")
    return " ".join(parts)


def offline_row(
    case: EngineCase,
    ws: Workspace,
    batch: int,
    threads: int,
    seconds: float,
    repeats: int,
    group: str = "1 Offline/engine",
) -> Row:
    """Row 1: Offline samples/s through the harness / raw engine samples/s (same model, batch, threads).

    Raw and harness runs alternate (raw, harness, raw, ...); each harness run is divided by the mean of
    the raw runs either side, and the row shows the median of those ratios.
    """
    conf = write_user_conf(
        ws.runs / "offline.conf", {"Offline": {"min_duration": int(seconds * 1000), "min_query_count": 1}}
    )
    session = open_session(run_config(case, ws, "Offline", batch, threads, conf))
    feeds = ready_feeds(session, batch)
    raws = [raw_throughput(session.backend, feeds, seconds)]
    harness: list[float] = []
    ratios: list[float] = []
    valid: list[bool] = []
    options = session.phase_options()
    phase: PhaseResult | None = None
    for _ in range(repeats):
        # LoadGen sizes the Offline query from the expected rate: ask for more than the engine gave, so a
        # faster spell still fills min_duration (a shorter run would be INVALID).
        options = session.phase_options(target_qps=OFFLINE_QUERY_MARGIN * raws[-1])
        phase = session.run_phase("performance", options)
        raws.append(raw_throughput(session.backend, feeds, seconds))
        harness.append(phase.loadgen.metric_value)
        valid.append(bool(phase.loadgen.valid))
        ratios.append(harness[-1] / statistics.mean(raws[-2:]))
    name = f"{case.benchmark} {case.backend} {case.device} {case.precision} Offline b{batch} t{threads}"
    row = compared(
        group,
        name,
        statistics.median(harness),
        statistics.median(raws),
        "samples/s",
        "raw predict",
        goals.OFFLINE_VS_ENGINE,
        command=command(session.cfg, options),
        details=_details(
            session, phase, raw_runs=raws, harness_runs=harness, ratios=ratios, all_valid=all(valid)
        ),
    )
    row.ratio = statistics.median(ratios)
    row.met = judge(row.ratio, goals.OFFLINE_VS_ENGINE)
    return row


def singlestream_row(case: EngineCase, ws: Workspace, threads: int, seconds: float, repeats: int) -> Row:
    """Row 2: SingleStream p90 through the harness minus the raw engine's p90 at batch 1.

    Raw windows and harness runs alternate; each harness p90 is compared with the p90 of the raw
    windows either side of it, and the row shows the median difference.
    """
    conf = write_user_conf(
        ws.runs / "singlestream.conf",
        {"SingleStream": {"min_duration": int(seconds * 1000), "min_query_count": 16}},
    )
    session = open_session(run_config(case, ws, "SingleStream", 1, threads, conf))
    feeds = ready_feeds(session, 1)
    windows = [raw_latencies_ms(session.backend, feeds, seconds / 2)]
    harness: list[float] = []
    differences: list[float] = []
    phase: PhaseResult | None = None
    for _ in range(repeats):
        phase = session.run_phase("performance")
        windows.append(raw_latencies_ms(session.backend, feeds, seconds / 2))
        harness.append(phase.loadgen.latency_ms["p90"])
        differences.append(harness[-1] - percentile(windows[-2] + windows[-1], 90))
    everything = [v for window in windows for v in window]
    name = f"{case.benchmark} {case.backend} {case.device} {case.precision} SingleStream b1 t{threads}"
    row = compared(
        "2 SingleStream p90 - engine",
        name,
        statistics.median(harness),
        percentile(everything, 90),
        "ms",
        "raw predict p90",
        goals.SINGLESTREAM_OVER_ENGINE_MS,
        comparison="difference",
        command=command(session.cfg),
        details=_details(
            session,
            phase,
            raw_p50_ms=percentile(everything, 50),
            raw_samples=len(everything),
            harness_p90_runs=harness,
            differences=differences,
        ),
    )
    row.ratio = statistics.median(differences)
    row.met = judge(row.ratio, goals.SINGLESTREAM_OVER_ENGINE_MS)
    return row


def _details(session: Session, phase: PhaseResult, **extra: Any) -> dict[str, Any]:
    loadgen = phase.loadgen
    return {
        "backend": session.backend.describe(),
        "valid": loadgen.valid,
        "latency_ms": loadgen.latency_ms,
        "loadgen_seconds": phase.seconds,
        "log_dir": phase.log_dir,
        **extra,
    }
