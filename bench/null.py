"""Row 3: the null backend through the harness (what is left is common/'s QSL and SUTs, and LoadGen).

Uses the overhead table's settings, data set and Server peak search (bench/harness_overhead.py), so both
tables mean the same.
Two tasks collate the batches: ``StackTask`` (np.stack: a copy of every sample, what any task pays for
samples that are not consecutive rows, as in Server batches) and :class:`ViewTask`, which takes a batch
the QSL hands over as a view of its block as it is (as the image tasks' collate does).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench import goals
from bench import harness_overhead as ho
from bench.harness_overhead import search_peak
from bench.options import OverheadOptions
from bench.rows import Row, absolute
from common.benchmark import Dataset, Samples


class ViewTask(ho.StackTask):
    """StackTask that passes a batch already assembled as one array (a view of a block) through unchanged."""

    def collate(self, samples: Samples) -> dict[str, np.ndarray]:
        if isinstance(samples, np.ndarray):
            return {"input": samples}
        return super().collate(samples)


def options(output: Path, server_seconds: float, offline_samples: int) -> OverheadOptions:
    """The overhead table's defaults (ResNet50's v0.5 settings, batch 32, one worker) with our durations."""
    return OverheadOptions(output=output, server_seconds=server_seconds, offline_samples=offline_samples,
                           peak_max_qps=512000.0)


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
            summary = ho.run_harness(
                ho.scenario_settings("Server", opts, qps),
                "Server",
                dataset,
                opts,
                outdir / f"{qps:.0f}qps-{attempt + 1}",
                task=ho.StackTask(),
            )
            p99 = summary.percentile_ns(99)
            tried.append([qps, bool(summary.valid), None if p99 is None else p99 / 1e6])
            if summary.valid:
                return True
        return False

    return search_peak(valid, PEAK_START_QPS, opts.peak_max_qps, steps=3), tried


def null_rows(
    output: Path, shapes: Sequence[tuple[int, ...]], server_seconds: float, offline_samples: int
) -> list[Row]:
    """Offline samples/s (copying and view collation), Server peak QPS, SingleStream queries/s per shape."""
    opts = options(output, server_seconds, offline_samples)
    command = (
        f"python bench/run.py overhead --output {output} --scenarios Offline Server SingleStream "
        f"--server-seconds {server_seconds:g} --offline-samples {offline_samples}"
    )
    rows = []
    for shape in shapes:
        name = ho.shape_name(shape)
        dataset = ho.ArrayDataset(opts.samples, shape)
        base = output / name
        for label, task in (("np.stack collate", ho.StackTask()), ("view collate", ViewTask())):
            runs = [
                ho.run_harness(
                    ho.scenario_settings("Offline", opts),
                    "Offline",
                    dataset,
                    opts,
                    base / "Offline" / f"{label.split()[0]}-{run + 1}",
                    task=task,
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
                    goals.NULL_OFFLINE,
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
                goals.NULL_SERVER,
                command=command,
                note=PEAK_NOTE,
                details={"tried": tried},
            )
        )
        summary = ho.run_harness(
            ho.scenario_settings("SingleStream", opts),
            "SingleStream",
            dataset,
            opts,
            base / "SingleStream",
            task=ho.StackTask(),
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
