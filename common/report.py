"""Results of a run: results.json, accuracy.txt, the human summary and a latency plot."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shlex
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.atomic import atomic_write_text
from common.loadgen_log import invalid_reasons, parse_detail, parse_summary
from common.plots import figure, save_png

if TYPE_CHECKING:
    from common.backends.base import Backend
    from common.benchmark import Benchmark
    from common.runner import RunConfig

LIBRARIES = ("mlcommons-loadgen", "numpy", "onnxruntime", "onnxruntime-gpu", "torch", "tensorflow-cpu",
             "tensorflow", "opencv-python-headless", "pycocotools", "sacrebleu", "onnx", "openvino")


def library_versions() -> dict[str, str]:
    """Installed versions of every library a run can touch."""
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def base_results(cfg: RunConfig, bench: Benchmark, backend: Backend, synthetic: dict[str, bool]) -> dict[str, Any]:
    """The part of results.json known before LoadGen runs."""
    info = bench.info
    return {
        "benchmark": info.name,
        "title": info.title,
        "dataset": info.dataset,
        "backend": cfg.backend,
        "device": cfg.device,
        "scenario": cfg.scenario,
        "mode": cfg.mode,
        "quick": cfg.quick,
        "count": cfg.count,
        "model": str(cfg.model) if cfg.model else None,
        "dataset_path": str(cfg.dataset_path),
        **synthetic,
        "precision": cfg.precision,
        "max_batchsize": cfg.max_batchsize,
        "workers": cfg.workers,
        "engine": backend.describe(),
        "quality_target": {"metric": info.quality.metric, "value": info.quality.value, "unit": info.quality.unit,
                           "reference": info.quality.reference, "fraction": info.quality.fraction},
        "versions": library_versions(),
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                    "cpus": os.cpu_count()},
        "command_line": shlex.join(cfg.command_line) if cfg.command_line else None,
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def loadgen_result(outdir: Path) -> dict[str, Any]:
    """LoadGen's verdict and figures from its summary and detail logs, in plain units."""
    summary = parse_summary(outdir / "mlperf_log_summary.txt")
    detail = parse_detail(outdir / "mlperf_log_detail.txt")
    percentiles_ms = {f"p{_pct(p)}": round(ns / 1e6, 4) for p, ns in sorted(summary.percentiles_ns.items())}
    result: dict[str, Any] = {
        "valid": summary.valid,
        "metric": summary.metric_name,
        "metric_value": summary.metric_value,
        "latency_ms": {"min": _ms(summary.min_latency_ns), "mean": _ms(summary.mean_latency_ns),
                       "max": _ms(summary.max_latency_ns), **percentiles_ms},
        # The MultiStream bound (unchecked by this LoadGen) is judged beside it, in the verdict's latency.
        "reasons": invalid_reasons(summary, detail) if summary.valid is False else [],
        "errors": detail["errors"],
        "warnings": detail["warnings"],
    }
    return result


def _pct(percentile: float) -> str:
    return f"{percentile:g}"


def _ms(ns: float | None) -> float | None:
    return None if ns is None else round(ns / 1e6, 4)


def write_accuracy_txt(outdir: Path, text: str) -> None:
    atomic_write_text(outdir / "accuracy.txt", text if text.endswith("\n") else text + "\n")


def verdict(results: dict[str, Any]) -> dict[str, Any]:
    """PASS/FAIL against the quality target and the latency bound, and whether it could be submitted."""
    notes = []
    perf = results.get("performance")
    acc = results.get("accuracy")
    latency_pass = None
    if perf:
        bound = perf.get("latency_bound_ms")
        key = f"p{_pct(perf['latency_percentile'])}"
        value = perf["loadgen"]["latency_ms"].get(key)
        if bound is not None and value is not None:
            latency_pass = value <= bound
    accuracy_pass = acc["accuracy"]["passed"] if acc else None
    if results["quick"]:
        notes.append("QUICK mode: small counts and short durations, not valid for submission")
    if results.get("count"):
        notes.append(f"--count {results['count']}: a reduced dataset, not valid for submission")
    if results["synthetic_data"]:
        notes.append("SYNTHETIC sample data: accuracy here is no quality result")
    if results["random_weights"]:
        notes.append("RANDOM weights (export-model): accuracy here is no quality result")
    if results["backend"] == "null":
        notes.append("null backend: measures the harness and LoadGen, no model runs")
    if results["precision"] != "fp32":
        notes.append(f"reduced precision {results['precision']}: only the accuracy pass shows whether it holds")
    valid = bool(perf and perf["loadgen"]["valid"]) and not results["quick"] and not results.get("count")
    submittable = (valid and accuracy_pass is not False and latency_pass is not False
                   and not results["synthetic_data"] and not results["random_weights"])
    return {"latency": latency_pass, "accuracy": accuracy_pass,
            "loadgen_valid": perf["loadgen"]["valid"] if perf else None, "submittable": submittable, "notes": notes}


