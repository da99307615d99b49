"""The rules of the r0.5 submission checker (mlcommons/inference ``v0.5/tools/submission/
submission-checker.py``), ported: one problem line per breach, where the original logs an error.

What it checks, as the original does: the model names; ``accuracy/`` holds exactly the three LoadGen logs
and ``accuracy.txt`` (``mlperf_log_trace.json`` and ``results.json`` tolerated) and ``accuracy.txt`` has an
``accuracy=``, ``mAP=`` or ``BLEU:`` line; each ``performance/run_N`` (Server: 5) holds the three logs, says
``Result is : VALID`` and a ``performance_sample_count`` at least the model's; ``systems/<system>.json``
exists with every required field of the v0.5 template and no other, and the tree's submitter and division;
``measurements/<system>/<model>/<scenario>/`` holds ``mlperf.conf``, ``user.conf``, ``README.md`` and a
``<system>_<implementation>[_<scenario>].json`` with the implementation fields and no others; and
``code/<model>/<implementation>/`` exists. Where the original stops at the first error of a result, this
port goes on, so a fix does not reveal the next problem only on the next run.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tools.submission.layout import (
    ACCURACY_FILES,
    DIVISIONS,
    IMPLEMENTATION_FIELDS,
    LOG_FILES,
    MEASUREMENT_FILES,
    TOLERATED_FILES,
    performance_runs,
    performance_sample_counts,
)
from tools.submission.system_desc import FIELDS, REQUIRED_FIELDS

ACCURACY_LINES = (re.compile(r"^accuracy=([\d.]+)"), re.compile(r"^mAP=([\d.]+)"), re.compile(r"^BLEU:\s*([\d.]+)"))
_VALID = re.compile(r"^Result\s+is\s*:\s+VALID")
_PARAMETER = re.compile(r"^\s*([\w\s.()/]+)\s*:\s*([\d.]+).*")


def folders(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")) \
        if path.is_dir() else []


def file_list_problem(folder: Path, required: tuple[str, ...]) -> str | None:
    """The files missing from ``folder`` or not expected in it (None: exactly the required ones)."""
    if not folder.is_dir():
        return "folder missing"
    present = {p.name for p in folder.iterdir() if p.is_file()} - set(TOLERATED_FILES)
    missing, extra = sorted(set(required) - present), sorted(present - set(required))
    parts = [f"{label} {', '.join(names)}" for label, names in (("missing", missing), ("unexpected", extra)) if names]
    return "; ".join(parts) or None


def accuracy_value(folder: Path) -> float | None:
    """The score on accuracy.txt's ``accuracy=``/``mAP=``/``BLEU:`` line (None: no such line)."""
    try:
        lines = (folder / "accuracy.txt").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        for pattern in ACCURACY_LINES:
            match = pattern.match(line)
            if match:
                try:
                    return float(match.group(1).rstrip("."))
                except ValueError:
                    return None
    return None


def _mismatch(problem: str) -> str:
    return problem if problem == "folder missing" else f"file list mismatch: {problem}"


def accuracy_problems(folder: Path) -> list[str]:
    problem = file_list_problem(folder, ACCURACY_FILES)
    if problem:
        return [_mismatch(problem)]
    if accuracy_value(folder) is None:
        return ["accuracy.txt has no 'accuracy=', 'mAP=' or 'BLEU:' line (the accuracy was not scored)"]
    return []


def performance_problems(folder: Path, model: str) -> list[str]:
    problem = file_list_problem(folder, LOG_FILES)
    if problem:
        return [_mismatch(problem)]
    valid, parameters = False, {}
    for line in (folder / "mlperf_log_summary.txt").read_text(encoding="utf-8", errors="replace").splitlines():
        valid = valid or bool(_VALID.match(line))
        match = _PARAMETER.match(line)
        if match:
            parameters[match.group(1).strip()] = match.group(2).strip()
    problems = [] if valid else ["mlperf_log_summary.txt does not say 'Result is : VALID'"]
    count, needed = parameters.get("performance_sample_count"), performance_sample_counts().get(model)
    if needed is not None and (count is None or float(count) < needed):
        problems.append(f"performance_sample_count {count} in the summary, the v0.5 checker wants at least {needed}")
    return problems


def result_problems(result: Path, model: str, scenario: str) -> dict[Path, list[str]]:
    """The original's checks of one ``results/<system>/<model>/<scenario>`` folder, by folder."""
    found = {result / "accuracy": accuracy_problems(result / "accuracy")}
    for run in range(1, performance_runs(scenario) + 1):
        folder = result / "performance" / f"run_{run}"
        found[folder] = performance_problems(folder, model)
    return found


def system_problems(path: Path, submitter: str, division: str) -> list[str]:
    """``systems/<system>.json``: required fields, no unknown ones, the tree's submitter and division."""
    if division not in DIVISIONS:
        return [f"division '{division}' is neither of {', '.join(DIVISIONS)}"]
    try:
        desc = json.loads(path.read_text(encoding="utf-8"))
    except OSError:
        return ["missing: no system description for these results"]
    except ValueError as exc:
        return [f"not JSON ({exc})"]
    if not isinstance(desc, dict):
        return ["not a JSON object of system fields"]
    problems = [f"field {name} missing" for name in REQUIRED_FIELDS if desc.get(name) in (None, "")]
    problems += [f"unknown field {name}" for name in sorted(set(desc) - set(FIELDS))]
    for key, expected in (("submitter", submitter), ("division", division)):
        if desc.get(key) not in (None, expected):
            problems.append(f"{key} is '{desc.get(key)}', the folder says '{expected}'")
    if "division" not in desc:
        problems.append("field division missing (the v0.5 checker compares it with the folder)")
    return problems


def measurement_problems(base: Path, system: str, model: str, scenario: str) -> list[str]:
    """``measurements/<system>/<model>/<scenario>``: its files, implementation description and code folder."""
    folder = base / "measurements" / system / model / scenario
    if not folder.is_dir():
        return ["folder missing"]
    files = sorted(p.name for p in folder.iterdir() if p.is_file())
    problems = [f"{name} missing" for name in MEASUREMENT_FILES if name not in files]
    described = [n for n in files if n.startswith(system) and n.endswith(f"_{scenario}.json")] or \
        [n for n in files if n.startswith(system) and n.endswith(".json")]
    if not described:
        return [*problems, f"{system}_<implementation>_{scenario}.json missing"]
    name = described[0]
    end = len(f"_{scenario}.json") if name.endswith(f"_{scenario}.json") else len(".json")
    try:
        fields = json.loads((folder / name).read_text(encoding="utf-8"))
        fields = fields if isinstance(fields, dict) else {}
    except (OSError, ValueError):
        fields = {}
    problems += [f"{name}: field {key} missing" for key in IMPLEMENTATION_FIELDS if fields.get(key) in (None, "")]
    problems += [f"{name}: unknown field {key}" for key in sorted(set(fields) - set(IMPLEMENTATION_FIELDS))]
    implementation = name[len(system) + 1:-end]
    if not (base / "code" / model / implementation).is_dir():
        problems.append(f"code/{model}/{implementation} missing (the implementation's code)")
    return problems
