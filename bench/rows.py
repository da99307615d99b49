"""One row of the bench table: a figure, what it is compared with, the goal and the command behind it."""

from __future__ import annotations

import operator
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Row:
    """A measured figure against its baseline; ``ratio`` is figure/baseline (or figure-baseline)."""

    group: str  # "1 engine", "2 latency", ...
    name: str  # what was run: model, backend, precision, batch
    figure: float | None
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    ratio: float | None = None
    comparison: str = "ratio"  # "ratio" (figure/baseline), "difference" (figure-baseline) or "value"
    goal: str = ""  # e.g. ">= 0.97"
    met: bool | None = None
    command: str = ""
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_OPS = {">=": operator.ge, "<=": operator.le}


def judge(value: float | None, goal: str) -> bool | None:
    """Whether ``value`` meets a goal written as '>= 0.97' or '<= 0.3'; None when either is missing."""
    if value is None or not goal:
        return None
    op, _, number = goal.partition(" ")
    return bool(_OPS[op](value, float(number)))


def compared(
    group: str,
    name: str,
    figure: float | None,
    baseline: float | None,
    unit: str,
    baseline_name: str,
    goal: str,
    comparison: str = "ratio",
    **extra: Any,
) -> Row:
    """A row whose ratio (or difference) against ``baseline`` is judged against ``goal``."""
    if figure is None or baseline is None:
        value = None
    elif comparison == "difference":
        value = figure - baseline
    else:
        value = figure / baseline if baseline else None
    return Row(
        group,
        name,
        figure,
        unit,
        baseline,
        baseline_name,
        value,
        comparison,
        goal,
        judge(value, goal),
        **extra,
    )


def absolute(group: str, name: str, figure: float | None, unit: str, goal: str = "", **extra: Any) -> Row:
    """A row judged on its own value (e.g. the null backend's samples/s)."""
    return Row(group, name, figure, unit, comparison="value", goal=goal, met=judge(figure, goal), **extra)
