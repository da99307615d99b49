#!/usr/bin/env python3
"""Where one sample's time goes, per model and engine, against the machine's own multiply-accumulate limit.

For each case (benchmark, backend, precision, model file) in one run:
- preprocessing: the benchmark's own preprocessing of the sample images into a cold cache, one thread
  (ms per image; a real run does this once, before LoadGen, on all cores);
- engine: ``predict`` on ready batches (the whole graph, the detectors' in-graph decoding and NMS included);
  for a graph with raw head outputs (our SSD exports) also the network alone (the graph cut at the heads
  with ``onnx.utils.extract_model``), so that in-graph post-processing = engine - network;
- task post-processing: ``Task.postprocess`` on the engine's outputs (payloads for LoadGen);
- harness: what an Offline LoadGen run through ``common.runner`` costs per sample beyond the two above;
- Offline samples/s through the harness and the SingleStream p90 (ms), LoadGen's own figures;
- limit: the machine's dense multiply-accumulate rate at --threads (one large onnxruntime MatMulInteger,
  u8 x s8, and MatMul fp32, 2048 x 2048 x 2048), measured before and after the cases, divided by the
  model's MACs per image, counted from the fp32 graph's Conv, Gemm and MatMul nodes.

Models are random-weight exports and the data the synthetic sample sets (speed only, never quality);
LoadGen runs are short (measurements, not submission runs).

Usage: python bench/split.py --output DIR [--work DIR] [--offline-workers W]
    [--case NAME=BENCH:BACKEND:PRECISION[:MODEL]] ...
Without --case: every model's fp32 onnxruntime, int8 onnxruntime and int8 openvino on the bench workspace's
exports (bench/workspace.py). Writes DIR/split.md (the tables) and DIR/split.json (every figure).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import onnx

from bench.table import machine
from bench.workspace import Workspace, write_user_conf
from common.atomic import atomic_write_text
from common.environment import library_versions

MODELS = ("resnet50", "mobilenet", "ssd-mobilenet")
LIMIT_SIZE = 2048  # M = N = K of the limit's matrix product (8.6 GMAC a product)
RAW_HEADS = ("class_logits", "box_codes")  # our SSD-MobileNet export's extra outputs


@dataclass
class Case:
    name: str
    benchmark: str
    backend: str
    precision: str
    model: Path | None = None  # default: the workspace's export (int8: its calibrated file)


@dataclass
class Split:
    case: Case
    gmac: float = 0.0
    preprocess_ms: float | None = None
    engine_ms: float | None = None
    network_ms: float | None = None
    task_ms: float | None = None
    harness_ms: float | None = None
    offline: float | None = None
    offline_valid: bool | None = None
    singlestream_p90_ms: float | None = None
    singlestream_p50_ms: float | None = None
    notes: list[str] = field(default_factory=list)


# ---- the machine's limit -------------------------------------------------------------------------------

def _best_rate(run, macs: float, seconds: float) -> float:
    run()
    best, started = float("inf"), time.perf_counter()
    while time.perf_counter() - started < seconds:
        begin = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - begin)
    return macs / best / 1e9


def matmul_model(int8: bool) -> onnx.ModelProto:
    from onnx import TensorProto, helper, numpy_helper

    n = LIMIT_SIZE
    rng = np.random.default_rng(0)
    if int8:
        weight = numpy_helper.from_array(rng.integers(-128, 128, (n, n), dtype=np.int8), "w")
        node = helper.make_node("MatMulInteger", ["x", "w"], ["y"])
        x_type, y_type = TensorProto.UINT8, TensorProto.INT32
    else:
        weight = numpy_helper.from_array(rng.standard_normal((n, n)).astype(np.float32), "w")
        node = helper.make_node("MatMul", ["x", "w"], ["y"])
        x_type, y_type = TensorProto.FLOAT, TensorProto.FLOAT
    graph = helper.make_graph([node], "limit", [helper.make_tensor_value_info("x", x_type, [n, n])],
                              [helper.make_tensor_value_info("y", y_type, [n, n])], [weight])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def machine_limits(threads: int, seconds: float = 3.0) -> dict[str, float]:
    """GMAC/s of one large matrix product on onnxruntime: MatMulInteger (u8 x s8) and MatMul (fp32)."""
    import onnxruntime as ort

    n = LIMIT_SIZE
    macs = float(n) ** 3
    rng = np.random.default_rng(1)
    limits = {}
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    for key, int8 in (("ort_int8", True), ("ort_fp32", False)):
        session = ort.InferenceSession(matmul_model(int8).SerializeToString(), options,
                                       providers=["CPUExecutionProvider"])
        x = rng.integers(0, 256, (n, n), dtype=np.uint8) if int8 else rng.standard_normal((n, n)).astype(np.float32)
        limits[key] = _best_rate(lambda s=session, x=x: s.run(None, {"x": x}), macs, seconds)
    return limits


def model_gmac(path: Path) -> float:
    """GMAC per image of the graph's Conv, Gemm and MatMul nodes, from the tensor shapes of one run of the
    graph at batch 1 on onnxruntime (shape inference alone loses them behind the computed pads)."""
    import onnxruntime as ort

    model = onnx.load(str(path))
    weights = {t.name: list(t.dims) for t in model.graph.initializer}
    layers = [n for n in model.graph.node if n.op_type in ("Conv", "Gemm", "MatMul")]
    wanted = list(dict.fromkeys(name for n in layers for name in (n.input[0], n.input[1], n.output[0])
                                if name not in weights))
    known = {o.name for o in model.graph.output}
    model.graph.output.extend(onnx.ValueInfoProto(name=name) for name in wanted if name not in known)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = {}
    for value in session.get_inputs():
        shape = [1 if not isinstance(d, int) else d for d in value.shape]
        feeds[value.name] = np.zeros(shape, np.uint8 if "uint8" in value.type else np.float32)
    shapes = dict(weights)
    shapes.update(zip(wanted, (list(np.shape(a)) for a in session.run(wanted, feeds)), strict=True))
    macs = 0
    for node in layers:
        a, b, out = (shapes[name] for name in (node.input[0], node.input[1], node.output[0]))
        if node.op_type == "Conv":  # every output element: in-channels per group x kernel
            macs += int(np.prod(out)) * int(np.prod(b[1:]))
        else:  # Gemm / MatMul: every output element sums over the shared dimension
            macs += int(np.prod(out)) * (a[-1] if not any(x.name == "transA" and x.i for x in node.attribute)
                                         else a[-2])
    return macs / 1e9


# ---- one case -------------------------------------------------------------------------------------------

def _config(case: Case, ws: Workspace, scenario: str, batch: int, threads: int, conf: Path, output: Path,
            workers: int = 1):
    from common.runner import RunConfig

    return RunConfig(benchmark=case.benchmark, backend=case.backend, scenario=scenario, mode="performance",
                     model=case.model, dataset_path=ws.dataset(case.benchmark), output=output,
                     max_batchsize=batch, threads=threads, workers=workers, precision=case.precision,
                     user_conf=conf, cache_dir=ws.cache, progress=False)


def _per_sample_ms(run, samples: int, seconds: float) -> float:
    for _ in range(2):
        run()
    times, started = [], time.perf_counter()
    while time.perf_counter() - started < seconds or len(times) < 3:
        begin = time.perf_counter()
        run()
        times.append(time.perf_counter() - begin)
    return statistics.median(times) * 1e3 / samples


def preprocess_ms(case: Case, ws: Workspace, layout: str) -> float:
    """The benchmark's preprocessing of its sample images into an empty cache, one thread."""
    from common.benchmark import DatasetOptions
    from common.registry import get_benchmark

    bench = get_benchmark(case.benchmark)
    with tempfile.TemporaryDirectory(prefix="split-cache-") as tmp:
        dataset = bench.open_dataset(ws.dataset(case.benchmark),
                                     DatasetOptions(case.backend, layout, Path(tmp), 1, None, False))
        count = len(dataset)
        started = time.perf_counter()
        dataset.load(list(range(count)))
        return (time.perf_counter() - started) * 1e3 / count


