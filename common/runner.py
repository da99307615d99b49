"""One benchmark run: dataset -> QSL -> SUT -> backend -> LoadGen -> scorer -> results and summary."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlperf_loadgen as lg
from tqdm import tqdm

from common import report
from common.accuracy.log import read_accuracy_log
from common.backends import check_precision, make_backend
from common.backends.base import Backend
from common.benchmark import AccuracyReport, Benchmark, DatasetOptions, Task
from common.cache import default_cache_dir
from common.errors import RunError, UsageError
from common.progress import progress_enabled
from common.qsl import SampleLibrary
from common.registry import get_benchmark
from common.samples import RANDOM_WEIGHTS_SUFFIX, SYNTHETIC_MARKER
from common.settings import (
    SCENARIOS,
    Overrides,
    build_settings,
    latency_bound_ms,
    latency_percentile,
    log_settings,
)
from common.sut import BatchRunner, Failure, Postprocess, make_sut, null_postprocess

MODES = ("performance", "accuracy", "both")
QUICK_QUERIES = 32  # queries of a --quick SingleStream, MultiStream or Server run

@dataclass
class RunConfig:
    """Everything one ``mlperf-ref run`` needs."""

    benchmark: str
    backend: str
    scenario: str
    mode: str = "performance"  # performance | accuracy | both
    model: Path | None = None
    dataset_path: Path = Path("data")
    output: Path = Path("output")
    quick: bool = False
    max_batchsize: int = 1
    threads: int | None = None  # engine threads (default: all cores)
    workers: int = 1  # SUT worker threads (Offline, MultiStream, Server)
    device: str = "cpu"
    precision: str = "fp32"  # fp32 | bf16 | fp16 | int8: the accuracy pass decides whether it holds
    count: int | None = None  # use only the first N samples (not valid for submission)
    user_conf: Path | None = None
    target_qps: float | None = None
    samples_per_query: int | None = None
    batch_timeout_ms: float = 0.0  # Server: how long the first queued sample waits for a fuller batch
    cache_dir: Path | None = None
    fail_fast: bool = False  # end the process at once when the backend fails (the command line does)
    progress: bool = True
    command_line: list[str] = field(default_factory=list)


def _task_backend(backend: str, bench: Benchmark) -> str:
    """Whose pre/post-processing a backend uses: openvino runs the onnxruntime files, null the default's."""
    info = bench.info
    if backend == "openvino" and "onnxruntime" in info.backends:
        return "onnxruntime"
    if backend == "null" and "null" in info.backends:
        return info.default_backend
    if backend not in info.backends:
        extra = ", openvino" if "onnxruntime" in info.backends else ""
        raise UsageError(f"--backend {backend}: {info.name} runs on {', '.join(info.backends)}{extra}")
    return backend


def _validate(cfg: RunConfig, bench: Benchmark) -> None:
    _task_backend(cfg.backend, bench)
    check_precision(cfg.precision)
    if cfg.scenario not in SCENARIOS:
        raise UsageError(f"--scenario {cfg.scenario}: choose one of {', '.join(SCENARIOS)}")
    if cfg.mode not in MODES:
        raise UsageError(f"mode {cfg.mode}: choose one of {', '.join(MODES)}")
    if not Path(cfg.dataset_path).is_dir():
        raise UsageError(f"--dataset-path {cfg.dataset_path}: no such folder (see 'mlperf-ref make-samples' "
                         f"or the benchmark's download_dataset.sh)")
    for option, value in (("--max-batchsize", cfg.max_batchsize), ("--threads", cfg.threads),
                          ("--workers", cfg.workers), ("--count", cfg.count)):
        if value is not None and value < 1:
            raise UsageError(f"{option} {value}: must be at least 1")
    if cfg.device not in ("cpu", "cuda"):
        raise UsageError(f"--device {cfg.device}: choose cpu or cuda")
    if cfg.backend == "null" and cfg.device != "cpu":
        raise UsageError("--device cuda: the null backend runs no model; use --device cpu")


def _warm_up(task: Task, backend: Backend, dataset_sample: Any, batch: int, runs: int = 3) -> float:
    """Run a few batches of one sample; return the seconds one sample took (last run)."""
    feeds = task.collate([dataset_sample] * batch)
    seconds = 0.0
    for _ in range(runs):
        start = time.perf_counter()
        backend.predict(feeds)
        seconds = (time.perf_counter() - start) / batch
    return max(seconds, 1e-6)


@dataclass
class Session:
    """What stays loaded across the phases of one run."""

    cfg: RunConfig
    bench: Benchmark
    task: Task
    backend: Backend
    task_backend: str  # whose pre/post-processing runs (openvino uses onnxruntime's, null the default's)
    sample_seconds: float | None = None


def _open_dataset(session: Session, purpose: str):
    cfg, info = session.cfg, session.bench.info
    count = cfg.count
    if cfg.quick:
        count = min(count or info.quick_count, info.quick_count)
    options = DatasetOptions(
        backend=session.task_backend, layout=session.task.io.layout, cache_dir=cfg.cache_dir or default_cache_dir(),
        workers=os.cpu_count() or 1, count=count, progress=cfg.progress, purpose=purpose,
    )
    dataset = session.bench.open_dataset(Path(cfg.dataset_path), options)
    if len(dataset) == 0:
        raise UsageError(f"--dataset-path {cfg.dataset_path}: the dataset has no samples")
    return dataset


