"""The v0.5 MultiStream metric: the most samples per query whose tail latency meets the bound."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from common.output_folder import held
from common.runner import RunConfig, Session, open_session
from tools.search.bisection import find_edge, save_search
from tools.search.plot import plot_search

MAX_SAMPLES_PER_QUERY = 4096  # a ceiling for the doubling phase
MAX_TRIALS = 32  # doubling to the ceiling (13) and bisecting below it (12) fit in this


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
    with held(Path(cfg.output)):  # checked and held before the model loads
        session = open_session(dataclasses.replace(cfg, scenario="MultiStream", mode="performance"))
        try:
            return _search(session)
        finally:
            session.close()


def _search(session: Session) -> dict[str, Any]:
    base = session.cfg
    trials: dict[int, dict[str, Any]] = {}

    def meets(n: int) -> bool:
        trials[n] = _trial(session, n)
        return trials[n]["meets_bound"]

    edge = find_edge(meets, 1, widen=lambda n: n * 2 if n < MAX_SAMPLES_PER_QUERY else None,
                     narrow=lambda n: None, middle=lambda good, bad: (good + bad) // 2,
                     close=lambda good, bad: bad - good <= 1, max_trials=MAX_TRIALS)
    ordered = [trials[n] for n in sorted(trials)]
    outcome = {"benchmark": base.benchmark, "backend": base.backend, "samples_per_query": edge.good or 0,
               "bound_ms": ordered[0]["bound_ms"], "trials": ordered, "quick": base.quick}
    save_search(outcome, Path(base.output), "multistream_search", _plot)
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
    points = [(t["samples_per_query"], t["latency_ms"], t["meets_bound"]) for t in outcome["trials"]
              if t["latency_ms"] is not None]
    plot_search(points, outcome["bound_ms"], path, xlabel="samples per query",
                ylabel=f"{outcome['trials'][0]['percentile']} latency (ms)", bound_label="MultiStream bound",
                log2_x=True)
