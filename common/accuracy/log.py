"""LoadGen's mlperf_log_accuracy.json: a JSON array of {seq_id, qsl_idx, data (hex)}."""

from __future__ import annotations

import json
from pathlib import Path

from common.errors import UsageError


def read_accuracy_log(path: Path) -> dict[int, bytes]:
    """Payloads by qsl index, each index once (the first record wins, as in the v0.5 scripts)."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"--log {path}: no such file (run with --accuracy first)")
    try:
        records = json.loads(path.read_text(encoding="utf-8") or "[]")
    except json.JSONDecodeError as exc:
        raise UsageError(f"--log {path}: not a LoadGen accuracy log ({exc})") from exc
    if not isinstance(records, list):
        raise UsageError(f"--log {path}: not a LoadGen accuracy log (a JSON list of records expected, "
                         f"found a {type(records).__name__})")
    results: dict[int, bytes] = {}
    for number, record in enumerate(records):
        try:
            results.setdefault(int(record["qsl_idx"]), bytes.fromhex(record["data"]))
        except (TypeError, KeyError, ValueError) as exc:
            raise UsageError(f"--log {path}: record {number} is not a LoadGen accuracy record "
                             f"(qsl_idx and hex data expected): {record!r:.80}") from exc
    return results
