"""What ``--find-peak-qps`` accepts, checked before anything heavy loads (the command line imports this)."""

from __future__ import annotations

from dataclasses import dataclass

from common.errors import UsageError

SCENARIOS = ("Server", "Offline")
MAX_TRIALS = 10
TRIAL_SECONDS = 10.0
PRECISION = 0.02  # bisection stops when the failing target is within 2% of the passing one


@dataclass(frozen=True)
class SearchOptions:
    """How long a search may take: LoadGen runs in all, seconds of a short trial, bisection precision."""

    max_trials: int = MAX_TRIALS
    trial_seconds: float = TRIAL_SECONDS
    precision: float = PRECISION

    def validate(self) -> None:
        if self.max_trials < 2:
            raise UsageError(f"--max-trials {self.max_trials}: must be at least 2 (a short trial and the "
                             f"full-length run)")
        if not self.trial_seconds > 0:
            raise UsageError(f"--trial-seconds {self.trial_seconds:g}: must be above 0")
        if not self.precision > 0:
            raise UsageError(f"precision {self.precision:g}: must be above 0")


def check_request(scenario: str, mode: str, options: SearchOptions) -> None:
    """One line for a search that cannot be run as asked."""
    if scenario not in SCENARIOS or mode != "performance":
        raise UsageError(f"--find-peak-qps needs --scenario Server or Offline in performance mode (got "
                         f"--scenario {scenario}, {mode} mode)")
    options.validate()
