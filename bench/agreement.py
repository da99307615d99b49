#!/usr/bin/env python3
"""How closely an int8 engine follows fp32 onnxruntime on the sample images, run as the harness runs it.

For each model: the fp32 export on onnxruntime against the calibrated int8 file on onnxruntime and on
OpenVINO, the latter in each stream layout given (``--layouts 1x2 2x1``: streams x threads per stream, as
``--workers`` and ``--threads`` set them), each through the harness's own backend. Classifiers: top-1
agreement and the median cosine of the centred log-probabilities on every sample image (the measure of
tests/vision/classification/test_int8.py); SSD-MobileNet: the per-anchor top-class agreement and the
smallest cosine of the raw class logits (tests/vision/ssd_mobilenet/test_int8.py). Random weights and
synthetic images: this says whether int8 keeps the function, never what it costs in quality on the real
data (the accuracy pass says that).

Usage: python bench/agreement.py [--work DIR] [--models M ...] [--layouts SxT ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from bench.workspace import Workspace
from common.backends import make_backend
from common.benchmark import DatasetOptions, ModelIO
from common.registry import get_benchmark

OUTPUT = {"resnet50": "softmax_tensor:0", "mobilenet": "MobilenetV1/Predictions/Reshape_1:0",
          "ssd-mobilenet": "class_logits"}  # what is compared: the classifiers' softmax, SSD's raw class logits
SAMPLES = {"resnet50": 20, "mobilenet": 20, "ssd-mobilenet": 8}


def engine_output(backend: str, model: Path, io: ModelIO, name: str, feeds: dict[str, np.ndarray], precision: str,
                  streams: int = 1, threads: int = 2) -> np.ndarray:
    """Output ``name`` of ``model`` on the harness's own backend (OpenVINO: ``streams`` of ``threads``)."""
    engine = make_backend(backend, threads, precision=precision, workers=streams)
    engine.load(model, ModelIO(io.inputs, (name,), io.layout))
    return np.asarray(engine.predict(feeds)[0])


def compare(benchmark: str, fp32: np.ndarray, other: np.ndarray) -> tuple[float, float]:
    """(top-1 or top-class agreement, median cosine for classifiers / smallest cosine for SSD)."""
    if benchmark == "ssd-mobilenet":
        a, b = fp32.reshape(-1, fp32.shape[-1]), other.reshape(-1, other.shape[-1])
        flat_a, flat_b = fp32.reshape(len(fp32), -1), other.reshape(len(other), -1)
        cosine = np.sum(flat_a * flat_b, 1) / (np.linalg.norm(flat_a, axis=1) * np.linalg.norm(flat_b, axis=1))
        return float(np.mean(a.argmax(1) == b.argmax(1))), float(cosine.min())
    centred = []
    for probabilities in (fp32, other):
        logits = np.log(np.maximum(probabilities, 1e-30))
        centred.append(logits - logits.mean(axis=1, keepdims=True))
    a, b = centred
    cosine = np.sum(a * b, 1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return float(np.mean(a.argmax(1) == b.argmax(1))), float(np.median(cosine))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=Path("output/bench-agreement/work"))
    parser.add_argument("--models", nargs="+", default=list(OUTPUT), choices=list(OUTPUT))
    parser.add_argument("--layouts", nargs="+", default=["1x2", "2x1"], metavar="SxT")
    args = parser.parse_args(argv)
    ws = Workspace(args.work)
    print("Random-weight exports and synthetic sample images (bench/workspace.py): agreement with fp32 only, "
          "no quality result.\n")
    print("| model | compared | onnxruntime int8 | " + " | ".join(f"OpenVINO int8 {s}" for s in args.layouts) + " |")
    print("|---|---|---|" + "---|" * len(args.layouts))
    for name in args.models:
        bench = get_benchmark(name)
        io = bench.make_task("onnxruntime", ws.dataset(name)).io  # the input and layout onnxruntime's files take
        dataset = bench.open_dataset(ws.dataset(name), DatasetOptions("onnxruntime", io.layout, ws.cache, 1, None,
                                                                      False))
        count = min(SAMPLES[name], len(dataset))
        feeds = {io.inputs[0]: dataset.load(range(count))}
        fp32 = engine_output("onnxruntime", ws.model(name), io, OUTPUT[name], feeds, "fp32")
        int8 = ws.int8_model(name)
        found = [compare(name, fp32, engine_output("onnxruntime", int8, io, OUTPUT[name], feeds, "int8"))]
        for layout in args.layouts:
            streams, threads = (int(v) for v in layout.split("x"))
            found.append(compare(name, fp32, engine_output("openvino", int8, io, OUTPUT[name], feeds, "int8", streams,
                                                           threads)))
        what = "per-anchor top class (min cosine)" if name == "ssd-mobilenet" else "top-1 (median cosine)"
        print(f"| {name} ({count} images) | {what} | " + " | ".join(f"{a:.3f} ({c:.4f})" for a, c in found) + " |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
