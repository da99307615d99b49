"""One benchmark session: what a run loads once, and its LoadGen phases (dataset -> QSL -> SUT -> backend ->
LoadGen -> scorer).

A :class:`Session` holds what one ``RunConfig`` loads once (the benchmark, its task, the backend with
its model); each LoadGen phase is run with :meth:`Session.run_phase`, whose per-phase choices (batching,
target QPS, samples per query, where the logs go) are a :class:`PhaseOptions` passed in, never a change
to the session. A session runs its batches here, or on engines elsewhere (Ray replicas) that it meets only
through the small :class:`RemoteEngines` protocol; which one is the runner's choice (common/runner.py), so a
Ray replica opens a local session itself with :func:`open_local_session`.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import mlperf_loadgen as lg
from tqdm import tqdm

from common.accuracy.log import read_accuracy_log
from common.atomic import atomic_write_text
from common.audit_config import check_working_directory
from common.backends import backend_class, backends_for, check_precision, make_backend
from common.backends.base import Backend
from common.benchmark import Benchmark, Dataset, DatasetOptions, Task
from common.cache import check_cache_dir, default_cache_dir
from common.calibration_record import check_model_precision, read_record
from common.disk_space import check_free, check_room_left, phase_bytes
from common.errors import UsageError
from common.loadgen_phase import Engines, SutOptions, run_loadgen_phase
from common.paths import dataset_folder
from common.progress import progress_enabled
from common.registry import get_benchmark
from common.results import AccuracyResult, ClusterResult, LoadGenResult, PhaseResult
from common.samples import RANDOM_WEIGHTS_SUFFIX, SYNTHETIC_MARKER
from common.settings import (
    SCENARIOS,
    Overrides,
    build_settings,
    check_schedule,
    latency_bound_ms,
    latency_percentile,
)

MODES = ("performance", "accuracy", "both")
QUICK_QUERIES = 32  # queries of a --quick SingleStream, MultiStream or Server run


@dataclass(frozen=True)
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
    ray: RemoteOptions | None = None  # run on Ray replicas (scaleout/, --ray) instead of in this process
    allow_audit_config: bool = False  # run although an audit.config in the working directory changes it


@dataclass(frozen=True)
class PhaseOptions:
    """What may differ between LoadGen phases of one session (the rest is fixed when the model loads)."""

    output: Path
    max_batchsize: int = 1
    batch_timeout_ms: float = 0.0
    target_qps: float | None = None
    samples_per_query: int | None = None
    user_conf: Path | None = None
    min_duration_ms: int | None = None  # a shorter run than the conf's (the Server search's trials)
    min_query_count: int | None = None
    # the last change to the TestSettings, given the dataset's size (the audit tests set their keys here)
    adjust: Callable[[lg.TestSettings, int], None] | None = None

    @classmethod
    def of(cls, cfg: RunConfig) -> PhaseOptions:
        return cls(output=Path(cfg.output), max_batchsize=cfg.max_batchsize, batch_timeout_ms=cfg.batch_timeout_ms,
                   target_qps=cfg.target_qps, samples_per_query=cfg.samples_per_query, user_conf=cfg.user_conf)

    def validate(self) -> None:
        if self.max_batchsize < 1:
            raise UsageError(f"--max-batchsize {self.max_batchsize}: must be at least 1")
        if self.batch_timeout_ms < 0:
            raise UsageError(f"--batch-timeout-ms {self.batch_timeout_ms:g}: must be at least 0")


class RemoteOptions(Protocol):
    """Where a run's remote engines run (scaleout/'s ``RayOptions``), checked before the model loads."""

    def validate(self, device: str) -> None:
        """A UsageError naming the first bad option."""
        ...


class RemoteEngines(Protocol):
    """Engines in other processes that run a session's batches (scaleout/'s Ray replicas): all a session
    knows of them."""

    def engine_facts(self) -> dict[str, object]:
        """The engine's facts for results.json (one replica's)."""
        ...

    def open_phase(self, purpose: str) -> float:
        """Every engine opens the phase's dataset and warms up; the seconds a sample takes over all of them."""
        ...

    def engines(self, task: Task) -> Engines:
        """The phase's engines for the LoadGen phase."""
        ...

    def describe(self) -> ClusterResult:
        """What ran where, for results.json and the summary."""
        ...

    def close(self) -> None:
        """Stop what was started for the run."""
        ...


