"""``--find-peak-qps``: the highest Server target QPS that LoadGen calls VALID at the latency bound, and
Offline's expected QPS; a bounded number of LoadGen runs, each through :meth:`Session.run_phase`.

Server: short trials (``trial_seconds`` each) double or halve the target QPS from a start until one
meets the bound and one misses it, then bisect until the two are within ``precision``. A trial is judged
on the bound (its percentile latency, as LoadGen measured it, against the scenario's bound): a short run
is INVALID by its length alone (LoadGen's early stopping wants some 460 queries at the 99th percentile),
so LoadGen's verdict of a trial is recorded, not used. The highest target that met the bound then runs
once at full length with the conf's settings; that run is the result when LoadGen calls it VALID. One
INVALID (its latency, or early stopping, which wants more queries the more of them miss the bound) steps
the target down 5% and runs again (the short trials leave two runs of the
budget for this where it has five or more). Every LoadGen run, short or full, counts against
``max_trials``: the search ends when they are spent, whatever the system does.

Offline has no bound: its expected QPS only sizes the one query (expected QPS x min_duration samples),
and a run that ends before min_duration is INVALID. One short trial measures samples/s; the full run
then expects 10% more than that (so it lasts at least min_duration); a full run that still ends too
early is run again expecting 10% more than its own samples/s, within the same budget.

LoadGen 6.0.17's own ``TestMode.FindPeakPerformance`` is not used: it runs every trial at the full
settings inside one LoadGen test (no trial cap of ours; it widens the target until a trial fails and
bisects to ``server_find_peak_qps_decimals_of_precision``), writes a summary of the last trial only, in
a mode the submission checker does not accept, and refuses to start unless the first target is VALID.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

from common.errors import Interrupted, RunError
from common.output_folder import held
from common.results import PhaseResult
from common.runner import RunConfig, Session, finish, open_session, start_results
from tools.search.bisection import find_edge, save_search
from tools.search.options import SearchOptions, check_request
from tools.search.plot import plot_search

STEP_DOWN = 0.95  # a full-length run INVALID: the next tries 5% lower
OFFLINE_MARGIN = 1.1  # Offline expects this much more than it measured, so the run fills min_duration
START_MAX_QPS = 1000.0  # a start from the warm-up's rate no higher than this (the null backend's is huge)
MIN_QPS, MAX_QPS = 0.01, 1e7  # halving and doubling stop here
TRIALS_FOLDER = "peak_search_trials"


def find_peak_qps(cfg: RunConfig, options: SearchOptions | None = None) -> dict[str, Any]:
    """Search, confirm at full length, write ``<scenario>_search.json`` and its plot; the outcome."""
    options = options or SearchOptions()
    check_request(cfg.scenario, cfg.mode, options)
    with held(Path(cfg.output)):  # checked and held before the model loads
        session = open_session(cfg)
        try:
            return _Search(session, options).run()
        finally:
            session.close()  # Ray replicas and a local Ray instance with --ray


class _Search:
    """One search's state: the session, the trials run so far and the budget left."""

    def __init__(self, session: Session, options: SearchOptions) -> None:
        self.session, self.options = session, options
        self.cfg = session.cfg
        self.output = Path(self.cfg.output)
        self.trials: list[dict[str, Any]] = []

    @property
    def left(self) -> int:
        return self.options.max_trials - len(self.trials)

    def run(self) -> dict[str, Any]:
        shutil.rmtree(self.output / TRIALS_FOLDER, ignore_errors=True)  # an earlier search's trials
        results = start_results(self.session)
        start = self._start()
        what = "peak search" if self.cfg.scenario == "Server" else "expected-QPS search"
        print(f"{self.cfg.scenario} {what} for {self.cfg.benchmark} ({self.cfg.backend}): up to "
              f"{self.options.max_trials} LoadGen runs, {self._trial_length()}, "
              f"starting at {_qps(start)} QPS", flush=True)
        try:
            final = self._search(start)
        except (Interrupted, RunError) as exc:  # keep the record of the runs done, then end as a run would
            outcome = self._outcome(None)
            outcome["stopped"] = str(exc)
            save_search(outcome, self.output, self._name(), _plot)
            raise
        outcome = self._outcome(final)
        if final is not None:
            results.performance = final
            results.search = {"file": str(self.output / self._name()) + ".json", "target_qps": outcome["target_qps"],
                              "confirmed": outcome["confirmed"], "runs": len(self.trials)}
            finish(results, self.output, self.session.backend.runs_model)
        save_search(outcome, self.output, self._name(), _plot)
        print(format_search(outcome), flush=True)
        return outcome

    def _search(self, start: float) -> PhaseResult | None:
        """The trials, then the full-length runs; the last full run (None: no target to confirm)."""
        if self.cfg.scenario == "Server":
            target = self._server_trials(start)
        else:
            measured = self._short(start)["achieved_qps"]
            target = OFFLINE_MARGIN * measured if measured else None
        return self._confirm(target) if target is not None else None

    def _accepted(self, full: dict[str, Any]) -> bool:
        """A full-length run is the result when LoadGen calls it VALID; a quick one (INVALID by its counts
        alone) when it meets the bound."""
        if self.cfg.quick:
            return full["meets_bound"] is not False
        return bool(full["loadgen_valid"])

    def _trial_length(self) -> str:
        if self.cfg.quick:
            return "every run a quick one (a few dozen queries, judged on the bound)"
        return f"short trials of {self.options.trial_seconds:g} s"

    def _name(self) -> str:
        return f"{self.cfg.scenario.lower()}_search"

    def _start(self) -> float:
        """The user's --target-qps, else the rate of the warmed-up engine at batch 1 (at most 1000)."""
        if self.cfg.target_qps is not None:
            return self.cfg.target_qps
        seconds = self.session.warm(self.session.open_dataset("performance", progress=False))
        return float(f"{min(1.0 / seconds, START_MAX_QPS):.3g}")

    def _server_trials(self, start: float) -> float | None:
        """The highest target that met the bound in short trials (the budget but for the full runs')."""
        ratio = 1 + self.options.precision
        edge = find_edge(
            lambda qps: self._short(qps)["meets_bound"], start,
            widen=lambda q: q * 2 if q * 2 <= MAX_QPS else None,
            narrow=lambda q: q / 2 if q / 2 >= MIN_QPS else None,
            middle=lambda good, bad: math.sqrt(good * bad),
            close=lambda good, bad: bad <= good * ratio,
            max_trials=self.options.max_trials - full_runs(self.options.max_trials),
        )
        return edge.good

    def _short(self, qps: float) -> dict[str, Any]:
        """One short trial at ``qps``: min_duration of trial_seconds, no query minimum."""
        folder = self._folder(len(self.trials) + 1, qps)
        phase_options = self.session.phase_options(
            target_qps=qps, output=folder, min_duration_ms=round(self.options.trial_seconds * 1000),
            min_query_count=1)
        return self._record("short", qps, self.session.run_phase("performance", phase_options))

    def _folder(self, trial: int, qps: float) -> Path:
        return self.output / TRIALS_FOLDER / f"{trial:02d}_qps_{qps:.4g}"

    def _confirm(self, target: float) -> PhaseResult | None:
        """Full-length runs from ``target`` down until LoadGen calls one VALID or the budget is spent;
        the last one (its logs in the output folder, the earlier ones' moved to the trials folder)."""
        final = None
        while self.left > 0:
            if final is not None:  # keep the INVALID full run's logs beside the trials
                moved = self._folder(len(self.trials), self.trials[-1]["target_qps"])
                moved.mkdir(parents=True, exist_ok=True)
                Path(final.log_dir).replace(moved / "performance")
                self.trials[-1]["log_dir"] = str(moved / "performance")
            final = self.session.run_phase("performance", self.session.phase_options(target_qps=target))
            trial = self._record("full", target, final)
            if self._accepted(trial):
                break
            if self.cfg.scenario == "Server":  # INVALID for its latency or for early stopping, which
                target = target * STEP_DOWN  # wants more queries the more of them miss the bound
            else:
                wanted = OFFLINE_MARGIN * (trial["achieved_qps"] or 0.0)
                if wanted <= target * 1.001:
                    break  # expecting more would not help
                target = wanted
        return final

    def _record(self, kind: str, qps: float, phase: PhaseResult) -> dict[str, Any]:
        """The trial's line in the record, printed as progress."""
        loadgen = phase.loadgen
        latency, bound = phase.bounded_latency_ms, phase.latency_bound_ms
        meets = None if bound is None else latency is not None and latency <= bound
        trial = {
            "trial": len(self.trials) + 1, "kind": kind, "target_qps": round(qps, 4),
            "achieved_qps": loadgen.metric_value if loadgen else None,
            "latency_ms": latency, "percentile": phase.latency_key, "bound_ms": bound, "meets_bound": meets,
            "loadgen_valid": loadgen.valid if loadgen else None, "reasons": loadgen.reasons if loadgen else [],
            "seconds": phase.seconds, "log_dir": phase.log_dir,
        }
        self.trials.append(trial)
        print(format_trial(trial, self.options.max_trials), flush=True)
        return trial

    def _outcome(self, final: PhaseResult | None) -> dict[str, Any]:
        full = [t for t in self.trials if t["kind"] == "full"]
        last = full[-1] if full else None
        confirmed = bool(last and self._accepted(last))
        return {
            "benchmark": self.cfg.benchmark, "backend": self.cfg.backend, "scenario": self.cfg.scenario,
            "target_qps": last["target_qps"] if confirmed else None,
            "achieved_qps": last["achieved_qps"] if confirmed else None,
            "confirmed": confirmed,
            "bound_ms": self.trials[0]["bound_ms"], "percentile": self.trials[0]["percentile"],
            "max_trials": self.options.max_trials, "trial_seconds": self.options.trial_seconds,
            "precision": self.options.precision, "runs": len(self.trials),
            "budget_spent": len(self.trials) >= self.options.max_trials, "quick": self.cfg.quick,
            "results_file": str(self.output / "results.json") if final is not None else None,
            "stopped": None,  # what ended the search early (an interruption, a failed backend)
            "trials": self.trials,
        }


