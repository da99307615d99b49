"""``mlperf-ref check DIR``: the v0.5 checker's rules (official_rules.py) and this project's stricter ones,
one line per problem, every verdict taken from LoadGen's own logs.

Read as the r0.5 checker reads a tree: both LoadGen log formats (2019's text logs and today's ``:::MLLOG``),
scenario folders in any case (``offline``, ``server``). Stricter than it, and why:

- the detail log first (tools/submission/evidence.py): a detail log that is unreadable, cut short or
  contradicted by its summary is named, in every phase (the original reads the summary's VALID alone);
- the effective settings (common/effective_settings.py: the v0.5 values in force, no audit config, no
  LoadGen error, no quick or --count run), LoadGen's INVALID reasons and the MultiStream bound;
- the accuracy log covers the QSL its detail log states; with ``--dataset-path BENCH=DIR`` it is
  re-scored and an ``accuracy.txt`` it does not give is named (the original only looks for the line);
  without it the figure in accuracy.txt is used for the quality target and a note says it was not re-scored;
- a Server result needs 5 runs whatever its folder's case (the original wants 5 only of ``Server``);
- the audits each result needs (the original checks none), judged from the official verify outputs and the
  audit run's logs (tools/submission/audit_outputs.py), never from audit.json's ``passed`` alone;
- runs on synthetic data, random weights or the null backend (this project's results.json says so).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.choices import SCENARIO_NAMES
from common.effective_settings import phase_problems, run_problems
from common.errors import UsageError
from common.loadgen_log import invalid_reasons
from common.rules import v05_rule
from common.schema import SchemaError
from compliance.definitions import required_audits
from tools.submission import evidence
from tools.submission import official_rules as official
from tools.submission.audit_outputs import audit_problems
from tools.submission.audits import AUDIT_FILE, read_audit_json
from tools.submission.layout import DIVISIONS, benchmark_of, performance_runs, v05_model_names

SCENARIO_OF_FOLDER = {name.lower(): name for name in SCENARIO_NAMES}  # the r0.5 checker takes any case


@dataclass
class Report:
    """What the check found: problems (each ``path: text``) and notes (what it could not check, and why)."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def dataset_paths(values: Sequence[str]) -> dict[str, Path]:
    """``--dataset-path BENCH=DIR`` values by benchmark (mlperf.conf or v0.5 tree name); UsageError if bad."""
    found: dict[str, Path] = {}
    for value in values:
        name, sep, folder = value.partition("=")
        bench = benchmark_of().get(name, name)
        if not sep or bench not in v05_model_names():
            raise UsageError(f"--dataset-path {value}: give BENCH=DIR, BENCH one of {', '.join(v05_model_names())}")
        if not Path(folder).is_dir():
            raise UsageError(f"--dataset-path {value}: no such folder {folder}")
        found[bench] = Path(folder)
    return found


def check_tree(root: Path, datasets: Mapping[str, Path] | None = None) -> list[str]:
    """Every problem of the submission tree at ``root`` as ``path: problem`` (empty: it passes)."""
    return check_report(root, datasets).problems


def check_report(root: Path, datasets: Mapping[str, Path] | None = None) -> Report:
    """The problems of the tree at ``root`` and the notes on what was not checked; ``datasets`` (benchmark ->
    folder) lets the accuracy logs of those benchmarks be re-scored."""
    root = Path(root)
    if not root.is_dir():
        raise UsageError(f"check {root}: no such folder; give the --output folder of 'mlperf-ref submission'")
    checker = _Checker(root, dict(datasets or {}))
    divisions = official.folders(root)
    if not divisions:
        checker.add(root, f"no division folder ({', '.join(DIVISIONS)}): not a v0.5 submission tree")
    for division in divisions:
        for submitter in official.folders(root / division):
            checker.submitter(root / division / submitter, submitter, division)
    unscored = sorted(checker.unscored)
    if unscored:
        checker.report.notes.append(
            f"accuracy not re-scored for {', '.join(unscored)} (give --dataset-path BENCH=DIR): the quality "
            f"target is judged on the figure accuracy.txt states, which nothing here recomputed")
    return checker.report