def _task_backend(cfg: RunConfig, bench: Benchmark) -> str:
    """Whose pre/post-processing the backend runs (its own, the files it runs, or the default's)."""
    info = bench.info
    family = backend_class(cfg.backend).task_family(info.backends)
    if family is None:
        raise UsageError(f"--backend {cfg.backend}: {info.name} runs on {', '.join(backends_for(info.backends))}")
    return family


def _validate(cfg: RunConfig, bench: Benchmark) -> None:
    backend = backend_class(cfg.backend)
    _task_backend(cfg, bench)
    check_precision(cfg.precision)
    if cfg.scenario not in SCENARIOS:
        raise UsageError(f"--scenario {cfg.scenario}: choose one of {', '.join(SCENARIOS)}")
    if cfg.mode not in MODES:
        raise UsageError(f"mode {cfg.mode}: choose one of {', '.join(MODES)}")
    dataset_folder(cfg.dataset_path)
    check_cache_dir(cfg.cache_dir)
    for option, value in (("--max-batchsize", cfg.max_batchsize), ("--threads", cfg.threads),
                          ("--workers", cfg.workers), ("--count", cfg.count)):
        if value is not None and value < 1:
            raise UsageError(f"{option} {value}: must be at least 1")
    if cfg.device not in ("cpu", "cuda"):
        raise UsageError(f"--device {cfg.device}: choose cpu or cuda")
    if not backend.runs_model and cfg.device != "cpu":
        raise UsageError(f"--device {cfg.device}: the {cfg.backend} backend runs no model; use --device cpu")
    PhaseOptions.of(cfg).validate()
    if cfg.ray is not None:
        cfg.ray.validate(cfg.device)
    check_working_directory(bench.info.name, cfg.scenario, cfg.mode, cfg.allow_audit_config)
    # the conf and the options' numbers are refused before the model loads (and before Ray starts)
    settings = build_settings(bench.info.name, cfg.scenario, "performance", cfg.user_conf,
                              Overrides(target_qps=cfg.target_qps, samples_per_query=cfg.samples_per_query), cfg.quick)
    check_schedule(settings, cfg.scenario, "--target-qps" if cfg.target_qps else "target_qps (the conf's)")


def _warm_up(task: Task, backend: Backend, samples: object, runs: int = 3) -> tuple[float, int]:
    """Run a batch of the first sample a few times; return the seconds it took (last run) and the size of
    the payload it answers (for the accuracy log's size)."""
    feeds = task.collate(samples)
    seconds, outputs = 0.0, None
    for _ in range(runs):
        start = time.perf_counter()
        outputs = backend.predict(feeds)
        seconds = time.perf_counter() - start
    payload = backend.postprocess_for(task)(outputs, [0])
    return max(seconds, 1e-6), max(len(p) for p in payload)


