"""The submission folder written whole or not at all: built in a temporary folder beside ``--output``,
then swapped in by rename. A folder that holds another submission (or other files) is refused."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from common.errors import UsageError
from tools.submission.layout import MARKER


def _identity(output: Path) -> dict[str, str] | None:
    """Whose submission ``output`` holds (None: missing or empty); refused when it holds other files."""
    if not output.exists():
        return None
    if not output.is_dir():
        raise UsageError(f"--output {output}: a file is there; give a folder")
    if not any(output.iterdir()):
        return None
    try:
        found = json.loads((output / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise UsageError(f"--output {output}: the folder holds other files, not a submission this command "
                         f"wrote; choose a new or empty folder") from None
    return found if isinstance(found, dict) else {}


def check_output(output: Path, identity: dict[str, str]) -> dict[str, str] | None:
    """What ``output`` holds: nothing (None) or this same submission; another submission is refused."""
    existing = _identity(Path(output))
    if existing is not None and existing != identity:
        theirs = ", ".join(f"{k} {existing.get(k)}" for k in identity)
        raise UsageError(f"--output {output}: the folder holds another submission ({theirs}); choose another "
                         f"folder or the same --division, --submitter and --system")
    return existing


def build(output: Path, identity: dict[str, str], fill: Callable[[Path], None]) -> None:
    """Run ``fill`` on a temporary copy of ``output`` (empty, or its earlier content when it holds the same
    submission) and put the result in place of ``output`` in one rename."""
    output = Path(output).absolute()
    existing = check_output(output, identity)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp"))
    try:
        if existing is not None:
            shutil.copytree(output, tmp, dirs_exist_ok=True, symlinks=True)
        fill(tmp)
        (tmp / MARKER).write_text(json.dumps(identity, indent=2) + "\n", encoding="utf-8")
        _swap(tmp, output)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap(tmp: Path, output: Path) -> None:
    """Put ``tmp`` where ``output`` is; the old folder is removed only once the new one is in place."""
    if not output.exists():
        os.rename(tmp, output)
        return
    old = output.with_name(f".{output.name}.old-{os.getpid()}")
    os.rename(output, old)
    try:
        os.rename(tmp, output)
    except OSError:
        os.rename(old, output)
        raise
    shutil.rmtree(old, ignore_errors=True)
