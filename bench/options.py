"""What a bench run is asked to do: the table's options and the harness-overhead table's, as dataclasses
whose defaults are the command line's, parsed once from ``python bench/run.py [overhead] ...``."""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.table import machine
from common.errors import UsageError
from common.registry import benchmark_names

ROWS = ("engine", "latency", "null", "server", "preprocess", "gnmt", "precision", "int8")
INT8_MODELS = ("resnet50", "mobilenet", "ssd-mobilenet")  # row 8: the models calibrate serves cheaply
CPU_BACKENDS = ("onnxruntime", "openvino", "pytorch", "tensorflow")
CLASSIFIERS = ("resnet50", "mobilenet")  # rows 1, 2 and 7 time image classifiers
OVERHEAD_SCENARIOS = ("Offline", "Server", "SingleStream")
RESNET50_INPUT = (3, 224, 224)  # v0.5 ResNet50 input, NCHW float32
OFFLINE_SAMPLES = 24576  # v0.5: an Offline run has at least 24,576 samples


def _default_server_precision() -> str:
    return "bf16" if "avx512_bf16" in machine()["flags"] else "fp32"


@dataclass(frozen=True)
class TableOptions:
    """The performance table (``python bench/run.py``)."""

    output: Path = Path("output/bench")
    work: Path | None = None  # models, sample data, caches (default OUTPUT/work)
    only: tuple[str, ...] = ROWS
    models: tuple[str, ...] = CLASSIFIERS
    backends: tuple[str, ...] = CPU_BACKENDS
    device: str = "cpu"
    reduced_precision: str = "bf16"
    precision_backends: tuple[str, ...] = ("openvino", "pytorch")
    threads: int = os.cpu_count() or 1
    batch: int = 8
    seconds: float = 4.0
    repeats: int = 2
    server_backend: str = "openvino"
    server_precision: str = "fp32"
    server_batch: int = 4
    server_wait_ms: float = 0.0
    server_relaxed_bound_ms: float = 50.0
    server_seconds: float = 3.0
    null_server_seconds: float = 2.0
    images: int = 2000
    gnmt_batch: int = 64
    int8_models: tuple[str, ...] = INT8_MODELS
    int8_backends: tuple[str, ...] = ("onnxruntime", "openvino")
    long: bool = False

    @property
    def work_dir(self) -> Path:
        return self.work or self.output / "work"

    def lengthened(self) -> TableOptions:
        """With --long: longer windows and more repeats and images."""
        if not self.long:
            return self
        return dataclasses.replace(self, seconds=max(self.seconds, 15), repeats=max(self.repeats, 3),
                                   server_seconds=10.0, null_server_seconds=5.0, images=max(self.images, 5000))


@dataclass(frozen=True)
class OverheadOptions:
    """The harness against a minimal inline SUT (``python bench/run.py overhead``)."""

    output: Path = Path("output/bench/overhead")
    model: str = "resnet50"  # whose v0.5 settings the runs use (seeds, percentiles, the Server bound)
    scenarios: tuple[str, ...] = OVERHEAD_SCENARIOS
    shapes: tuple[tuple[int, ...], ...] = ((1,), RESNET50_INPUT)
    repeats: int = 1
    samples: int = 64
    offline_samples: int = OFFLINE_SAMPLES
    server_qps: tuple[float, ...] = (1000.0,)
    peak_start_qps: float = 1000.0
    peak_max_qps: float = 256000.0
    peak_steps: int = 3
    server_seconds: float = 1.0
    singlestream_queries: int = 4096
    max_batchsize: int = 32
    workers: int = 1
    batch_timeout_ms: float = 2.0


@dataclass(frozen=True)
class GnmtInt8Options:
    """GNMT fp32 against dynamic int8 (``python bench/run.py gnmt-int8``)."""

    model: Path = Path("models/gnmt/translate.ckpt")  # the export's checkpoint
    samples: Path = Path("samples/wmt16")  # the sample set's wmt16 folder
    output: Path = Path("output/bench/gnmt-int8")
    threads: int = os.cpu_count() or 1
    repeats: int = 3
    full_sentences: int = 8  # sentences of the official-size model at batch 1
    no_full_size: bool = False  # skip the 1024-unit model


def _number(kind: type, zero: bool = False) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            value = -1
        if value < 0 or (value == 0 and not zero):
            bound = "of at least 0" if zero else "above 0"
            raise argparse.ArgumentTypeError(f"{text!r}: give a {kind.__name__} {bound}")
        return value

    return parse


