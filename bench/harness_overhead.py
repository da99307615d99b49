"""What our harness costs: the null backend through common/'s QSL and SUTs next to a minimal inline SUT.

Both systems run on the same LoadGen, in the same process, with the same TestSettings (the v0.5 ResNet50
settings with small counts): Offline and Server throughput and SingleStream latency, printed as ratios
(harness / inline) and written to OUTPUT/harness_overhead.{txt,json}; LoadGen's logs of every run land in
OUTPUT/<sample shape>/<scenario>/<inline|harness>/.

The minimal inline SUT answers every query at once in LoadGen's issue callback and never touches data. The
harness path is the one ``mlperf-ref run --backend null`` takes once its data are loaded, through the same
run core (common.loadgen_phase): SampleLibrary (samples in memory), the scenario's SUT from common.sut
(worker threads, batching), Task.collate (one copy of the batch), the null backend, the payloads handed
back to LoadGen.

Usage: python bench/run.py overhead --output DIR [--repeats N] [--sample-shape 3,224,224 ...]
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlperf_loadgen as lg
import numpy as np

from bench.options import OverheadOptions as Options
from common.atomic import atomic_write_text
from common.backends.null_backend import NullBackend, answer_as_is
from common.benchmark import Dataset, ModelIO, Samples, Task
from common.loadgen_log import LoadGenSummary, parse_summary
from common.loadgen_phase import SutOptions, run_loadgen_phase
from common.settings import Overrides, build_settings, log_settings
from tools.search.bisection import find_edge


class ArrayDataset(Dataset):
    """``count`` float32 samples of one shape, as rows of one array (as the image datasets give them)."""

    def __init__(self, count: int, shape: tuple[int, ...]) -> None:
        self.count = count
        self.shape = shape

    def __len__(self) -> int:
        return self.count

    def load(self, indices: Sequence[int]) -> np.ndarray:
        return np.stack([np.full(self.shape, i % 251 / 251, dtype=np.float32) for i in indices])


class StackTask(Task):
    """Collates like the image tasks (one stacked input); the null backend's answer goes back as is."""

    io = ModelIO(inputs=("input",), outputs=("output",), layout="NCHW")

    def collate(self, samples: Samples) -> dict[str, np.ndarray]:
        # One copy of every sample per batch: a batch the QSL gathered (base None) already is that copy,
        # a view of its block is copied here.
        if isinstance(samples, np.ndarray):
            return {"input": samples if samples.base is None else samples.copy()}
        return {"input": np.stack(samples)}

    def postprocess(self, outputs: Sequence[np.ndarray], indices: Sequence[int]) -> list[bytes]:
        return answer_as_is(outputs, indices)


@dataclass(frozen=True)
class Setup:
    """One row group of the table: a scenario; for Server a fixed target QPS or the peak search."""

    scenario: str
    server_qps: float | None = None  # Server at this target QPS; None for Server means the peak search

    @property
    def peak(self) -> bool:
        return self.scenario == "Server" and self.server_qps is None

    @property
    def label(self) -> str:
        if self.scenario != "Server":
            return self.scenario
        return "Server peak" if self.peak else f"Server {self.server_qps:g}/s"

    @property
    def folder(self) -> str:
        return self.label.replace(" ", "-").replace("/s", "qps")


def setups(opts: Options) -> list[Setup]:
    found = []
    for scenario in opts.scenarios:
        if scenario == "Server":
            found.extend([Setup(scenario)] + [Setup(scenario, qps) for qps in opts.server_qps])
        else:
            found.append(Setup(scenario))
    return found


def scenario_settings(scenario: str, opts: Options, server_qps: float | None = None) -> lg.TestSettings:
    """The v0.5 settings of ``opts.model`` with counts small enough for seconds; the same for both systems."""
    counts = {
        "Offline": opts.offline_samples,
        "Server": max(1, round((server_qps or 1) * opts.server_seconds)),
        "SingleStream": opts.singlestream_queries,
    }
    overrides = Overrides(
        target_qps=server_qps,
        min_duration_ms=0,
        min_query_count=counts[scenario],
        max_query_count=0,
        performance_sample_count=opts.samples,
    )
    return build_settings(opts.model, scenario, "performance", overrides=overrides)


def run_inline(settings: lg.TestSettings, samples: int, outdir: Path) -> LoadGenSummary:
    """The minimal SUT: answer every query at once, inside LoadGen's issue callback."""

    def issue_queries(query_samples: list) -> None:
        lg.QuerySamplesComplete([lg.QuerySampleResponse(q.id, 0, 0) for q in query_samples])

    sut = lg.ConstructSUT(issue_queries, lambda: None)
    qsl = lg.ConstructQSL(samples, samples, lambda indices: None, lambda indices: None)
    try:
        lg.StartTestWithLogSettings(sut, qsl, settings, log_settings(outdir))
    finally:
        lg.DestroyQSL(qsl)
        lg.DestroySUT(sut)
    return parse_summary(outdir / "mlperf_log_summary.txt")