@dataclass
class Session:
    """What stays loaded across the phases of one run (read-only but for the warm-up's timing)."""

    cfg: RunConfig
    bench: Benchmark
    task: Task
    backend: Backend
    task_backend: str  # whose pre/post-processing runs (openvino uses onnxruntime's, null the default's)
    sample_seconds: float | None = None
    payload_bytes: int = 0  # one sample's answer to LoadGen, as the warm-up measured it
    cluster: RemoteEngines | None = None  # --ray: the replicas run the batches; this backend is not loaded

    def engine(self) -> dict[str, object]:
        """The engine's facts for results.json (on Ray: a replica's)."""
        if self.cluster is not None:
            return self.cluster.engine_facts()
        return self.backend.describe()

    def close(self) -> None:
        """Stop what the session started (Ray replicas, a local Ray instance)."""
        if self.cluster is not None:
            self.cluster.close()

    @property
    def synthetic_data(self) -> bool:
        """The dataset is the project's synthetic sample set: accuracy on it is no quality result."""
        return (Path(self.cfg.dataset_path) / SYNTHETIC_MARKER).exists()

    @property
    def random_weights(self) -> bool:
        """The model is an ``export-model`` file with seeded random weights, or a file made from one (an int8
        file's calibration record says so): no quality result either."""
        model = self.cfg.model
        if not self.backend.runs_model or model is None:
            return False
        record = self.backend.calibration if self.cluster is None else read_record(Path(model))
        return Path(f"{model}{RANDOM_WEIGHTS_SUFFIX}").exists() or bool(record and record.random_weights)

    def phase_options(self, **changes: object) -> PhaseOptions:
        """The configuration's phase options with ``changes`` (output, max_batchsize, target_qps, ...)."""
        return dataclasses.replace(PhaseOptions.of(self.cfg), **changes)

    def open_dataset(self, purpose: str, count: int | None = None, progress: bool | None = None) -> Dataset:
        """The benchmark's dataset as this session preprocesses it (``purpose``: accuracy or performance)."""
        cfg, info = self.cfg, self.bench.info
        count = count or cfg.count
        if cfg.quick:
            count = min(count or info.quick_count, info.quick_count)
        options = DatasetOptions(
            backend=self.task_backend, layout=self.task.io.layout, cache_dir=cfg.cache_dir or default_cache_dir(),
            workers=os.cpu_count() or 1, count=count, progress=cfg.progress if progress is None else progress,
            purpose=purpose,
        )
        dataset = self.bench.open_dataset(Path(cfg.dataset_path), options)
        if len(dataset) == 0:
            raise UsageError(f"--dataset-path {cfg.dataset_path}: the dataset has no samples")
        if cfg.count is not None and len(dataset) < min(cfg.count, count or cfg.count):
            raise UsageError(f"--count {cfg.count}: {cfg.dataset_path} has only {len(dataset)} samples "
                             f"for the {purpose} phase")
        return dataset

    def settings(self, phase: str, options: PhaseOptions, dataset_size: int) -> lg.TestSettings:
        """LoadGen's settings of one phase: the v0.5 rules, the user's conf, the options, quick counts."""
        cfg, info = self.cfg, self.bench.info
        overrides = Overrides(target_qps=options.target_qps, samples_per_query=options.samples_per_query,
                              min_duration_ms=options.min_duration_ms, min_query_count=options.min_query_count)
        settings = build_settings(info.name, cfg.scenario, phase, options.user_conf, overrides, cfg.quick)
        # The v0.5 count as is, also above the dataset's size (GNMT's 3,903,900): LoadGen then loads every
        # sample once and logs the v0.5 count, which the v0.5 checker requires (the QSL caps what it loads).
        settings.performance_sample_count_override = (settings.performance_sample_count_override
                                                       or info.performance_sample_count)
        if cfg.quick:  # a fixed small number of queries, no minimum duration
            per_second = 1.0 / self.sample_seconds if self.sample_seconds else 100.0
            if options.target_qps is None:
                settings.server_target_qps = max(0.5 * per_second, 0.1)  # half the engine's rate: a stable queue
            queries = dataset_size if cfg.scenario == "Offline" else min(dataset_size, QUICK_QUERIES)
            settings.min_query_count = queries
            settings.max_query_count = 0 if cfg.scenario == "Offline" else queries
        if options.adjust is not None:
            options.adjust(settings, dataset_size)
        if settings.performance_issue_unique or settings.performance_issue_same:  # TEST04 (audit or user conf):
            # LoadGen's Offline run of unique samples crashes when the performance sample count exceeds the samples
            settings.performance_sample_count_override = min(settings.performance_sample_count_override,
                                                             dataset_size)
        return settings

    def warm(self, dataset: Dataset, phase: str = "performance") -> float:
        """Warm the engines up (once); the seconds a sample takes. On Ray the replicas open the phase's
        dataset on their nodes (every phase, before LoadGen starts) and the time is the fastest replica's
        divided over the replicas."""
        if self.cluster is not None:
            seconds = self.cluster.open_phase(phase)
            if self.sample_seconds is None:
                self.sample_seconds = seconds
        elif self.sample_seconds is None:
            self.sample_seconds, self.payload_bytes = _warm_up(self.task, self.backend, dataset.load([0]))
        return self.sample_seconds

    def run_phase(self, phase: str, options: PhaseOptions | None = None) -> PhaseResult:
        """One LoadGen test (accuracy or performance) with ``options`` (default: the configuration's)."""
        options = options or PhaseOptions.of(self.cfg)
        options.validate()
        dataset = self.open_dataset(phase)
        self.warm(dataset, phase)
        engines = self.cluster.engines(self.task) if self.cluster is not None else None
        settings = self.settings(phase, options, len(dataset))
        outdir = Path(options.output) / phase
        check_free(Path(options.output), phase_bytes(len(dataset), self.payload_bytes, phase == "accuracy"),
                   f"the {phase} phase ({len(dataset)} samples of {self.payload_bytes} bytes)")
        sut_options = SutOptions(self.cfg.scenario, options.max_batchsize, self.cfg.workers,
                                 options.batch_timeout_ms, self.cfg.fail_fast)
        bar = None
        if phase == "accuracy" and progress_enabled(self.cfg.progress):  # an accuracy pass can take hours
            bar = tqdm(total=len(dataset), desc=f"{self.bench.info.name} accuracy", unit="sample", leave=False)
        try:
            seconds = run_loadgen_phase(settings, dataset, self.task, self.backend, sut_options, outdir,
                                        on_batch=bar.update if bar is not None else None, engines=engines)
        finally:
            if bar is not None:
                bar.close()
        check_room_left(outdir, phase)  # LoadGen drops what it cannot write without a word
        result = PhaseResult(
            log_dir=str(outdir),
            seconds=round(seconds, 3),
            samples=len(dataset),
            performance_sample_count=settings.performance_sample_count_override,
            latency_bound_ms=latency_bound_ms(settings, self.cfg.scenario),
            latency_percentile=latency_percentile(settings, self.cfg.scenario),
            dataset=dataset.describe(),
        )
        if phase == "accuracy":
            result.accuracy = self._score(outdir)
        else:
            result.loadgen = LoadGenResult.from_logs(outdir)
        return result

    def _score(self, outdir: Path) -> AccuracyResult:
        payloads = read_accuracy_log(outdir / "mlperf_log_accuracy.json")
        target = self.bench.info.quality
        found = AccuracyResult(metric=target.metric, unit=target.unit, target=target.value, samples=len(payloads))
        if not self.backend.runs_model:
            found.note = f"{target.metric} not scored: the {self.cfg.backend} backend makes no predictions"
            _write_accuracy_txt(outdir, found.note)
            return found
        scored = self.bench.score(payloads, Path(self.cfg.dataset_path))
        _write_accuracy_txt(outdir, scored.accuracy_txt)
        found.value, found.passed = float(scored.value), target.passes(scored.value)
        found.count, found.lines, found.extra = scored.count, scored.lines, scored.extra
        return found