def _shape(text: str) -> tuple[int, ...]:
    parts = text.split(",")
    if not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"{text!r}: give positive sizes separated by commas, e.g. 3,224,224")
    return tuple(int(p) for p in parts)


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one UsageError line (exit 2 in main)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def _table_parser() -> argparse.ArgumentParser:
    d = TableOptions(server_precision=_default_server_precision())
    p = _Parser(prog="bench/run.py", description="The performance table; 'bench/run.py overhead --help' for the "
                "harness against a minimal inline SUT.", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--output", type=Path, default=d.output, help="table, json and logs")
    p.add_argument("--work", type=Path, help="models, sample data, caches (default OUTPUT/work)")
    p.add_argument("--only", nargs="+", choices=ROWS, default=list(d.only), help="run only these row groups")
    p.add_argument("--models", nargs="+", default=list(d.models), choices=CLASSIFIERS)
    p.add_argument("--backends", nargs="+", default=list(d.backends), choices=CPU_BACKENDS,
                   help="engines of rows 1 and 2 (every CPU backend by default)")
    p.add_argument("--device", default=d.device, choices=["cpu", "cuda"], help="rows 1, 2 and 7 (see gpu.sh)")
    p.add_argument("--reduced-precision", default=d.reduced_precision, choices=["bf16", "fp16"], help="row 7")
    p.add_argument("--precision-backends", nargs="+", default=list(d.precision_backends),
                   choices=["openvino", "pytorch"], help="row 7's engines")
    p.add_argument("--threads", type=_number(int), default=d.threads, help="engine threads")
    p.add_argument("--batch", type=_number(int), default=d.batch, help="Offline batch of rows 1 and 7")
    p.add_argument("--seconds", type=_number(float), default=d.seconds,
                   help="each timed window: raw engine loop, LoadGen min_duration")
    p.add_argument("--repeats", type=_number(int), default=d.repeats, help="harness runs per Offline row")
    p.add_argument("--server-backend", default=d.server_backend, choices=["onnxruntime", "openvino"])
    p.add_argument("--server-precision", default=d.server_precision, choices=["fp32", "bf16"],
                   help="row 4 (default: bf16 where the CPU has it)")
    p.add_argument("--server-batch", type=_number(int), default=d.server_batch, help="row 4: the dynamic batch")
    p.add_argument("--server-wait-ms", type=_number(float, zero=True), default=d.server_wait_ms,
                   help="row 4: how long a queued sample may wait for a fuller batch (0: take what is queued)")
    p.add_argument("--server-relaxed-bound-ms", type=float, default=d.server_relaxed_bound_ms,
                   help="row 4 again at this Server bound (what a loaded machine can meet); 0: skip")
    p.add_argument("--server-seconds", type=_number(float), default=d.server_seconds, help="row 4: each Server run")
    p.add_argument("--null-server-seconds", type=_number(float), default=d.null_server_seconds,
                   help="row 3: each null Server run")
    p.add_argument("--images", type=_number(int), default=d.images,
                   help="row 5: JPEGs to preprocess (real runs preprocess 50,000; a few hundred last under a second)")
    p.add_argument("--gnmt-batch", type=_number(int), default=d.gnmt_batch, help="row 6: the batched run")
    p.add_argument("--int8-models", nargs="+", default=list(d.int8_models), choices=INT8_MODELS,
                   help="row 8: int8 (calibrated on the sample list) against raw fp32 onnxruntime")
    p.add_argument("--int8-backends", nargs="+", default=list(d.int8_backends), choices=["onnxruntime", "openvino"],
                   help="row 8's engines")
    p.add_argument("--long", action="store_true",
                   help="longer windows: --seconds 15 --repeats 3 --server-seconds 10 --images 5000")
    return p


def _overhead_parser() -> argparse.ArgumentParser:
    d = OverheadOptions()
    p = _Parser(prog="bench/run.py overhead", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                description="The harness (null backend through common/'s QSL and SUTs) against a minimal inline "
                            "SUT, on the same LoadGen, in one process.")
    p.add_argument("--output", type=Path, required=True, help="folder for the table and the LoadGen logs")
    p.add_argument("--model", choices=benchmark_names(), default=d.model,
                   help="whose v0.5 settings to use (seeds, latency percentiles, the Server bound)")
    p.add_argument("--scenarios", nargs="+", choices=OVERHEAD_SCENARIOS, default=list(d.scenarios))
    p.add_argument("--sample-shape", type=_shape, action="append", dest="shapes",
                   help="float32 sample shape, repeatable (default: 1 and 3,224,224, ResNet50's input)")
    p.add_argument("--repeats", type=_number(int), default=d.repeats, help="runs per system; medians are shown")
    p.add_argument("--samples", type=_number(int), default=d.samples, help="samples loaded in memory (QSL)")
    p.add_argument("--offline-samples", type=_number(int), default=d.offline_samples)
    p.add_argument("--server-qps", type=_number(float), nargs="+", default=list(d.server_qps),
                   help="Server target QPS for the latency rows, one run each")
    p.add_argument("--server-seconds", type=_number(float), default=d.server_seconds,
                   help="length of each Server run")
    p.add_argument("--peak-start-qps", type=_number(float), default=d.peak_start_qps,
                   help="Server peak search: first target QPS, doubled while p99 stays within the bound")
    p.add_argument("--peak-max-qps", type=_number(float), default=d.peak_max_qps, help="the search's ceiling")
    p.add_argument("--peak-steps", type=_number(int), default=d.peak_steps,
                   help="bisection steps after doubling (3: within 1/8 of the last doubling)")
    p.add_argument("--singlestream-queries", type=_number(int), default=d.singlestream_queries)
    p.add_argument("--max-batchsize", type=_number(int), default=d.max_batchsize, help="Offline and Server batches")
    p.add_argument("--workers", type=_number(int), default=d.workers, help="SUT worker threads")
    p.add_argument("--batch-timeout-ms", type=_number(float), default=d.batch_timeout_ms,
                   help="Server: how long the first queued sample waits for a fuller batch")
    return p


def _gnmt_int8_parser() -> argparse.ArgumentParser:
    d = GnmtInt8Options()
    p = _Parser(prog="bench/run.py gnmt-int8", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                description="GNMT fp32 against dynamic int8 on the CPU: speed at batch 1 and 64, and how far "
                            "the translations move (bench/gnmt_int8.py).")
    p.add_argument("--model", type=Path, required=True, help="the export's translate.ckpt")
    p.add_argument("--samples", type=Path, required=True, help="the sample set's wmt16 folder")
    p.add_argument("--output", type=Path, required=True)
    p.add_argument("--threads", type=_number(int), default=d.threads)
    p.add_argument("--repeats", type=_number(int), default=d.repeats)
    p.add_argument("--full-sentences", type=_number(int), default=d.full_sentences,
                   help="sentences of the full size at batch 1")
    p.add_argument("--no-full-size", action="store_true", help="skip the 1024-unit model")
    return p


@dataclass(frozen=True)
class RayBenchOptions:
    """--ray against one process and the raw engine; the null backend through Ray (``bench/run.py ray``)."""

    output: Path = Path("output/bench/ray")
    work: Path | None = None  # models, sample data, caches (default OUTPUT/work)
    replicas: int = 2  # replicas x 1 thread on Ray; the one process and the raw engine get as many threads
    batch: int = 8  # ResNet50 Offline batch
    seconds: float = 4.0  # each Offline window (raw engine loop, LoadGen min_duration)
    repeats: int = 2
    null_batch: int = 64
    server_seconds: float = 4.0  # enough queries for LoadGen's early stopping at p99
    server_start_qps: float = 500.0
    server_max_qps: float = 64000.0
    round_trips: int = 500

    @property
    def work_dir(self) -> Path:
        return self.work or self.output / "work"


def _ray_parser() -> argparse.ArgumentParser:
    d = RayBenchOptions()
    p = _Parser(prog="bench/run.py ray", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                description="Runs on Ray replicas (--ray) against one process and raw onnxruntime at the same "
                            "cores; the null backend through Ray: Offline, Server peak, a batch's round trip.")
    p.add_argument("--output", type=Path, default=d.output)
    p.add_argument("--work", type=Path, help="models, sample data, caches (default OUTPUT/work)")
    p.add_argument("--replicas", type=_number(int), default=d.replicas)
    p.add_argument("--batch", type=_number(int), default=d.batch, help="ResNet50 Offline batch")
    p.add_argument("--seconds", type=_number(float), default=d.seconds, help="each Offline window")
    p.add_argument("--repeats", type=_number(int), default=d.repeats)
    p.add_argument("--null-batch", type=_number(int), default=d.null_batch)
    p.add_argument("--server-seconds", type=_number(float), default=d.server_seconds)
    p.add_argument("--server-start-qps", type=_number(float), default=d.server_start_qps)
    p.add_argument("--server-max-qps", type=_number(float), default=d.server_max_qps)
    p.add_argument("--round-trips", type=_number(int), default=d.round_trips)
    return p


Options = TableOptions | OverheadOptions | GnmtInt8Options | RayBenchOptions


def parse(argv: Sequence[str]) -> Options:
    """The options of ``bench/run.py ARGV``: the table's, or the overhead table's (``overhead`` first), or
    the GNMT int8 comparison's (``gnmt-int8`` first)."""
    argv = list(argv)
    if argv[:1] == ["ray"]:
        return RayBenchOptions(**vars(_ray_parser().parse_args(argv[1:])))
    if argv[:1] == ["gnmt-int8"]:
        return GnmtInt8Options(**vars(_gnmt_int8_parser().parse_args(argv[1:])))
    if argv[:1] == ["overhead"]:
        a = _overhead_parser().parse_args(argv[1:])
        return OverheadOptions(
            output=a.output, model=a.model, scenarios=tuple(dict.fromkeys(a.scenarios)),
            shapes=tuple(a.shapes or OverheadOptions.shapes), repeats=a.repeats, samples=a.samples,
            offline_samples=a.offline_samples, server_qps=tuple(dict.fromkeys(a.server_qps)),
            peak_start_qps=a.peak_start_qps, peak_max_qps=max(a.peak_max_qps, a.peak_start_qps),
            peak_steps=a.peak_steps, server_seconds=a.server_seconds, singlestream_queries=a.singlestream_queries,
            max_batchsize=a.max_batchsize, workers=a.workers, batch_timeout_ms=a.batch_timeout_ms,
        )
    a = vars(_table_parser().parse_args(argv))
    for name in ("only", "models", "backends", "precision_backends", "int8_models", "int8_backends"):
        a[name] = tuple(a[name])
    return TableOptions(**a).lengthened()