def _settings(session: Session, phase: str, dataset_size: int):
    cfg, info = session.cfg, session.bench.info
    overrides = Overrides(target_qps=cfg.target_qps, samples_per_query=cfg.samples_per_query)
    settings = build_settings(info.name, cfg.scenario, phase, cfg.user_conf, overrides, cfg.quick)
    requested = settings.performance_sample_count_override or info.performance_sample_count
    settings.performance_sample_count_override = min(requested, dataset_size)
    if cfg.quick:  # a fixed small number of queries, no minimum duration
        per_second = 1.0 / session.sample_seconds if session.sample_seconds else 100.0
        if cfg.target_qps is None:
            settings.server_target_qps = max(0.5 * per_second, 0.1)  # half the engine's rate: a stable queue
        queries = dataset_size if cfg.scenario == "Offline" else min(dataset_size, QUICK_QUERIES)
        settings.min_query_count = queries
        settings.max_query_count = 0 if cfg.scenario == "Offline" else queries
    return settings


def run_phase(session: Session, phase: str) -> dict[str, Any]:
    """One LoadGen test (accuracy or performance); returns its part of results.json."""
    cfg = session.cfg
    dataset = _open_dataset(session, phase)
    if session.sample_seconds is None:
        first = dataset.load([0])[0]
        session.sample_seconds = _warm_up(session.task, session.backend, first, 1)
    settings = _settings(session, phase, len(dataset))
    outdir = Path(cfg.output) / phase

    failure = Failure(cfg.fail_fast)
    postprocess = null_postprocess if cfg.backend == "null" else session.task.postprocess
    bar = None
    if phase == "accuracy" and progress_enabled(cfg.progress):  # an accuracy pass can take hours
        bar = tqdm(total=len(dataset), desc=f"{session.bench.info.name} accuracy", unit="sample", leave=False)
        postprocess = _counting(postprocess, bar)
    qsl = SampleLibrary(dataset, settings.performance_sample_count_override)
    run_batch = BatchRunner(qsl, session.task, session.backend, postprocess, failure)
    sut = make_sut(cfg.scenario, run_batch, cfg.max_batchsize, cfg.workers, cfg.batch_timeout_ms)
    started = time.perf_counter()
    try:
        lg.StartTestWithLogSettings(sut.handle, qsl.handle, settings, log_settings(outdir))
    finally:
        sut.stop()
        qsl.destroy()
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - started
    error = qsl.error or failure.error
    if error is not None:
        where = "loading samples" if qsl.error else "running the backend"
        raise RunError(f"{phase} run failed while {where}: {type(error).__name__}: {error}") from error

    result: dict[str, Any] = {
        "log_dir": str(outdir),
        "seconds": round(seconds, 3),
        "samples": len(dataset),
        "performance_sample_count": settings.performance_sample_count_override,
        "latency_bound_ms": latency_bound_ms(settings, cfg.scenario),
        "latency_percentile": latency_percentile(settings, cfg.scenario),
        "dataset": dataset.describe(),
    }
    if phase == "accuracy":
        result["accuracy"] = _score(session, outdir)
    else:
        result["loadgen"] = report.loadgen_result(outdir)
    return result


def _counting(postprocess: Postprocess, bar: tqdm) -> Postprocess:
    """The same post-processing, advancing a progress bar by each batch's samples."""

    def counted(outputs, indices):
        payloads = postprocess(outputs, indices)
        bar.update(len(indices))
        return payloads

    return counted


def _score(session: Session, outdir: Path) -> dict[str, Any]:
    cfg, info = session.cfg, session.bench.info
    payloads = read_accuracy_log(outdir / "mlperf_log_accuracy.json")
    target = info.quality
    base = {"metric": target.metric, "unit": target.unit, "target": target.value, "samples": len(payloads)}
    if cfg.backend == "null":
        text = f"{target.metric} not scored: the null backend makes no predictions\n"
        report.write_accuracy_txt(outdir, text)
        return {**base, "value": None, "passed": None, "note": text.strip()}
    scored: AccuracyReport = session.bench.score(payloads, Path(cfg.dataset_path))
    report.write_accuracy_txt(outdir, scored.accuracy_txt)
    return {**base, "value": float(scored.value), "passed": target.passes(scored.value), "count": scored.count,
            "lines": scored.lines, "extra": scored.extra}


def open_session(cfg: RunConfig) -> Session:
    """Check the configuration, build the task and load the model once."""
    bench = get_benchmark(cfg.benchmark)
    _validate(cfg, bench)
    # workers x engine threads never above the cores, unless the user says so
    threads = cfg.threads or max(1, (os.cpu_count() or 1) // cfg.workers)
    task_backend = _task_backend(cfg.backend, bench)
    task = bench.make_task(task_backend, Path(cfg.dataset_path))
    backend = make_backend(cfg.backend, threads, cfg.device, bench.load_torch_model, cfg.precision, cfg.workers)
    backend.load(Path(cfg.model) if cfg.model else None, task.io)
    return Session(cfg, bench, task, backend, task_backend)


def run_benchmark(cfg: RunConfig) -> dict[str, Any]:
    """Run one benchmark as configured; write the logs, results.json and print the human summary."""
    session = open_session(cfg)
    bench, backend = session.bench, session.backend
    phases = ["accuracy", "performance"] if cfg.mode == "both" else [cfg.mode]
    results = report.base_results(cfg, bench, backend, _synthetic_inputs(cfg))
    for phase in phases:
        results[phase] = run_phase(session, phase)
    report.finish(results, Path(cfg.output))
    return results


def _synthetic_inputs(cfg: RunConfig) -> dict[str, bool]:
    """Whether the data are make-samples' synthetic set and the weights export-model's random ones."""
    model = Path(cfg.model) if cfg.model else None
    return {
        "synthetic_data": (Path(cfg.dataset_path) / SYNTHETIC_MARKER).exists(),
        "random_weights": cfg.backend != "null" and model is not None
        and Path(f"{model}{RANDOM_WEIGHTS_SUFFIX}").exists(),
    }