def full_runs(max_trials: int) -> int:
    """The runs a Server search keeps from its short trials for full-length ones: two (one 5% lower, for a
    full run INVALID at the edge the short trials found) where the budget allows, else one."""
    return 2 if max_trials >= 5 else 1


def format_trial(trial: dict[str, Any], max_trials: int) -> str:
    """One progress line: the run, its target, latency against the bound, what it achieved, LoadGen's word."""
    kind = "full-length run" if trial["kind"] == "full" else "short trial"
    achieved = "n/a" if trial["achieved_qps"] is None else _qps(trial["achieved_qps"])
    line = f"  [{trial['trial']}/{max_trials}] {kind} at {_qps(trial['target_qps'])} QPS: {achieved} achieved"
    if trial["bound_ms"] is not None:
        latency = "n/a" if trial["latency_ms"] is None else f"{trial['latency_ms']:.2f} ms"
        line += (f", {trial['percentile']} {latency} {'meets' if trial['meets_bound'] else 'misses'} "
                 f"the {trial['bound_ms']:g} ms bound")
    verdict = {True: "VALID", False: "INVALID", None: "no verdict"}[trial["loadgen_valid"]]
    if trial["kind"] == "full" and trial["reasons"]:
        verdict += f" ({'; '.join(trial['reasons'])})"
    return f"{line}; LoadGen {verdict}"


