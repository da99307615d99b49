"""``mlperf-ref check DIR``: the v0.5 checker's rules (official_rules.py) and this project's stricter ones,
one line per problem.

Beyond the original: the accuracy against the quality target, LoadGen's INVALID reasons and the MultiStream
bound it does not check, the effective settings (common/effective_settings.py: the v0.5 values in force,
no audit config, no LoadGen error, no quick or --count run), runs on synthetic data, random weights or the
null backend, and the audits each result needs (missing, failed, or silent about their verdict).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from common.choices import SCENARIO_NAMES
from common.effective_settings import submission_problems
from common.errors import UsageError
from common.loadgen_log import invalid_reasons, parse_detail, parse_summary
from common.rules import v05_rule
from compliance.definitions import required_audits
from tools.submission import official_rules as official
from tools.submission.audits import AUDIT_FILE, audit_passed, failure_reasons, read_audit_json
from tools.submission.layout import DIVISIONS, benchmark_of, performance_runs


def check_tree(root: Path) -> list[str]:
    """Every problem of the submission tree at ``root`` as ``path: problem`` (empty: it passes)."""
    root = Path(root)
    if not root.is_dir():
        raise UsageError(f"check {root}: no such folder; give the --output folder of 'mlperf-ref submission'")
    problems: list[tuple[Path, str]] = []
    divisions = official.folders(root)
    if not divisions:
        problems.append((root, f"no division folder ({', '.join(DIVISIONS)}): not a v0.5 submission tree"))
    for division in divisions:
        for submitter in official.folders(root / division):
            problems += _submitter_problems(root / division / submitter, submitter, division)
    return [f"{_relative(path, root)}: {text}" for path, text in problems]


def _relative(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path != root else str(root)


def _submitter_problems(base: Path, submitter: str, division: str) -> list[tuple[Path, str]]:
    problems: list[tuple[Path, str]] = []
    systems = official.folders(base / "results")
    if not systems:
        problems.append((base, "no results/<system>/ folder"))
    for system in systems:
        system_file = base / "systems" / f"{system}.json"
        problems += [(system_file, p) for p in official.system_problems(system_file, submitter, division)]
        for model in official.folders(base / "results" / system):
            if model not in benchmark_of():
                problems.append((base / "results" / system / model,
                                 f"invalid model name {model}; v0.5 names: {', '.join(benchmark_of())}"))
                continue
            for scenario in official.folders(base / "results" / system / model):
                problems += _result_problems(base, system, model, scenario)
    return problems


def _result_problems(base: Path, system: str, model: str, scenario: str) -> list[tuple[Path, str]]:
    result = base / "results" / system / model / scenario
    if scenario not in SCENARIO_NAMES:
        return [(result, f"invalid scenario name {scenario}; v0.5 names: {', '.join(SCENARIO_NAMES)}")]
    benchmark = benchmark_of()[model]
    problems: list[tuple[Path, str]] = []
    for folder, found in official.result_problems(result, model, scenario).items():
        problems += [(folder, text) for text in found]
        if folder.is_dir() and (folder / "mlperf_log_detail.txt").is_file():
            problems += [(folder, text) for text in submission_problems(folder, benchmark, scenario)]
            problems += [(folder, text) for text in _run_facts(folder)]
    problems += [(result / "accuracy", text) for text in _accuracy_target(result / "accuracy", benchmark)]
    for run in range(1, performance_runs(scenario) + 1):
        folder = result / "performance" / f"run_{run}"
        problems += [(folder, text) for text in _loadgen_reasons(folder, benchmark, scenario)]
    measurements = base / "measurements" / system / model / scenario
    problems += [(measurements, p) for p in official.measurement_problems(base, system, model, scenario)]
    for test in required_audits(benchmark):
        folder = base / "audit" / system / model / scenario / test
        problem = _audit_problem(folder, test, benchmark, scenario)
        if problem:
            problems.append((folder, problem))
    return problems


def _accuracy_target(folder: Path, benchmark: str) -> list[str]:
    """The score in accuracy.txt against the benchmark's closed-division quality target."""
    value = official.accuracy_value(folder)
    if value is None:
        return []  # said by the original's rule
    from common.registry import get_benchmark

    target = get_benchmark(benchmark).info.quality
    if target.passes(value):
        return []
    return [f"accuracy {value:g}{target.unit} is below the quality target {target.describe()}"]


def _loadgen_reasons(folder: Path, benchmark: str, scenario: str) -> list[str]:
    """Why LoadGen said INVALID, and a MultiStream bound missed (this LoadGen does not check it)."""
    summary_path = folder / "mlperf_log_summary.txt"
    if not summary_path.is_file() or not (folder / "mlperf_log_detail.txt").is_file():
        return []
    summary, detail = parse_summary(summary_path), parse_detail(folder / "mlperf_log_detail.txt")
    bound = float(v05_rule(benchmark, scenario, "target_latency")) * 1e6 if scenario == "MultiStream" else None
    reasons = invalid_reasons(summary, detail, latency_bound_ns=bound)
    return [f"INVALID: {r}" if summary.valid is False else f"latency bound missed: {r}" for r in reasons]


def _results_json(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _run_facts(folder: Path) -> list[str]:
    """What results.json says makes the run no benchmark result: synthetic data, random weights, no model."""
    data = _results_json(folder)
    problems = []
    if data.get("synthetic_data"):
        problems.append("ran on SYNTHETIC sample data, not the benchmark's dataset")
    if data.get("random_weights"):
        problems.append("ran a model with RANDOM weights (export-model), not the official model")
    if data.get("backend") == "null":
        problems.append("ran the null backend: no model runs")
    return problems


def _audit_problem(folder: Path, test: str, benchmark: str, scenario: str) -> str | None:
    if not folder.is_dir():
        return (f"audit {test} missing: run 'mlperf-ref audit {test} {benchmark} --scenario {scenario} "
                f"--reference RUN_DIR ...' and add it with 'mlperf-ref submission ... --audits DIR'")
    data = read_audit_json(folder) or {}
    named = (data.get("test"), data.get("benchmark"), data.get("scenario"))
    if data and named != (test, benchmark, scenario):
        return f"audit {test}: {AUDIT_FILE} is the audit of {' '.join(map(str, named))}, not of this result"
    passed = audit_passed(folder)
    if passed is None:
        return f"audit {test}: no {AUDIT_FILE} saying whether it passed"
    if passed:
        return None
    reasons = "; ".join(failure_reasons(data)) or f"see {AUDIT_FILE}"
    return f"audit {test} FAILED: {reasons}"
