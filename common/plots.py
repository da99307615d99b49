"""Plots for people who would rather look than read: a headless figure, saved atomically as PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from common.atomic import atomic_open


def figure(width: float = 6, height: float = 3.2) -> tuple[Any, Any]:
    """A new matplotlib figure and axes on the headless Agg backend (matplotlib loads only when plotting)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height))


def save_png(fig: Any, path: Path) -> Path:
    """Write the figure to ``path`` (never half-written) and free it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    with atomic_open(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=100)
    plt.close(fig)
    return path
