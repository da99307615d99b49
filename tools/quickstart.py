"""The quick start: every benchmark on its embedded sample data, quick mode, through the real LoadGen."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from common.atomic import atomic_write_text
from common.errors import RunError, UsageError
from common.registry import benchmarks
from common.results import RunResults
from common.runner import RunConfig, run_benchmark
from common.samples import RANDOM_WEIGHTS_SUFFIX, export_random_model, make_all_samples


def _model_path(models: Path, name: str, backend: str, model_files: dict[str, str]) -> Path:
    return models / model_files.get(backend, f"{name}.onnx")


def _row(name: str, results: RunResults | None, error: str | None) -> dict[str, Any]:
    if results is None:
        return {"benchmark": name, "error": error}
    assert results.performance and results.performance.loadgen and results.accuracy and results.accuracy.accuracy
    perf, acc = results.performance.loadgen, results.accuracy.accuracy
    return {
        "benchmark": name,
        "backend": results.backend,
        "scenario": results.scenario,
        "metric": perf.metric,
        "metric_value": perf.metric_value,
        "p99_ms": perf.latency_ms.get("p99"),
        "accuracy": acc.value,
        "target": acc.target,
        "unit": acc.unit,
        "loadgen_valid": perf.valid,
        "seconds": round(results.performance.seconds + results.accuracy.seconds, 1),
    }


def format_table(rows: list[dict[str, Any]]) -> str:
    """One line per benchmark, plain units."""
    header = f"{'benchmark':<14} {'backend':<12} {'throughput':>16} {'p99 ms':>9} {'accuracy (target)':>26} " \
             f"{'LoadGen':>8} {'time s':>7}"
    lines = [header, "-" * len(header)]
    for row in rows:
        if row.get("error"):
            lines.append(f"{row['benchmark']:<14} FAILED: {row['error']}")
            continue
        value = row["metric_value"]
        throughput = f"{value:,.1f}/s" if value is not None and "per second" in row["metric"] else "n/a"
        p99 = f"{row['p99_ms']:.1f}" if row["p99_ms"] is not None else "n/a"
        accuracy = "n/a" if row["accuracy"] is None else f"{row['accuracy']:.3f}{row['unit']}"
        accuracy = f"{accuracy}* ({row['target']:g}{row['unit']})"
        state = "VALID" if row["loadgen_valid"] else "INVALID"
        lines.append(f"{row['benchmark']:<14} {row['backend']:<12} {throughput:>16} {p99:>9} {accuracy:>26} "
                     f"{state:>8} {row['seconds']:>7.1f}")
    return "\n".join(lines)


def run_quickstart(output: Path, scenario: str = "Offline", only: list[str] | None = None) -> int:
    """Make the sample data and random-weight models, run each benchmark quick (accuracy + performance)."""
    found = benchmarks()
    names = only if only else list(found)
    unknown = [n for n in names if n not in found]
    if unknown:
        raise UsageError(f"--only {' '.join(unknown)}: unknown; choose from {', '.join(found)}")
    started = time.perf_counter()
    samples = make_all_samples(output / "samples", names)
    rows = []
    for name in names:
        bench = found[name]
        backend = bench.info.default_backend
        model = _model_path(output / "models", name, backend, dict(bench.info.model_files))
        if not Path(f"{model}{RANDOM_WEIGHTS_SUFFIX}").exists():
            export_random_model(bench, model)
        cfg = RunConfig(benchmark=name, backend=backend, scenario=scenario, mode="both", model=model,
                        dataset_path=samples[name], output=output / name, quick=True,
                        max_batchsize=1 if scenario == "SingleStream" else 4,
                        command_line=["mlperf-ref", "quickstart"])
        try:
            rows.append(_row(name, run_benchmark(cfg), None))
        except RunError as exc:
            rows.append(_row(name, None, str(exc)))
    table = format_table(rows)
    minutes = (time.perf_counter() - started) / 60
    print("\nQuick start: every benchmark on its SYNTHETIC sample data with RANDOM weights, quick mode.")
    print("These figures show that the pipeline works; they are no quality or submission results.\n")
    print(table)
    print("* synthetic data and random weights: the accuracy only shows that scoring works")
    print(f"\ntotal {minutes:.1f} min; details in {output}/<benchmark>/results.json")
    atomic_write_text(output / "quickstart.json", json.dumps(rows, indent=2) + "\n")
    return 1 if any(r.get("error") for r in rows) else 0