def _relative(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path != root else str(root)


class _Checker:
    def __init__(self, root: Path, datasets: dict[str, Path]) -> None:
        self.root, self.datasets = root, datasets
        self.report = Report()
        self.unscored: set[str] = set()

    def add(self, path: Path, text: str) -> None:
        self.report.problems.append(f"{_relative(path, self.root)}: {text}")

    def submitter(self, base: Path, submitter: str, division: str) -> None:
        systems = official.folders(base / "results")
        if not systems:
            self.add(base, "no results/<system>/ folder")
        for system in systems:
            system_file = base / "systems" / f"{system}.json"
            for text in official.system_problems(system_file, submitter, division):
                self.add(system_file, text)
            for model in official.folders(base / "results" / system):
                if model not in benchmark_of():
                    self.add(base / "results" / system / model,
                             f"invalid model name {model}; v0.5 names: {', '.join(benchmark_of())}")
                    continue
                for folder in official.folders(base / "results" / system / model):
                    self.result(base, system, model, folder)

    def result(self, base: Path, system: str, model: str, folder: str) -> None:
        result = base / "results" / system / model / folder
        scenario = SCENARIO_OF_FOLDER.get(folder.lower())
        if scenario is None:
            self.add(result, f"invalid scenario name {folder}; v0.5 names: {', '.join(SCENARIO_NAMES)} (any case)")
            return
        benchmark = benchmark_of()[model]
        for phase_folder, found in official.result_problems(result, model, scenario).items():
            for text in found:
                self.add(phase_folder, text)
            if phase_folder.is_dir():
                self.phase(phase_folder, benchmark, scenario)
        for text in official.measurement_problems(base, system, model, folder):
            self.add(base / "measurements" / system / model / folder, text)
        runs = [result / "performance" / f"run_{n}" for n in range(1, performance_runs(scenario) + 1)]
        audits = base / "audit" / system / model / folder
        missing = [test for test in required_audits(benchmark) if not (audits / test).is_dir()]
        if missing:
            self.add(audits, f"audit {', '.join(missing)} missing: run 'mlperf-ref audit TEST {benchmark} --scenario "
                             f"{scenario} --reference RUN_DIR ...' and add it with 'mlperf-ref submission ... "
                             f"--audits DIR' (the r0.5 checker does not look for audits; the v0.5 rules want them)")
        for test in required_audits(benchmark):
            if test not in missing:
                for text in _audit_problems(audits / test, test, benchmark, scenario, runs):
                    self.add(audits / test, text)

    def phase(self, folder: Path, benchmark: str, scenario: str) -> None:
        """One phase folder (accuracy/ or performance/run_N) judged from its logs."""
        logs = evidence.read_phase(folder)
        for text in logs.problems:
            self.add(folder, text)
        if logs.detail is not None:
            for text in submission_problems(folder, benchmark, scenario):
                self.add(folder, text)
            for text in _run_facts(folder):
                self.add(folder, text)
        if folder.name == "accuracy":
            self.accuracy(folder, benchmark, logs)
        elif logs.summary is not None and logs.detail is not None:
            bound = float(v05_rule(benchmark, scenario, "target_latency")) * 1e6 if scenario == "MultiStream" \
                else None
            for reason in invalid_reasons(logs.summary, logs.detail, latency_bound_ns=bound):
                self.add(folder, f"INVALID: {reason}" if logs.summary.valid is False else
                         f"latency bound missed: {reason}")

    def accuracy(self, folder: Path, benchmark: str, logs: evidence.PhaseLogs) -> None:
        """The accuracy log against its QSL, re-scored where the dataset is given; the quality target."""
        stated = evidence.stated_figure(folder)
        log = None
        if (folder / evidence.ACCURACY_LOG).is_file():
            try:
                log = evidence.read_accuracy_records(folder / evidence.ACCURACY_LOG)
            except UsageError as exc:
                self.add(folder, str(exc))
        if log is not None and logs.detail is not None:
            for text in evidence.accuracy_log_problems(log, logs.detail):
                self.add(folder, text)
        figure = stated[0] if stated else None
        if benchmark not in self.datasets:
            self.unscored.add(benchmark)
        elif log is not None:
            try:
                scored = evidence.rescore(benchmark, log, self.datasets[benchmark])
            except UsageError as exc:  # the scorer cannot read these payloads: no verdict either way
                self.report.notes.append(f"{_relative(folder, self.root)}: accuracy log not re-scored: "
                                         f"{str(exc).removeprefix(f'--log {evidence.ACCURACY_LOG}: ')}")
            else:
                if stated is not None and evidence.figure_disagrees(stated, scored):
                    self.add(folder, f"accuracy.txt states {stated[0]:g}, its own {evidence.ACCURACY_LOG} gives "
                                     f"{scored:.3f}: accuracy.txt is not this log's score")
                figure = scored
        if figure is not None:
            for text in _accuracy_target(figure, benchmark):
                self.add(folder, text)


def _accuracy_target(value: float, benchmark: str) -> list[str]:
    """The score against the benchmark's closed-division quality target."""
    from common.registry import get_benchmark

    target = get_benchmark(benchmark).info.quality
    if target.passes(value):
        return []
    return [f"accuracy {value:g}{target.unit} is below the quality target {target.describe()}"]


def submission_problems(outdir: Path, benchmark: str, scenario: str) -> list[str]:
    """Why the phase logged in ``outdir`` is no v0.5 submission run, one plain line each (empty: none).

    ``benchmark`` is the model's name in mlperf.conf (``resnet50``, ``gnmt``, ...). The phase is an
    accuracy phase when its folder is named ``accuracy``, else a performance phase. A ``results.json``
    in ``outdir`` or its parent adds its quick and ``--count`` flags.
    """
    outdir = Path(outdir)
    phase = "accuracy" if outdir.name == "accuracy" else "performance"
    problems = phase_problems(outdir, benchmark, scenario, phase)
    for folder in (outdir, outdir.parent):
        if (folder / "results.json").is_file():
            flags = _results_json(folder)
            problems += run_problems(flags if flags is not None else {"unreadable": str(folder / "results.json")})
            break
    return problems


def _results_json(folder: Path) -> dict[str, Any] | None:
    """The folder's results.json as an object, or None where it is missing or unreadable."""
    try:
        data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _run_facts(folder: Path) -> list[str]:
    """What results.json says makes the run no benchmark result: synthetic data, random weights, no model."""
    data = _results_json(folder) or {}
    problems = []
    if data.get("synthetic_data"):
        problems.append("ran on SYNTHETIC sample data, not the benchmark's dataset")
    if data.get("random_weights"):
        problems.append("ran a model with RANDOM weights (export-model), not the official model")
    if data.get("backend") == "null":
        problems.append("ran the null backend: no model runs")
    return problems


def _audit_problems(folder: Path, test: str, benchmark: str, scenario: str, runs: list[Path]) -> list[str]:
    try:
        data = read_audit_json(folder) or {}
    except SchemaError as exc:
        return [f"audit {test}: {exc}"]
    named = (data.get("test"), data.get("benchmark"), data.get("scenario"))
    if data and named != (test, benchmark, scenario):
        return [f"audit {test}: {AUDIT_FILE} is the audit of {' '.join(map(str, named))}, not of this result"]
    return audit_problems(folder, test, scenario, runs)
