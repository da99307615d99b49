"""What the Ray test modules share: the sample data and models they run, a single-process reference run,
and reading an accuracy log record by record."""

from __future__ import annotations

import json
from pathlib import Path

from common.registry import get_benchmark
from common.samples import export_random_model, make_all_samples
from tools.cli import main

BENCHMARKS = ("resnet50", "ssd-mobilenet")


def make_inputs(root: Path, names: tuple[str, ...] = BENCHMARKS) -> tuple[dict[str, Path], dict[str, Path]]:
    """The sample data folders and random-weight models of ``names``, by benchmark name."""
    data = make_all_samples(root / "samples", list(names))
    models = {name: export_random_model(get_benchmark(name), root / f"{name}.onnx") for name in names}
    return data, models


def run_args(name: str, data: dict[str, Path], models: dict[str, Path], out: Path, *extra: str,
             backend: str = "onnxruntime", scenario: str = "Offline") -> list[str]:
    """``mlperf-ref run`` arguments on the sample data, quick, one engine thread, batch 2."""
    args = ["run", name, "--backend", backend, "--scenario", scenario, "--quick", "--dataset-path", str(data[name]),
            "--output", str(out), "--cache-dir", str(out.parent / "cache"), "--max-batchsize", "2",
            "--threads", "1", *extra]
    return args + (["--model", str(models[name])] if backend != "null" else [])


def single_process_log(name: str, data: dict[str, Path], models: dict[str, Path], out: Path) -> dict[int, bytes]:
    """The accuracy payloads of the same run in one process (the reference a distributed run must equal)."""
    assert main(run_args(name, data, models, out, "--accuracy")) in (0, 1)  # 1: random weights FAIL the target
    return payloads(out / "accuracy" / "mlperf_log_accuracy.json")


def records(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))


def payloads(path: Path) -> dict[int, bytes]:
    """Payload by qsl index; each index must be answered exactly once."""
    found = records(path)
    indices = [r["qsl_idx"] for r in found]
    assert len(indices) == len(set(indices)), f"samples answered more than once in {path}"
    return {r["qsl_idx"]: bytes.fromhex(r["data"]) for r in found}
