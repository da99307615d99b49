"""The searches' shared parts: a bounded bracket-and-bisect for the edge of what a system sustains, and
writing a search's record (JSON, never half-written) beside its plot.

Used by the MultiStream search (samples per query) and the Server peak search (target QPS). A search
is a row of trials, each a LoadGen run that passes or fails; :func:`find_edge` asks for at most
``max_trials`` of them, so no search loops forever whatever the system does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from common.atomic import atomic_write_text

T = TypeVar("T", int, float)


@dataclass(frozen=True)
class Edge(Generic[T]):
    """Where a search ended: the highest value that passed, the lowest above it that failed."""

    good: T | None  # None: nothing passed
    bad: T | None  # None: nothing above ``good`` failed (or was tried)
    trials: int  # how many values were tried
    capped: bool  # the trial budget ran out before the search was done


def find_edge(
    passes: Callable[[T], bool],
    start: T,
    *,
    widen: Callable[[T], T | None],
    narrow: Callable[[T], T | None],
    middle: Callable[[T, T], T],
    close: Callable[[T, T], bool],
    max_trials: int,
) -> Edge[T]:
    """The edge between passing and failing values, in at most ``max_trials`` calls of ``passes``.

    From ``start``: ``widen`` while values pass (None: the ceiling, stop), or ``narrow`` while they
    fail (None: the floor, stop); then bisect with ``middle`` until ``close(good, bad)``. Assumes
    ``passes`` is monotone (true below some value, false above it); a noisy one still ends in budget.
    """
    if max_trials < 1:
        raise ValueError(f"max_trials {max_trials}: must be at least 1")
    used = 0
    good: T | None = None
    bad: T | None = None

    def trial(value: T) -> None:
        nonlocal used, good, bad
        used += 1
        if passes(value):
            good = value
        else:
            bad = value

    trial(start)
    done = False
    while not done and used < max_trials:
        if good is None or bad is None:  # still bracketing
            step = widen(good) if good is not None else narrow(bad)  # type: ignore[arg-type]
            if step is None:
                done = True
            else:
                trial(step)
        elif close(good, bad):
            done = True
        else:
            trial(middle(good, bad))
    if not done:  # out of trials: done all the same if the last trial closed the interval
        done = good is not None and bad is not None and close(good, bad)
    return Edge(good, bad, used, capped=not done)


def save_search(outcome: dict[str, Any], output: Path, name: str, plot: Callable[[dict[str, Any], Path], None]) -> None:
    """Write ``<name>.json`` (atomically) and ``<name>.png`` into ``output``."""
    output.mkdir(parents=True, exist_ok=True)
    atomic_write_text(output / f"{name}.json", json.dumps(outcome, indent=2) + "\n")
    plot(outcome, output / f"{name}.png")
