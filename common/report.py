"""How a run's results look to a person: the printed summary and the latency plot (no policy here)."""

from __future__ import annotations

from pathlib import Path

from common.plots import figure, save_png
from common.results import ClusterResult, RunResults


def _mark(passed: bool | None) -> str:
    return {True: "PASS", False: "FAIL", None: "n/a"}[passed]


def format_summary(results: RunResults) -> str:
    """The human summary printed at the end of a run (the results must have been judged)."""
    engine = results.engine
    if results.cluster is not None:  # the engines are the replicas; the driver's threads follow them
        engines = f"{results.cluster.replicas} Ray replica(s) x {engine.get('threads')} threads"
    else:
        engines = f"{engine.get('threads')} threads, {results.workers} worker(s)"
    head = (f"{results.title} | {results.backend} {engine.get('precision', 'fp32')} on {results.device}, "
            f"{engines}, batch {results.max_batchsize} | {results.scenario}")
    lines = ["", "=" * len(head), head, "=" * len(head)]
    calibration = engine.get("calibration")
    if calibration:
        official = "official v0.5 list" if calibration.get("official") else \
            "NOT an official v0.5 list: not valid for submission"
        lines.append(f"  {'int8 calibration':<32}: {calibration.get('list')} ({official}; "
                     f"{calibration.get('images')} images, {calibration.get('method')})")
    if engine.get("quantization"):
        lines.append(f"  {'quantization':<32}: {engine['quantization']}")
    if results.cluster is not None:
        lines.extend(_cluster_lines(results.cluster))
    perf, check = results.performance, results.verdict
    assert check is not None, "format_summary needs a judged run"
    if perf is not None and perf.loadgen is not None:
        lg_res = perf.loadgen
        lines.append(f"  {lg_res.metric or 'metric':<32}: {_figure(lg_res.metric, lg_res.metric_value)}")
        lat = lg_res.latency_ms
        shown = " / ".join(f"{k} {v:.2f}" for k, v in lat.items() if k in ("p50", "p90", "p99", "p97") and v)
        if shown:
            lines.append(f"  {'latency (ms)':<32}: {shown}")
        if perf.latency_bound_ms is not None:
            key = perf.latency_key
            lines.append(f"  {'latency bound':<32}: {key} {lat.get(key, float('nan')):.2f} ms vs "
                         f"{perf.latency_bound_ms:g} ms -> {_mark(check.latency)}")
        state = "VALID" if lg_res.valid else "INVALID"
        if results.quick and not lg_res.valid:
            state += " (expected in quick mode: its counts are far below the v0.5 minimums)"
        lines.append(f"  {'LoadGen':<32}: {state}")
        for reason in [] if results.quick else lg_res.reasons:
            lines.append(f"      - {reason}")
    acc = results.accuracy.accuracy if results.accuracy is not None else None
    if acc is not None:
        if acc.value is None:
            lines.append(f"  {'accuracy':<32}: {acc.note}")
        else:
            caveat = quality_caveat(results.synthetic_data, results.random_weights)
            lines.append(f"  {acc.metric:<32}: {acc.value:.3f}{acc.unit} vs target {acc.target:g}{acc.unit} "
                         f"-> {_mark(acc.passed)} ({acc.samples} samples{caveat})")
    for note in check.notes:
        lines.append(f"  note: {note}")
    for problem in check.problems:
        lines.append(f"  not submittable: {problem}")
    if check.submittable:
        lines.append("  v0.5 submission run: yes (LoadGen logged the v0.5 settings in force, VALID, no errors)")
    lines.append(f"  results: {results.results_file}")
    return "\n".join(lines)


def _cluster_lines(cluster: ClusterResult) -> list[str]:
    """Where a distributed run ran: the replicas, their nodes and resources, what was lost."""
    gpus = f", {cluster.gpus_per_replica:g} GPU" if cluster.gpus_per_replica else ""
    hosts = sorted({f"{m['host']} {str(m['node_id'])[:8]}" for m in cluster.members})
    lines = [f"  {'Ray ' + cluster.ray_version:<32}: {cluster.replicas} replicas x {cluster.cpus_per_replica:g} "
             f"CPU{gpus} on {cluster.nodes} node(s): {', '.join(hosts)}"]
    if cluster.restarts or cluster.lost:
        lines.append(f"  {'replicas lost / restarted':<32}: {len(cluster.lost)} / {cluster.restarts} "
                     f"({'; '.join(cluster.lost)})")
    return lines


def quality_caveat(synthetic_data: bool, random_weights: bool) -> str:
    """Said next to every accuracy figure that is no quality result."""
    why = [w for w, flag in (("synthetic data", synthetic_data), ("random weights", random_weights)) if flag]
    return f"; NOT a quality result: {' and '.join(why)}" if why else ""


def _figure(metric: str | None, value: float | None) -> str:
    if value is None or metric is None:
        return "n/a"
    if "latency" in metric.lower() and "ns" in metric:
        return f"{value / 1e6:.3f} ms"
    if "per second" in metric.lower():
        return f"{value:,.2f} samples/s"
    return f"{value:g}"


def plot_latency(results: RunResults, path: Path) -> Path | None:
    """A bar chart of the latency percentiles against the bound (PNG), for people who would rather look."""
    perf = results.performance
    if perf is None or perf.loadgen is None:
        return None
    lat = {k: v for k, v in perf.loadgen.latency_ms.items() if k.startswith("p") and v is not None}
    if not lat:
        return None
    fig, ax = figure()
    ax.bar(list(lat), list(lat.values()), color="#4477aa")
    if perf.latency_bound_ms is not None:
        ax.axhline(perf.latency_bound_ms, color="#cc3311", linestyle="--", label="latency bound")
        ax.legend()
    ax.set_ylabel("latency (ms)")
    ax.set_title(f"{results.title} {results.scenario} ({results.backend})")
    return save_png(fig, path)
