"""The v0.5 MultiStream metric: the most samples per query whose tail latency meets the bound."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from common.atomic import atomic_write_text
from common.disk_space import full_disk_is_one_line
from common.output_folder import held
from common.plots import figure, save_png
from common.runner import RunConfig, Session, open_session

MAX_SAMPLES_PER_QUERY = 4096  # a ceiling for the doubling phase


def _trial(session: Session, samples_per_query: int) -> dict[str, Any]:
    options = session.phase_options(samples_per_query=samples_per_query,
                                    output=Path(session.cfg.output) / f"samples_per_query_{samples_per_query}")
    result = session.run_phase("performance", options)
    latency, bound = result.bounded_latency_ms, result.latency_bound_ms
    return {"samples_per_query": samples_per_query, "latency_ms": latency, "percentile": result.latency_key,
            "bound_ms": bound, "meets_bound": latency is not None and bound is not None and latency <= bound,
            "loadgen_valid": result.loadgen.valid if result.loadgen else None}


def find_samples_per_query(cfg: RunConfig) -> dict[str, Any]:
    """Double samples per query until the bound breaks, then bisect; each trial is a full LoadGen run."""
    with held(Path(cfg.output)), full_disk_is_one_line(Path(cfg.output)):  # checked and held before the model loads
        return _search(cfg)


def _search(cfg: RunConfig) -> dict[str, Any]:
    session = open_session(dataclasses.replace(cfg, scenario="MultiStream", mode="performance"))
    base = session.cfg
    trials: dict[int, dict[str, Any]] = {}

    def meets(n: int) -> bool:
        if n not in trials:
            trials[n] = _trial(session, n)
        return trials[n]["meets_bound"]

    if not meets(1):
        best = 0
    else:
        good, bad = 1, None
        while bad is None and good < MAX_SAMPLES_PER_QUERY:
            if meets(good * 2):
                good *= 2
            else:
                bad = good * 2
        while bad is not None and bad - good > 1:
            middle = (good + bad) // 2
            good, bad = (middle, bad) if meets(middle) else (good, middle)
        best = good
    ordered = [trials[n] for n in sorted(trials)]
    outcome = {"benchmark": base.benchmark, "backend": base.backend, "samples_per_query": best,
               "bound_ms": ordered[0]["bound_ms"], "trials": ordered, "quick": base.quick}
    Path(base.output).mkdir(parents=True, exist_ok=True)
    atomic_write_text(Path(base.output) / "multistream_search.json", json.dumps(outcome, indent=2) + "\n")
    _plot(outcome, Path(base.output) / "multistream_search.png")
    print(format_search(outcome))
    return outcome


def format_search(outcome: dict[str, Any]) -> str:
    lines = [f"MultiStream search for {outcome['benchmark']} ({outcome['backend']}): "
             f"bound {outcome['bound_ms']:g} ms"]
    for t in outcome["trials"]:
        latency = "n/a" if t["latency_ms"] is None else f"{t['latency_ms']:.2f} ms"
        lines.append(f"  {t['samples_per_query']:>5} samples/query: {t['percentile']} {latency} "
                     f"-> {'meets' if t['meets_bound'] else 'misses'} the bound")
    lines.append(f"  result: {outcome['samples_per_query']} samples per query"
                 + (" (QUICK mode: not valid for submission)" if outcome["quick"] else ""))
    return "\n".join(lines)


def _plot(outcome: dict[str, Any], path: Path) -> None:
    points = [(t["samples_per_query"], t["latency_ms"]) for t in outcome["trials"] if t["latency_ms"] is not None]
    if not points:
        return
    fig, ax = figure()
    ax.plot(*zip(*points, strict=True), marker="o", color="#4477aa")
    ax.axhline(outcome["bound_ms"], color="#cc3311", linestyle="--", label="MultiStream bound")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("samples per query")
    ax.set_ylabel(f"{outcome['trials'][0]['percentile']} latency (ms)")
    ax.legend()
    save_png(fig, path)
