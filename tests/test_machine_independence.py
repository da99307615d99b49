"""Nothing under tests/ names a path of the machine it was made on.

Test data recorded on one machine (results.json, summaries) used to carry that machine's absolute paths;
a test that then reads such a path passes only where it still exists. Recorded paths are written as
``@RUN_ROOT@`` (tests/support/recorded.py) and filled in with the test's own temporary folder.
"""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
CHECKOUT = TESTS.parent
SKIPPED_FOLDERS = {"__pycache__", ".pytest_cache"}
# An absolute path below the temporary folder or a home folder (not a URL's path, not part of a longer name).
MACHINE_PATH = re.compile(rb"(?<![\w.@~/:-])/(?:t" rb"mp|h" rb"ome|r" rb"oot)(?=/)")


def machine_paths(data: bytes, checkout: Path = CHECKOUT) -> list[str]:
    """The machine-specific absolute paths in ``data``: below tmp, home or root, or the checkout itself."""
    found = [data[m.start():m.start() + 60].split(b'"')[0].split()[0].decode(errors="replace")
             for m in MACHINE_PATH.finditer(data)]
    if str(checkout).encode() in data:
        found.append(str(checkout))
    return found


def test_the_pattern_finds_what_it_is_for() -> None:
    assert machine_paths(b'{"log_dir": "' + b"/t" + b'mp/before/null-Offline/accuracy"}') == [
        "/t" + "mp/before/null-Offline/accuracy"]
    assert machine_paths(b"cache " + b"/r" + b"oot/.cache/mlperf-ref/x") == ["/r" + "oot/.cache/mlperf-ref/x"]
    assert machine_paths(b"https://example.org/t" + b"mp/x and @RUN_ROOT@/full") == []
    assert machine_paths(b"in /work/clone/tests", checkout=Path("/work/clone")) == ["/work/clone"]


def test_no_file_under_tests_names_a_path_of_this_or_another_machine() -> None:
    offenders = {}
    for path in sorted(TESTS.rglob("*")):
        if path.is_file() and not SKIPPED_FOLDERS.intersection(path.relative_to(TESTS).parts):
            found = machine_paths(path.read_bytes())
            if found:
                offenders[str(path.relative_to(CHECKOUT))] = found[:3]
    assert offenders == {}