def _mark(passed: bool | None) -> str:
    return {True: "PASS", False: "FAIL", None: "n/a"}[passed]


def format_summary(results: dict[str, Any]) -> str:
    """The human summary printed at the end of a run."""
    engine = results["engine"]
    head = (f"{results['title']} | {results['backend']} {engine.get('precision', 'fp32')} on {results['device']}, "
            f"{engine.get('threads')} threads, "
            f"{results['workers']} worker(s), batch {results['max_batchsize']} | {results['scenario']}")
    lines = ["", "=" * len(head), head, "=" * len(head)]
    perf = results.get("performance")
    check = results["verdict"]
    if perf:
        lg_res = perf["loadgen"]
        lines.append(f"  {lg_res['metric']:<32}: {_figure(lg_res['metric'], lg_res['metric_value'])}")
        lat = lg_res["latency_ms"]
        shown = " / ".join(f"{k} {v:.2f}" for k, v in lat.items() if k in ("p50", "p90", "p99", "p97") and v)
        if shown:
            lines.append(f"  {'latency (ms)':<32}: {shown}")
        bound = perf["latency_bound_ms"]
        if bound is not None:
            key = f"p{_pct(perf['latency_percentile'])}"
            lines.append(f"  {'latency bound':<32}: {key} {lat.get(key, float('nan')):.2f} ms vs {bound:g} ms "
                         f"-> {_mark(check['latency'])}")
        state = "VALID" if lg_res["valid"] else "INVALID"
        if results["quick"] and not lg_res["valid"]:
            state += " (expected in quick mode: its counts are far below the v0.5 minimums)"
        lines.append(f"  {'LoadGen':<32}: {state}")
        for reason in [] if results["quick"] else lg_res["reasons"]:
            lines.append(f"      - {reason}")
    acc = results.get("accuracy")
    if acc:
        a = acc["accuracy"]
        if a["value"] is None:
            lines.append(f"  {'accuracy':<32}: {a['note']}")
        else:
            caveat = _quality_caveat(results)
            lines.append(f"  {a['metric']:<32}: {a['value']:.3f}{a['unit']} vs target {a['target']:g}{a['unit']} "
                         f"-> {_mark(a['passed'])} ({a['samples']} samples{caveat})")
    for note in check["notes"]:
        lines.append(f"  note: {note}")
    lines.append(f"  results: {results['results_file']}")
    return "\n".join(lines)


def _quality_caveat(results: dict[str, Any]) -> str:
    """Said next to every accuracy figure that is no quality result."""
    why = [w for w, flag in (("synthetic data", results["synthetic_data"]),
                             ("random weights", results["random_weights"])) if flag]
    return f"; NOT a quality result: {' and '.join(why)}" if why else ""


def _figure(metric: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    if "latency" in metric.lower() and "ns" in metric:
        return f"{value / 1e6:.3f} ms"
    if "per second" in metric.lower():
        return f"{value:,.2f} samples/s"
    return f"{value:g}"


def plot_latency(results: dict[str, Any], path: Path) -> Path | None:
    """A bar chart of the latency percentiles against the bound (PNG), for people who would rather look."""
    perf = results.get("performance")
    if not perf:
        return None
    lat = {k: v for k, v in perf["loadgen"]["latency_ms"].items() if k.startswith("p") and v is not None}
    if not lat:
        return None
    fig, ax = figure()
    ax.bar(list(lat), list(lat.values()), color="#4477aa")
    if perf["latency_bound_ms"] is not None:
        ax.axhline(perf["latency_bound_ms"], color="#cc3311", linestyle="--", label="latency bound")
        ax.legend()
    ax.set_ylabel("latency (ms)")
    ax.set_title(f"{results['title']} {results['scenario']} ({results['backend']})")
    return save_png(fig, path)


def finish(results: dict[str, Any], output: Path) -> None:
    """Add the verdict, write results.json and the plot, print the summary."""
    output.mkdir(parents=True, exist_ok=True)
    results["verdict"] = verdict(results)
    results["results_file"] = str(output / "results.json")
    plot = plot_latency(results, output / "latency.png")
    results["plot"] = str(plot) if plot else None
    atomic_write_text(output / "results.json", json.dumps(results, indent=2, default=str) + "\n")
    print(format_summary(results), flush=True)