def run_harness(settings: lg.TestSettings, scenario: str, dataset: Dataset, opts: Options,
                outdir: Path, task: Task | None = None) -> LoadGenSummary:
    """The null backend through the run core (QSL, the scenario's SUT), ``task`` collating (StackTask)."""
    task = task or StackTask()
    backend = NullBackend(threads=1)
    backend.load(None, task.io)
    sut = SutOptions(scenario, opts.max_batchsize, opts.workers, opts.batch_timeout_ms)
    run_loadgen_phase(settings, dataset, task, backend, sut, outdir)
    return parse_summary(outdir / "mlperf_log_summary.txt")


# figure name -> (how to read it from a summary, unit, True where higher is better)
Figure = tuple[Callable[[LoadGenSummary], float | None], str, bool]
FIGURES: dict[str, dict[str, Figure]] = {
    "Offline": {"samples/s": (lambda s: s.metric_value, "samples/s", True)},
    "Server": {"p99 latency": (lambda s: _us(s.percentile_ns(99)), "us", False)},
    "SingleStream": {
        "p90 latency": (lambda s: _us(s.percentile_ns(90)), "us", False),
        "mean latency": (lambda s: _us(s.mean_latency_ns), "us", False),
    },
}
PEAK_FIGURE = "peak QPS, p99 in bound"


def _us(ns: float | None) -> float | None:
    return None if ns is None else ns / 1e3


