"""Audit results (``mlperf-ref audit``'s output folders) as the submission tree holds them.

An audit folder holds ``audit.json`` (the test, benchmark, scenario, the implementation that ran and whether
it passed) beside the LoadGen logs of the audit run; the tree puts it at
``audit/<system>/<model>/<scenario>/<TEST>/``. The scenario is the one LoadGen logged in the audit's detail log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.effective_settings import DETAIL_LOG, read_effective
from common.errors import UsageError
from common.schema import SchemaError, check
from compliance.definitions import AUDIT_JSON, AUDIT_TESTS
from compliance.run_identity import RunIdentity, identity_of
from tools.submission.layout import v05_model_names
from tools.submission.runs import Group

AUDIT_FILE = "audit.json"
AUDIT_LOGS = Path("performance") / "run_1"  # the audit run's LoadGen logs in its folder


@dataclass(frozen=True)
class Audit:
    folder: Path
    test: str
    benchmark: str
    scenario: str  # as LoadGen logged it
    passed: bool | None  # None: audit.json does not say
    identity: RunIdentity | None = None  # the implementation the audit ran


def _passed(data: dict[str, Any]) -> bool | None:
    """Whether the audit passed, from audit.json's ``passed`` (bool) or ``result``/``verdict`` ("TEST PASS")."""
    if isinstance(data.get("passed"), bool):
        return data["passed"]
    for key in ("result", "verdict"):
        value = data.get(key)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().upper() in ("TEST PASS", "PASS", "TEST FAIL", "FAIL"):
            return "PASS" in value.upper()
    return None


def failure_reasons(data: dict[str, Any]) -> list[str]:
    """What audit.json says went wrong: settings not in force, the accuracy or the performance check."""
    found = [str(line) for line in data.get("settings_problems") or []]
    for part in ("accuracy", "performance"):
        if data.get(f"{part}_passed") is False:
            found += [str(line) for line in data.get(f"{part}_lines") or []]
    return found


def read_audit_json(folder: Path) -> dict[str, Any] | None:
    """audit.json's content, None when it is missing or no JSON; SchemaError (naming the file and the field)
    when it is JSON of another shape."""
    path = Path(folder) / AUDIT_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return check(data, AUDIT_JSON, str(path), closed=False)  # the fields it has; --audits asks for the names


def audit_passed(folder: Path) -> bool | None:
    data = read_audit_json(folder)
    return None if data is None else _passed(data)


def check_audit_matches(audit: Audit, group: Group) -> None:
    """Refuse an audit of another implementation than the group's runs (backend, precision, model file by
    checksum, --quick, --count)."""
    for run in group.runs():
        differences = audit.identity.differences(run.identity, ("the audit", "the result")) \
            if audit.identity is not None else ["no implementation recorded (the audit)"]
        if differences:
            raise UsageError(f"--audits {audit.folder}: the {audit.test} of another implementation than the result "
                             f"{group.name} ({run.folder}): {'; '.join(differences)}; audit the result's own runs")


def load_audit(folder: Path) -> Audit:
    """An ``--audits`` folder, checked (one clear line when it is no audit result)."""
    try:
        data = read_audit_json(folder)
    except SchemaError as exc:
        raise UsageError(f"--audits {exc}; give an 'mlperf-ref audit' output folder") from None
    if data is None:
        raise UsageError(f"--audits {folder}: no readable {AUDIT_FILE}; give an 'mlperf-ref audit' output folder")
    test, benchmark, scenario = (data.get(key) for key in ("test", "benchmark", "scenario"))
    if test not in AUDIT_TESTS or benchmark not in v05_model_names() or not isinstance(scenario, str):
        raise UsageError(f"--audits {folder}: {AUDIT_FILE} names test {test!r}, benchmark {benchmark!r}, "
                         f"scenario {scenario!r}: not a v0.5 audit this command knows ({', '.join(AUDIT_TESTS)})")
    logs = Path(folder) / AUDIT_LOGS
    if not (logs / DETAIL_LOG).is_file():
        raise UsageError(f"--audits {folder}: no {AUDIT_LOGS / DETAIL_LOG}: not a finished audit (its LoadGen logs "
                         f"are the evidence); run the audit again")
    logged = read_effective(logs)["scenario"]
    if logged != scenario:
        raise UsageError(f"--audits {folder}: {AUDIT_FILE} says {scenario}, LoadGen's {logs / DETAIL_LOG} ran "
                         f"{logged}: not the audit's own record; run the audit again")
    return Audit(Path(folder), test, benchmark, logged, _passed(data), identity_of(data, logged))
