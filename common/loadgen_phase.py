"""One LoadGen test: QSL and SUT over a dataset, a task and a backend, started, torn down, errors raised.

Everything that runs LoadGen on our harness goes through :func:`run_loadgen_phase`: the runner, the
MultiStream search and every bench/ row. What may differ between phases of one loaded model (the scenario,
the batching, where the logs go) is passed in; nothing shared is changed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import mlperf_loadgen as lg

from common.backends.base import Backend, Postprocess
from common.benchmark import Dataset, Task
from common.disk_space import disk_full_line, is_disk_full
from common.errors import Interrupted, RunError
from common.interruption import Stop, end_process, mark_incomplete, signals_to, wait_for
from common.qsl import SampleLibrary
from common.settings import log_settings
from common.sut import LOADING, BatchRunner, Failure, make_sut


class Engines(Protocol):
    """Engines outside this process (scaleout/'s Ray replicas) that hold the samples and run the
    batches of one phase; the SUT, LoadGen and its logs stay here."""

    workers: int  # SUT threads that keep every engine busy

    def serve(self, dataset: Dataset, performance_count: int, failure: Failure,
              on_batch: Callable[[int], None] | None) -> tuple[Any, Any]:
        """The phase's QSL (``handle``, ``destroy``, ``batch_order``) and batch runner (``run_batch(ids,
        indices)``, ``answered``, ``qsl``, ``task``), as SampleLibrary and BatchRunner offer them."""
        ...


@dataclass(frozen=True)
class SutOptions:
    """How the SUT serves one phase."""

    scenario: str
    max_batchsize: int = 1
    workers: int = 1  # SUT worker threads (Offline, MultiStream, Server)
    batch_timeout_ms: float = 0.0  # Server: how long the first queued sample waits for a fuller batch
    fail_fast: bool = False  # end the process at once when the backend fails (the command line does)


def run_loadgen_phase(
    settings: lg.TestSettings,
    dataset: Dataset,
    task: Task,
    backend: Backend,
    sut_options: SutOptions,
    outdir: Path,
    postprocess: Postprocess | None = None,
    on_batch: Callable[[int], None] | None = None,
    engines: Engines | None = None,
) -> float:
    """Run one LoadGen test with its logs in ``outdir``; the seconds it took.

    ``postprocess`` defaults to the backend's (the task's, or the null backend's answer as is);
    ``on_batch(samples)`` is called after each answered batch (progress bars). Raises RunError naming
    the phase's failure when loading samples or the backend failed (LoadGen itself cannot take errors).
    With ``engines`` the samples and batches go to them (the backend here is not run).
    """
    failure = Failure(sut_options.fail_fast)
    workers = sut_options.workers
    if engines is None:
        answer = postprocess or backend.postprocess_for(task)
        if on_batch is not None:
            answer = _counting(answer, on_batch)
        qsl = SampleLibrary(dataset, settings.performance_sample_count_override,
                            on_error=lambda exc: failure.record(exc, LOADING))
        run_batch = BatchRunner(qsl, task, backend, answer, failure)
    else:
        qsl, run_batch = engines.serve(dataset, settings.performance_sample_count_override, failure, on_batch)
        workers = engines.workers
    sut = make_sut(sut_options.scenario, run_batch, sut_options.max_batchsize, workers,
                   sut_options.batch_timeout_ms)
    mode = "accuracy" if settings.mode == lg.TestMode.AccuracyOnly else "performance"

    def where() -> str:
        done = progress_of(run_batch.answered, settings, sut_options.scenario, len(dataset))
        return f"interrupted during the {mode} phase after {done}"

    def give_up(signum: int) -> None:
        mark_incomplete(outdir, f"{where()} (signal {signum}; LoadGen was still running)")
        end_process(where(), signum)

    stop = Stop()
    started = time.perf_counter()
    logs = log_settings(outdir)
    test = threading.Thread(target=lg.StartTestWithLogSettings, args=(sut.handle, qsl.handle, settings, logs),
                            name="loadgen", daemon=True)
    try:
        with signals_to(stop):
            test.start()
            wait_for(test, stop, on_stop=lambda: setattr(failure, "interrupted", True), give_up=give_up)
    finally:
        if not test.is_alive():
            sut.stop()
            qsl.destroy()
    seconds = time.perf_counter() - started
    if stop.signum is not None:
        mark_incomplete(outdir, f"{where()} (signal {stop.signum})")
        raise Interrupted(where(), stop.signum)
    error = failure.error
    if error is not None and is_disk_full(error):  # the preprocessing cache filled its disk
        raise RunError(disk_full_line(error, outdir.parent, f"while {failure.where}")) from error
    if error is not None:
        raise RunError(f"{mode} run failed while {failure.where}: {type(error).__name__}: {error}") from error
    return seconds


def _least_samples(settings: lg.TestSettings, scenario: str) -> int:
    """The samples LoadGen will ask for at least (Offline: min_query_count counts samples here)."""
    if scenario == "MultiStream":
        return settings.min_query_count * settings.multi_stream_samples_per_query
    return settings.min_query_count


def progress_of(done: int, settings: lg.TestSettings, scenario: str, dataset_size: int) -> str:
    """'12 of 500 samples' where the total is known (accuracy mode: every sample once; a fixed query count),
    else the samples done and what LoadGen runs at least (its minimum count and duration): a performance run
    lasts until both are reached, so min_query_count alone is no total."""
    if settings.mode == lg.TestMode.AccuracyOnly:
        return f"{done} of {dataset_size} samples"
    least = _least_samples(settings, scenario)
    if settings.min_duration_ms == 0 and settings.max_query_count == settings.min_query_count:
        return f"{done} of {least} samples"
    floor = [f"{least:,} samples"] + ([f"{settings.min_duration_ms / 1000:g} s"] if settings.min_duration_ms else [])
    return f"{done} samples (LoadGen runs at least {' and '.join(floor)})"


def _counting(postprocess: Postprocess, on_batch: Callable[[int], None]) -> Postprocess:
    """The same post-processing, reporting each batch's sample count."""

    def counted(outputs, indices):
        payloads = postprocess(outputs, indices)
        on_batch(len(indices))
        return payloads

    return counted
