"""Row 3: the null backend through the harness (what is left is common/'s QSL and SUTs, and LoadGen).

Uses bench/harness_overhead.py's settings, data set and Server peak search, so both tables mean the same.
Two tasks collate the batches: ``StackTask`` (np.stack: a copy of every sample, what any task pays for
samples that are not consecutive rows, as in Server batches) and :class:`ViewTask`, which takes a batch
the QSL hands over as a view of its slab as it is (as the image tasks' collate does).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from pathlib import Path

import mlperf_loadgen as lg
import numpy as np

from bench import harness_overhead as ho
from bench.rows import Row, absolute
from common.backends import make_backend
from common.benchmark import Dataset, Samples, Task
from common.loadgen_log import LoadGenSummary, parse_summary
from common.qsl import SampleLibrary
from common.settings import log_settings
from common.sut import BatchRunner, Failure, make_sut, null_postprocess

OFFLINE_GOAL = ">= 219000"  # issue 7: 10x the v0.5 harness's 21,900 samples/s here
SERVER_GOAL = ">= 90000"  # issue 7: 5x the ~18,000 QPS the v0.5 harness sustained


class ViewTask(ho.StackTask):
    """StackTask that passes a batch already assembled as one array (a slab view) through unchanged."""

    def collate(self, samples: Samples) -> dict[str, np.ndarray]:
        if isinstance(samples, np.ndarray):
            return {"input": samples}
        return super().collate(samples)


def options(output: Path, server_seconds: float, offline_samples: int) -> ho.Options:
    """harness_overhead's defaults (ResNet50's v0.5 settings, batch 32, one worker) with our durations."""
    return ho.parse_args(
        [
            "--output",
            str(output),
            "--server-seconds",
            f"{server_seconds:g}",
            "--offline-samples",
            str(offline_samples),
            "--peak-max-qps",
            "512000",
        ]
    )


def run_null(
    settings: lg.TestSettings, scenario: str, dataset: Dataset, task: Task, opts: ho.Options, outdir: Path
) -> LoadGenSummary:
    """The null backend through SampleLibrary and the scenario's SUT, with ``task`` collating."""
    backend = make_backend("null", threads=1)
    backend.load(None, task.io)
    failure = Failure(fail_fast=False)
    qsl = SampleLibrary(dataset, settings.performance_sample_count_override)
    sut = make_sut(
        scenario,
        BatchRunner(qsl, task, backend, null_postprocess, failure),
        opts.max_batchsize,
        opts.workers,
        opts.batch_timeout_ms,
    )
    try:
        lg.StartTestWithLogSettings(sut.handle, qsl.handle, settings, log_settings(outdir))
    finally:
        sut.stop()
        qsl.destroy()
    if qsl.error or failure.error:
        raise RuntimeError(f"the null run failed: {qsl.error or failure.error}")
    return parse_summary(outdir / "mlperf_log_summary.txt")


OFFLINE_RUNS = 3  # a null Offline run lasts a fraction of a second: the first in a process runs cold
PEAK_START_QPS = 10000.0
PEAK_TRIES = 2  # a target counts as VALID when one of this many runs is (stalls of a shared machine)
PEAK_NOTE = (
    f"highest target QPS with a VALID LoadGen run (p99 within the bound); doubling from "
    f"{PEAK_START_QPS:g} (halved first if it fails), then 3 bisections; up to {PEAK_TRIES} runs per target"
)


def server_peak(dataset: Dataset, opts: ho.Options, outdir: Path) -> tuple[float | None, list[list]]:
    """The highest Server target QPS with a VALID run, and every (qps, valid, p99 ms) tried."""
    tried: list[list] = []

    def valid(qps: float) -> bool:
        for attempt in range(PEAK_TRIES):
            summary = run_null(
                ho.scenario_settings("Server", opts, qps),
                "Server",
                dataset,
                ho.StackTask(),
                opts,
                outdir / f"{qps:.0f}qps-{attempt + 1}",
            )
            p99 = summary.percentile_ns(99)
            tried.append([qps, bool(summary.valid), None if p99 is None else p99 / 1e6])
            if summary.valid:
                return True
        return False

    return search_peak(valid, PEAK_START_QPS, opts.peak_max_qps, steps=3), tried


def search_peak(
    valid: Callable[[float], bool], start: float, ceiling: float, steps: int, halvings: int = 3
) -> float | None:
    """The highest rate that ``valid`` accepts: from ``start`` halved up to ``halvings`` times until one
    passes, then doubled while valid (up to ``ceiling``), then ``steps`` bisections; None if none passes."""
    low, high, failed = None, start, None
    for _ in range(halvings + 1):
        if valid(high):
            low = high
            break
        failed, high = high, high / 2
    if low is None:
        return None
    if failed is None:  # the start passed: double until a target fails or the ceiling is reached
        high = low * 2
        while high <= ceiling and valid(high):
            low, high = high, high * 2
        if high > ceiling:
            return low
    else:
        high = failed
    for _ in range(steps):
        middle = (low + high) / 2
        low, high = (middle, high) if valid(middle) else (low, middle)
    return low


def null_rows(
    output: Path, shapes: Sequence[tuple[int, ...]], server_seconds: float, offline_samples: int
) -> list[Row]:
    """Offline samples/s (copying and view collation), Server peak QPS, SingleStream queries/s per shape."""
    opts = options(output, server_seconds, offline_samples)
    command = (
        f"python bench/harness_overhead.py --output {output} --scenarios Offline Server SingleStream "
        f"--server-seconds {server_seconds:g} --offline-samples {offline_samples}"
    )
    rows = []
    for shape in shapes:
        name = ho.shape_name(shape)
        dataset = ho.ArrayDataset(opts.samples, shape)
        base = output / name
        for label, task in (("np.stack collate", ho.StackTask()), ("view collate", ViewTask())):
            runs = [
                run_null(
                    ho.scenario_settings("Offline", opts),
                    "Offline",
                    dataset,
                    task,
                    opts,
                    base / "Offline" / f"{label.split()[0]}-{run + 1}",
                )
                for run in range(OFFLINE_RUNS)
            ]
            rates = [summary.metric_value for summary in runs]
            rows.append(
                absolute(
                    "3 null backend",
                    f"null Offline {name} b{opts.max_batchsize} {label}",
                    statistics.median(rates),
                    "samples/s",
                    OFFLINE_GOAL,
                    command=command,
                    note=f"median of {OFFLINE_RUNS} runs",
                    details={"runs": rates, "valid": all(summary.valid for summary in runs)},
                )
            )
        peak, tried = server_peak(dataset, opts, base / "Server-peak")
        rows.append(
            absolute(
                "3 null backend",
                f"null Server {name} b{opts.max_batchsize} peak VALID QPS at "
                f"{ho.server_bound_ms(opts):g} ms",
                peak,
                "QPS",
                SERVER_GOAL,
                command=command,
                note=PEAK_NOTE,
                details={"tried": tried},
            )
        )
        summary = run_null(
            ho.scenario_settings("SingleStream", opts),
            "SingleStream",
            dataset,
            ho.StackTask(),
            opts,
            base / "SingleStream",
        )
        qps = summary.fields.get("QPS w/ loadgen overhead")
        rows.append(
            absolute(
                "3 null backend",
                f"null SingleStream {name}",
                float(qps) if qps else None,
                "queries/s",
                command=command,
                details={"p90_us": (summary.percentile_ns(90) or 0) / 1e3, "valid": summary.valid},
            )
        )
    return rows