def shape_name(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


def run_system(system: str, settings: lg.TestSettings, scenario: str, dataset: Dataset, opts: Options,
               outdir: Path) -> LoadGenSummary:
    if system == "inline":
        return run_inline(settings, opts.samples, outdir)
    return run_harness(settings, scenario, dataset, opts, outdir)


PEAK_FLOOR_HALVINGS = 6  # below peak_start_qps / 64 the search gives up (None)


def find_peak_qps(system: str, dataset: Dataset, opts: Options, outdir: Path) -> float | None:
    """The highest Server target QPS whose p99 LoadGen finds within the bound: doubled from
    ``peak_start_qps`` (halved while it misses), then ``peak_steps`` bisections; None when even
    ``peak_start_qps / 64`` misses the bound."""

    def meets(qps: float) -> bool:
        summary = run_system(system, scenario_settings("Server", opts, qps), "Server", dataset, opts,
                             outdir / f"{qps:.0f}qps")
        return bool(summary.performance_constraints_satisfied)

    return search_peak(meets, opts.peak_start_qps, opts.peak_max_qps, opts.peak_steps, PEAK_FLOOR_HALVINGS)


def search_peak(
    valid: Callable[[float], bool], start: float, ceiling: float, steps: int, halvings: int = 3
) -> float | None:
    """The highest rate that ``valid`` accepts: from ``start`` halved up to ``halvings`` times until one
    passes, then doubled while valid (up to ``ceiling``), then ``steps`` bisections; None if none passes."""
    width = 0.0  # the first bracket's, [low, 2 low]: each bisection halves it

    def close(low: float, high: float) -> bool:
        nonlocal width
        width = width or high - low
        return high - low <= width / 2**steps * (1 + 1e-9)

    floor = start / 2**halvings
    edge = find_edge(valid, start, widen=lambda q: q * 2 if q * 2 <= ceiling else None,
                     narrow=lambda q: q / 2 if q / 2 >= floor else None, middle=lambda low, high: (low + high) / 2,
                     close=close, max_trials=halvings + 2 * steps + 64)
    return edge.good


def _measure_once(setup: Setup, system: str, dataset: Dataset, opts: Options, outdir: Path) -> dict[str, Any]:
    """One system's figures for one setup: {figure: value}, plus LoadGen's verdict where one run gives it."""
    if setup.peak:
        return {PEAK_FIGURE: find_peak_qps(system, dataset, opts, outdir)}
    summary = run_system(system, scenario_settings(setup.scenario, opts, setup.server_qps), setup.scenario,
                         dataset, opts, outdir)
    return {name: read(summary) for name, (read, _, _) in FIGURES[setup.scenario].items()}


def measure(opts: Options) -> list[dict[str, Any]]:
    """Every setup and shape, both systems, ``repeats`` times; one row per figure (medians)."""
    rows = []
    for shape in opts.shapes:
        dataset = ArrayDataset(opts.samples, shape)
        for setup in setups(opts):
            runs: dict[str, list[dict[str, Any]]] = {"inline": [], "harness": []}
            for repeat in range(opts.repeats):
                base = opts.output / shape_name(shape) / setup.folder
                suffix = f"-{repeat + 1}" if opts.repeats > 1 else ""
                started = time.perf_counter()
                order = ["inline", "harness"] if repeat % 2 == 0 else ["harness", "inline"]  # no order bias
                for system in order:
                    runs[system].append(_measure_once(setup, system, dataset, opts, base / f"{system}{suffix}"))
                print(f"{shape_name(shape)} {setup.label} run {repeat + 1}/{opts.repeats}: "
                      f"{time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
            figures = {PEAK_FIGURE: ("QPS", True)} if setup.peak else {
                name: (unit, higher) for name, (_, unit, higher) in FIGURES[setup.scenario].items()
            }
            for name, (unit, higher_better) in figures.items():
                values = {system: [run[name] for run in found] for system, found in runs.items()}
                inline, harness = _median(values["inline"]), _median(values["harness"])
                rows.append({
                    "sample_shape": shape_name(shape), "scenario": setup.scenario, "label": setup.label,
                    "server_qps": setup.server_qps, "figure": name, "unit": unit,
                    "inline": inline, "harness": harness,
                    "ratio": harness / inline if inline and harness is not None else None,
                    "higher_is_better": higher_better, "runs": values,
                })
    return rows


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f}"


def format_table(rows: list[dict[str, Any]], opts: Options, load: tuple[float, float]) -> str:
    header = f"{'sample':<11} {'scenario':<16} {'figure':<22} {'unit':<10} {'inline SUT':>13} " \
             f"{'harness+null':>13} {'harness/inline':>15}"
    lines = [
        "Harness overhead: the null backend through common/'s QSL and SUTs vs a minimal inline SUT,",
        f"same LoadGen {lg_version()}, same process, same settings ({opts.model} v0.5 with small counts); "
        f"median of {opts.repeats} run(s).",
        f"Offline {opts.offline_samples} samples; Server {opts.server_seconds:g} s per run, peak = highest "
        f"target QPS with p99 within LoadGen's bound ({server_bound_ms(opts):g} ms); "
        f"SingleStream {opts.singlestream_queries} queries; max batch {opts.max_batchsize}, "
        f"{opts.workers} worker(s), Server batch wait {opts.batch_timeout_ms:g} ms.",
        f"{os.cpu_count()} CPUs; 1-minute load average {load[0]:.2f} before, {load[1]:.2f} after "
        f"(other work on the machine shows up in the tail latencies).",
        "",
        header,
        "-" * len(header),
    ]
    for row in rows:
        ratio = "n/a" if row["ratio"] is None else f"{row['ratio']:.3f}"
        inline, harness = _figure(row["inline"]), _figure(row["harness"])
        if row["figure"] == PEAK_FIGURE:  # the search stops at its ceiling: the peak is at least that
            inline, harness = (f">={text}" if value is not None and value >= opts.peak_max_qps else text
                               for text, value in ((inline, row["inline"]), (harness, row["harness"])))
            ratio = f"~{ratio}" if ">=" in inline + harness else ratio
        lines.append(f"{row['sample_shape']:<11} {row['label']:<16} {row['figure']:<22} {row['unit']:<10} "
                     f"{inline:>13} {harness:>13} {ratio:>15}")
    lines.append("")
    lines.append("Throughput ratios below 1 and latency ratios above 1 are what the harness costs. Server latency")
    lines.append("through the harness includes up to --batch-timeout-ms of deliberate wait for a fuller batch.")
    lines.append(f"'>=': the peak search reached its ceiling (--peak-max-qps {opts.peak_max_qps:g}), the true peak "
                 "is higher; '~': the ratio is then only a bound.")
    return "\n".join(lines)


def server_bound_ms(opts: Options) -> float:
    return scenario_settings("Server", opts, 1.0).server_target_latency_ns / 1e6


def lg_version() -> str:
    from importlib import metadata

    return metadata.version("mlcommons-loadgen")


def report_overhead(opts: Options) -> int:
    """Measure, print the table and write OUTPUT/harness_overhead.{txt,json}."""
    load_before = os.getloadavg()[0]
    rows = measure(opts)
    load = (load_before, os.getloadavg()[0])
    table = format_table(rows, opts, load)
    print(table)
    atomic_write_text(opts.output / "harness_overhead.txt", table + "\n")
    options = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(opts).items()}
    atomic_write_text(opts.output / "harness_overhead.json",
                      json.dumps({"options": options, "loadgen": lg_version(), "cpus": os.cpu_count(),
                                  "load_average": load, "rows": rows}, indent=2) + "\n")
    print(f"\nwritten: {opts.output / 'harness_overhead.txt'} and harness_overhead.json", file=sys.stderr)
    return 0