def network_ms(model: Path, backend: str, precision: str, feeds: dict[str, np.ndarray], threads: int,
               seconds: float) -> float | None:
    """The graph cut at its raw heads, on the same engine: the network without the in-graph decoding."""
    graph = onnx.load(str(model), load_external_data=False)
    outputs = [o.name for o in graph.graph.output]
    if not set(RAW_HEADS) <= set(outputs):
        return None
    (name, batch), = ((k, len(v)) for k, v in feeds.items())
    with tempfile.TemporaryDirectory(prefix="split-net-") as tmp:
        cut = Path(tmp) / "network.onnx"
        onnx.utils.extract_model(str(model), str(cut), [name], list(RAW_HEADS))
        if backend == "openvino":
            import openvino as ov

            core = ov.Core()
            hint = {"bf16": "bf16", "fp16": "f16"}.get(precision, "f32")
            compiled = core.compile_model(core.read_model(str(cut)), "CPU", {
                "INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1,
                "INFERENCE_PRECISION_HINT": hint})
            request = compiled.create_infer_request()
            return _per_sample_ms(lambda: request.infer(feeds), batch, seconds)
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        session = ort.InferenceSession(str(cut), options, providers=["CPUExecutionProvider"])
        return _per_sample_ms(lambda: session.run(None, feeds), batch, seconds)


