"""The plot of a peak search: each trial's latency against the searched value, and the latency bound."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from common.plots import figure, save_png


def plot_search(
    points: list[tuple[float, float, bool]],
    bound: float,
    path: Path,
    *,
    xlabel: str,
    ylabel: str,
    bound_label: str,
    log2_x: bool = False,
    final: Sequence[tuple[float, float, bool]] = (),
) -> Path | None:
    """A search's trials: latency against the searched value, the ones that met the bound as dots, the
    others as crosses, the latency bound as a dashed line; ``final`` runs (the full-length ones that
    decide) as a star where they passed, a square where not."""
    if not points:
        return None
    points = sorted(points)
    fig, ax = figure()
    ax.plot([p[0] for p in points], [p[1] for p in points], color="#4477aa", linewidth=1)
    for passed, marker, color, label in ((True, "o", "#4477aa", "met the bound"),
                                         (False, "x", "#cc3311", "missed it")):
        chosen_points = [p for p in points if p[2] is passed]
        if chosen_points:
            ax.plot([p[0] for p in chosen_points], [p[1] for p in chosen_points], linestyle="none",
                    marker=marker, color=color, label=label)
    for passed, marker, color, label in ((True, "*", "#228833", "full run, VALID"),
                                         (False, "s", "#cc3311", "full run, INVALID")):
        runs = [p for p in final if p[2] is passed]
        if runs:
            ax.plot([p[0] for p in runs], [p[1] for p in runs], linestyle="none", marker=marker,
                    markersize=12 if passed else 8, color=color, label=label)
    ax.axhline(bound, color="#cc3311", linestyle="--", label=bound_label)
    if log2_x:
        ax.set_xscale("log", base=2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small")
    return save_png(fig, path)