def format_search(outcome: dict[str, Any]) -> str:
    """The search's closing summary."""
    scenario = outcome["scenario"]
    what = "peak target QPS" if scenario == "Server" else "expected QPS"
    head = f"{scenario} search for {outcome['benchmark']} ({outcome['backend']})"
    if outcome["bound_ms"] is not None:
        head += f": {outcome['percentile']} bound {outcome['bound_ms']:g} ms"
    lines = [head, f"  {outcome['runs']} of at most {outcome['max_trials']} LoadGen runs"]
    if outcome["confirmed"]:
        how = "meets the bound in a quick run" if outcome["quick"] else "VALID at full length"
        lines.append(f"  result: {what} {_qps(outcome['target_qps'])} ({_qps(outcome['achieved_qps'])} samples/s "
                     f"achieved), {how}: {outcome['results_file']}")
    else:
        lines.append(f"  result: none: no full-length run LoadGen calls VALID within {outcome['max_trials']} runs"
                     + ("" if outcome["results_file"] is None else f" (the last: {outcome['results_file']})"))
    if outcome["quick"]:
        lines.append("  QUICK mode: every run was a quick one; not valid for submission")
    return "\n".join(lines)


def _qps(value: float) -> str:
    return f"{value:,.1f}"


def _plot(outcome: dict[str, Any], path: Path) -> None:
    """p99 (the bound's percentile) latency against target QPS, with the bound (Server only)."""
    if outcome["bound_ms"] is None:
        return

    def runs(kind: str, passed: str) -> list[tuple[float, float, bool]]:
        return [(t["target_qps"], t["latency_ms"], bool(t[passed])) for t in outcome["trials"]
                if t["kind"] == kind and t["latency_ms"] is not None]

    plot_search(runs("short", "meets_bound"), outcome["bound_ms"], path, xlabel="target QPS",
                ylabel=f"{outcome['percentile']} latency (ms)", bound_label="Server bound",
                final=runs("full", "loadgen_valid"))