def measure(case: Case, ws: Workspace, batch: int, threads: int, seconds: float, offline_workers: int = 1) -> Split:
    from bench.engine import ready_feeds
    from common.runner import open_session

    if case.model is None:
        case.model = ws.int8_model(case.benchmark) if case.precision == "int8" else ws.model(case.benchmark)
    split = Split(case, gmac=model_gmac(ws.model(case.benchmark)))
    runs = ws.runs / "split" / case.name
    offline_conf = write_user_conf(runs / "offline.conf", {"Offline": {"min_duration": int(seconds * 1000),
                                                                       "min_query_count": 1}})
    session = open_session(_config(case, ws, "Offline", batch, threads, offline_conf, runs / "offline"))
    split.preprocess_ms = preprocess_ms(case, ws, session.task.io.layout)
    feeds = ready_feeds(session, batch)
    outputs = session.backend.predict(feeds[0])
    indices = list(range(batch))
    split.engine_ms = _per_sample_ms(lambda: session.backend.run_on_engine(session.backend.predict, feeds[0]),
                                     batch, seconds)
    split.network_ms = network_ms(Path(case.model), case.backend, case.precision, feeds[0], threads, seconds)
    split.task_ms = _per_sample_ms(lambda: session.task.postprocess(outputs, indices), batch, min(seconds, 1.0))
    if offline_workers > 1:  # the Offline run on W SUT workers of threads / W engine threads each
        session.close()
        session = open_session(_config(case, ws, "Offline", batch, max(1, threads // offline_workers), offline_conf,
                                       runs / "offline", offline_workers))
    phase = session.run_phase("performance", session.phase_options(target_qps=1.5e3 * batch / split.engine_ms))
    split.offline, split.offline_valid = phase.loadgen.metric_value, bool(phase.loadgen.valid)
    split.harness_ms = 1e3 / split.offline - split.engine_ms - split.task_ms
    single_conf = write_user_conf(runs / "singlestream.conf", {"SingleStream": {
        "min_duration": int(seconds * 1000), "min_query_count": 64}})
    single = open_session(_config(case, ws, "SingleStream", 1, threads, single_conf, runs / "singlestream"))
    result = single.run_phase("performance")
    split.singlestream_p90_ms = result.loadgen.latency_ms["p90"]
    split.singlestream_p50_ms = result.loadgen.latency_ms["p50"]
    return split


# ---- the table ------------------------------------------------------------------------------------------

def _f(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def tables(splits: list[Split], limits: dict[str, float]) -> str:
    lines = ["| case | engine | GMAC/img | preprocess (1 thread) | engine | of which network | in-graph post | "
             "task post | harness | Offline samples/s | int8 limit | ours / int8 limit | fp32 limit | "
             "SingleStream p90 (p50) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in splits:
        ort_limit = limits["ort_int8"] / s.gmac
        fp32_limit = limits["ort_fp32"] / s.gmac
        post = None if s.network_ms is None else s.engine_ms - s.network_ms
        lines.append(
            f"| {s.case.name} | {s.case.backend} {s.case.precision} | {s.gmac:.2f} | {_f(s.preprocess_ms)} ms | "
            f"{_f(s.engine_ms)} ms | {_f(s.network_ms)} | {_f(post)} | {_f(s.task_ms, 3)} ms | "
            f"{_f(s.harness_ms, 3)} ms | {_f(s.offline, 1)}{'' if s.offline_valid else ' (INVALID)'} | "
            f"{ort_limit:,.0f} | {s.offline / ort_limit:.0%} | {fp32_limit:,.0f} | "
            f"{_f(s.singlestream_p90_ms)} ({_f(s.singlestream_p50_ms)}) ms |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=Path("output/bench-split"))
    parser.add_argument("--work", type=Path, default=None, help="models, sample data, caches (default OUTPUT/work)")
    parser.add_argument("--case", action="append", default=[], metavar="NAME=BENCH:BACKEND:PRECISION[:MODEL]")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--offline-workers", type=int, default=1,
                        help="SUT workers of the Offline run (threads / workers engine threads each)")
    args = parser.parse_args(argv)
    ws = Workspace(args.work or args.output / "work")
    cases = []
    for text in args.case:
        name, _, spec = text.partition("=")
        parts = spec.split(":")
        if len(parts) < 3 or not name:
            parser.error(f"--case {text}: give NAME=BENCH:BACKEND:PRECISION[:MODEL]")
        cases.append(Case(name, parts[0], parts[1], parts[2], Path(parts[3]) if len(parts) > 3 else None))
    if not cases:
        cases = [Case(f"{m} {b} {p}", m, b, p) for m in args.models
                 for b, p in (("onnxruntime", "fp32"), ("onnxruntime", "int8"), ("openvino", "int8"))]
    started = dt.datetime.now(dt.UTC)
    load_before = os.getloadavg()
    limits_before = machine_limits(args.threads)
    splits = []
    for case in cases:
        print(f"[{dt.datetime.now():%H:%M:%S}] {case.name}", file=sys.stderr, flush=True)
        splits.append(measure(case, ws, args.batch, args.threads, args.seconds, args.offline_workers))
    limits_after = machine_limits(args.threads)
    limits = {k: (limits_before[k] + limits_after[k]) / 2 for k in limits_before}
    load_after = os.getloadavg()
    text = "\n".join([
        f"{started:%Y-%m-%d %H:%M} UTC, {' '.join(['python', 'bench/split.py', *(argv or sys.argv[1:])])}",
        f"load average (1, 5, 15 min) before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
        f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} on {os.cpu_count()} CPUs",
        f"limits, GMAC/s at {args.threads} threads (before / after): " + ", ".join(
            f"{k} {limits_before[k]:,.0f} / {limits_after[k]:,.0f}" for k in limits_before),
        "Random weights and synthetic data: speed only. Short LoadGen runs: measurements, not submission runs.",
        f"Times are ms per sample at batch {args.batch} (SingleStream: batch 1) on one SUT worker of "
        f"{args.threads} threads; the Offline run on {args.offline_workers} worker(s) of "
        f"{max(1, args.threads // args.offline_workers)} thread(s).",
        "", tables(splits, limits)])
    print(text)
    args.output.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.output / "split.md", text + "\n")
    atomic_write_text(args.output / "split.json", json.dumps({
        "machine": machine(), "libraries": library_versions(), "started": started.isoformat(),
        "load_before": load_before, "load_after": load_after, "limits_before": limits_before,
        "limits_after": limits_after, "splits": [asdict(s) for s in splits]}, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
