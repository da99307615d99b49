"""An ``audit.config`` in the working directory: LoadGen reads it into every test it runs from there.

A normal run refuses one (it would silently turn the run into an audit run); with ``--allow-audit-config``
the run goes ahead, said loudly, and its detail log shows LoadGen's notice, so the verdict calls it not
submittable (common/effective_settings.py). A ``mode`` in the file that differs from a phase's mode is
always refused: LoadGen would run an ``--accuracy`` pass in performance mode and score a random subset.
"""

from __future__ import annotations

import sys
from pathlib import Path

from common.errors import UsageError
from common.rules import lookup, parse_conf

AUDIT_CONFIG = "audit.config"
LOADGEN_MODES = {0: "SubmissionRun", 1: "AccuracyOnly", 2: "PerformanceOnly", 3: "FindPeakPerformance"}
PHASE_MODES = {"accuracy": 1, "performance": 2}  # the audit.config 'mode' value of each phase


def check_working_directory(model: str, scenario: str, mode: str, allow: bool) -> None:
    """Refuse (UsageError) a run whose working directory holds an audit.config, unless ``allow``."""
    path = Path.cwd() / AUDIT_CONFIG
    if not path.is_file():
        return
    if not allow:
        raise UsageError(f"{path}: LoadGen reads an audit.config in the working directory and would change this "
                         f"run's settings (an audit run, never a submission); remove it, run the audit tests "
                         f"with 'mlperf-ref audit', or pass --allow-audit-config")
    try:
        rules = parse_conf(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"{path}: unreadable audit.config ({exc})") from exc
    try:
        value = int(lookup(rules, model, scenario, "mode"))
    except KeyError:
        value = None
    phases = ["accuracy", "performance"] if mode == "both" else [mode]
    for phase in phases:
        if value is not None and value != PHASE_MODES[phase]:
            raise UsageError(f"{path} sets mode = {value} ({LOADGEN_MODES.get(value, 'unknown')}) for {model} "
                             f"{scenario}: LoadGen would run the {phase} phase in that mode (an accuracy pass would "
                             f"score only a random subset); remove that line or the file")
    print(f"WARNING: {path} is in force (--allow-audit-config): LoadGen overrides this run's settings from it; "
          f"this is an audit run, never submittable", file=sys.stderr, flush=True)