def _write_accuracy_txt(outdir: Path, text: str) -> None:
    atomic_write_text(outdir / "accuracy.txt", text if text.endswith("\n") else text + "\n")


def prepare(cfg: RunConfig) -> Session:
    """Check the configuration and build the task and the backend (its model not loaded yet)."""
    bench = get_benchmark(cfg.benchmark)
    _validate(cfg, bench)
    # workers x engine threads never above the cores, unless the user says so
    threads = cfg.threads or max(1, (os.cpu_count() or 1) // cfg.workers)
    task_backend = _task_backend(cfg, bench)
    task = bench.make_task(task_backend, Path(cfg.dataset_path))
    dynamic_int8 = bench.torch_dynamic_int8() if cfg.precision == "int8" else None
    backend = make_backend(cfg.backend, threads, cfg.device, bench.load_torch_model, cfg.precision, cfg.workers,
                           dynamic_int8)
    return Session(cfg, bench, task, backend, task_backend)


def open_local_session(cfg: RunConfig) -> Session:
    """Check the configuration, build the task and load the model once, in this process."""
    session = prepare(cfg)
    backend, model = session.backend, cfg.model
    backend.load(Path(model) if model else None, session.task.io)
    if backend.runs_calibrated_onnx and model:  # the file's precision must be the one the run reports
        check_model_precision(backend.calibration, Path(model), cfg.precision, session.bench.info.name)
    return session
