"""Progress bars on long work, quiet when stderr is not a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress_enabled(wanted: bool = True) -> bool:
    """Bars only for a person at a terminal."""
    return wanted and sys.stderr.isatty()


def progress(items: Iterable[T], desc: str, total: int | None = None, enabled: bool = True) -> Iterator[T]:
    """Wrap ``items`` in a tqdm bar on stderr when a terminal shows it."""
    yield from tqdm(items, desc=desc, total=total, disable=not progress_enabled(enabled), unit="it",
                    dynamic_ncols=True, leave=False)
