#!/usr/bin/env python3
"""Engines in turn on one model each: raw predict rates taken in alternating windows, for ratios on a busy machine.

Each SPEC is one engine and file: ``ort:MODEL`` (onnxruntime), ``ov:MODEL[:HINT]`` (OpenVINO, HINT an
inference precision such as bf16; f32 by default) or ``limit:int8`` / ``limit:fp32`` (one 2048-cube
onnxruntime MatMulInteger / MatMul, as bench/split.py's limit). Every round runs each SPEC for one
second of back-to-back batches; the best and the 25th-percentile batch time over all rounds are printed
(samples/s; GMAC/s for a limit). Inputs are random (uint8 for graphs that take images as bytes), the
detectors' raw head outputs are not fetched. Speed only, no quality.

Usage: python bench/alternate.py [--batch 8] [--rounds 4] [--threads 2] SPEC ...
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import numpy as np

from bench.split import LIMIT_SIZE, RAW_HEADS, matmul_model

Run = Callable[[dict[str, np.ndarray]], object]


def engine(spec: str, threads: int) -> tuple[str, str, list[int | str], Run]:
    """(input name, element type, input shape, run) for one SPEC."""
    kind, path, *rest = spec.split(":")
    if kind in ("ort", "limit"):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        source = matmul_model(path == "int8").SerializeToString() if kind == "limit" else path
        session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
        value = session.get_inputs()[0]
        outputs = [o.name for o in session.get_outputs() if o.name not in RAW_HEADS]
        return value.name, value.type, value.shape, lambda feeds: session.run(outputs, feeds)
    if kind == "ov":
        import openvino as ov

        core = ov.Core()
        model = core.read_model(path)
        compiled = core.compile_model(model, "CPU", {
            "INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1,
            "INFERENCE_PRECISION_HINT": rest[0] if rest else "f32"})
        request = compiled.create_infer_request()
        port = model.inputs[0]
        shape = [d.get_length() if d.is_static else "n" for d in port.get_partial_shape()]
        return port.get_any_name(), port.get_element_type().get_type_name(), shape, request.infer
    raise SystemExit(f"error: {spec}: give ort:MODEL, ov:MODEL[:HINT] or limit:int8|fp32")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("specs", nargs="+", metavar="SPEC")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    runs = []
    for spec in args.specs:
        name, kind, shape, run = engine(spec, args.threads)
        dims = [d if isinstance(d, int) and d > 0 else args.batch for d in shape]
        size = 1 if spec.startswith("limit") else dims[0]
        as_bytes = "uint8" in kind or kind == "u8"
        feeds = [{name: rng.integers(0, 256, dims).astype(np.uint8) if as_bytes
                  else rng.standard_normal(dims).astype(np.float32)} for _ in range(3)]
        for feed in feeds:  # warm-up: kernels built on first use
            run(feed)
        runs.append((spec, size, feeds, run, []))
    for _ in range(args.rounds):
        for _spec, _size, feeds, run, times in runs:
            started, count = time.perf_counter(), 0
            while time.perf_counter() - started < 1.0 or count < 2:
                begin = time.perf_counter()
                run(feeds[count % len(feeds)])
                times.append(time.perf_counter() - begin)
                count += 1
    for spec, size, _, _, times in runs:
        best, p25 = min(times), float(np.percentile(times, 25))
        if spec.startswith("limit"):
            work = float(LIMIT_SIZE) ** 3 / 1e9
            print(f"{spec:60s} best {work / best:8.1f}  p25 {work / p25:8.1f} GMAC/s")
        else:
            print(f"{spec:60s} best {size / best:8.1f}  p25 {size / p25:8.1f} samples/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
