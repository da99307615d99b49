"""Write the v0.5 submission tree from grouped runs: results, measurements, code, systems, audits."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.output_folder import LOCK_NAME
from common.results import USER_CONF_COPY, RunResults
from common.rules import rules_file
from compliance.definitions import TEST04_A, TEST04_B
from tools.submission.audits import Audit
from tools.submission.layout import (
    ACCURACY_FILES,
    LOG_FILES,
    Tree,
    implementation_name,
    v05_model_names,
)
from tools.submission.runs import Group, Run
from tools.submission.system_desc import build_desc, machine_desc, read_user_desc, software_fields

TEST04_OUTPUT = "verify_test4_performance.txt"  # written by 'mlperf-ref audit' for TEST04's B run
SOURCE_ROOT = Path(__file__).resolve().parents[2]  # the folder that holds common/, tools/, vision/, ...
_SOURCE_FOLDERS = ("common", "compliance", "tools", "vision", "translation", "requirements")
_SOURCE_SUFFIXES = (".py", ".conf", ".sh", ".txt", ".toml", ".md")
_SOURCE_LIMIT = 256 * 1024  # bytes: data lists such as ImageNet's val_map.txt are not code
_FRAMEWORKS = {"onnxruntime": "onnxruntime", "pytorch": "torch", "tensorflow": "tensorflow-cpu",
               "openvino": "openvino"}


@dataclass(frozen=True)
class SubmissionConfig:
    """Who submits what: the tree's root and identity, and the user's system description."""

    output: Path
    division: str
    submitter: str
    system: str
    system_desc: Path | None = None

    @property
    def identity(self) -> dict[str, str]:
        return {"division": self.division, "submitter": self.submitter, "system": self.system}


def system_description(cfg: SubmissionConfig, results: Sequence[RunResults],
                       planned: str | None = None) -> dict[str, Any]:
    """The systems/<system>.json content (UsageError with a line per missing field); ``planned`` names the
    framework before any run exists (to refuse a bad description before hours of runs)."""
    user = read_user_desc(cfg.system_desc) if cfg.system_desc else {}
    frameworks, versions = [planned] if planned and not results else [], {}
    for res in results:
        versions.update(res.versions)
        library = _FRAMEWORKS.get(res.backend)
        name = f"{library} {res.versions.get(library, '')}".strip() if library \
            else f"none ({res.backend} backend: no model)"
        if name not in frameworks:
            frameworks.append(name)
    identity = {"division": cfg.division, "submitter": cfg.submitter, "system_id": cfg.system}
    parent = Path(cfg.output).absolute().parent
    return build_desc(identity, machine_desc(parent), software_fields(frameworks, versions), user)


def kept_results(cfg: SubmissionConfig, groups: Mapping[tuple[str, str], Group]) -> list[RunResults]:
    """The runs of the results an earlier command put in ``cfg.output`` that this one keeps (their frameworks
    stay in the system description)."""
    tree = Tree(Path(cfg.output), cfg.division, cfg.submitter)
    replaced = {tree.results(cfg.system, v05_model_names()[b], s) for b, s in groups}
    found = []
    for path in sorted((tree.base / "results" / cfg.system).glob("*/*/*/results.json")):
        if path.parents[1] not in replaced:
            try:
                found.append(RunResults.load(path))
            except (OSError, ValueError, TypeError):
                continue
    return found


def write_tree(root: Path, cfg: SubmissionConfig, groups: Mapping[tuple[str, str], Group],
               desc: dict[str, Any], audits: Sequence[Audit]) -> None:
    """Fill ``root`` (a temporary folder) with the groups' results, measurements and code, the system
    description and the audits."""
    tree = Tree(root, cfg.division, cfg.submitter)
    for group in groups.values():
        _write_group(tree, cfg.system, group)
    path = tree.system_file(cfg.system)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(desc, indent=2) + "\n", encoding="utf-8")
    for audit in audits:
        target = tree.audit(cfg.system, v05_model_names()[audit.benchmark], audit.scenario, audit.test)
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(audit.folder, target, ignore=shutil.ignore_patterns(LOCK_NAME, ".audit-*"))
    for audit in audits:  # TEST04's verdict also beside its A run, where most v0.5 submitters filed it
        pair = tree.audit(cfg.system, v05_model_names()[audit.benchmark], audit.scenario, TEST04_A)
        verdict = audit.folder / TEST04_OUTPUT
        if audit.test == TEST04_B and verdict.is_file() and pair.is_dir():
            shutil.copy2(verdict, pair / TEST04_OUTPUT)


def _copy(source: Path, target: Path, names: Sequence[str]) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy2(source / name, target / name)


def _write_group(tree: Tree, system: str, group: Group) -> None:
    model = v05_model_names()[group.benchmark]
    results = tree.results(system, model, group.scenario)
    shutil.rmtree(results, ignore_errors=True)  # a rerun replaces the group's earlier results whole
    shutil.rmtree(tree.measurements(system, model, group.scenario), ignore_errors=True)
    for run in group.accuracy:
        _copy(run.folder / "accuracy", tree.accuracy(system, model, group.scenario), ACCURACY_FILES)
        shutil.copy2(run.folder / "results.json", tree.accuracy(system, model, group.scenario))
    for number, run in enumerate(group.performance, start=1):
        target = tree.performance(system, model, group.scenario, number)
        _copy(run.folder / "performance", target, LOG_FILES)
        shutil.copy2(run.folder / "results.json", target)
    first = group.runs()[0].results
    implementation = implementation_name(first.backend, first.precision)
    measurements = tree.measurements(system, model, group.scenario)
    measurements.mkdir(parents=True, exist_ok=True)
    shutil.copy2(rules_file(), measurements / "mlperf.conf")
    (measurements / "user.conf").write_text(user_conf(group), encoding="utf-8")
    (measurements / "README.md").write_text(_measurement_readme(group, system, implementation), encoding="utf-8")
    (measurements / f"{system}_{implementation}_{group.scenario}.json").write_text(
        json.dumps(implementation_fields(group.runs()[0]), indent=2) + "\n", encoding="utf-8")
    code = tree.code(model, implementation)
    if not code.exists():
        _write_code(code, group, implementation)


def user_conf(group: Group) -> str:
    """The user.conf in force for the group's performance runs: the --user-conf file they read and the
    conf lines of the settings given beside it (--target-qps, --samples-per-query), as results.json records
    them."""
    lines = [f"# The LoadGen settings the runs of {group.name} took on top of mlperf.conf.", ""]
    seen = set()
    for run in group.performance or group.accuracy:
        options = run.results
        text = []
        kept = run.folder / USER_CONF_COPY  # the conf as the run read it (the user's file may have changed)
        if kept.is_file():
            text.append(kept.read_text(encoding="utf-8").rstrip("\n"))
        elif options.user_conf is not None:  # a run from before the copy was kept
            path = Path(options.user_conf)
            try:
                text.append(path.read_text(encoding="utf-8").rstrip("\n"))
            except OSError:
                text.append(f"# --user-conf {path}: the file is no longer there")
        if options.target_qps is not None and group.scenario in ("Server", "Offline"):
            text.append(f"{group.benchmark}.{group.scenario}.target_qps = {options.target_qps:g}")
        if options.samples_per_query is not None and group.scenario == "MultiStream":
            text.append(f"{group.benchmark}.MultiStream.samples_per_query = {options.samples_per_query}")
        block = "\n".join(text)
        if block and block not in seen:
            seen.add(block)
            lines += [block, ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def implementation_fields(run: Run) -> dict[str, str]:
    """``<system>_<implementation>_<scenario>.json``: the v0.5 implementation description."""
    res = run.results
    if res.model:
        weights = Path(res.model).name
        transform = res.engine.get("quantization") or ("none" if res.precision == "fp32" else res.precision)
    else:
        weights = f"none ({res.backend} backend: no model runs)"
        transform = "none"
    return {"input_data_types": "fp32" if res.precision == "int8" else res.precision, "retraining": "no",
            "starting_weights_filename": weights, "weight_data_types": res.precision,
            "weight_transformations": transform}


def _measurement_readme(group: Group, system: str, implementation: str) -> str:
    lines = [f"# {group.name} on {system} ({implementation})", "",
             "Produced by mlperf-ref (MLPerf Inference v0.5 reference implementations). The commands:", ""]
    for label, runs in (("accuracy", group.accuracy), ("performance", group.performance)):
        for number, run in enumerate(runs, start=1):
            where = "accuracy" if label == "accuracy" else f"performance/run_{number}"
            lines.append(f"- {where}: `{run.results.command_line or '(not recorded)'}`")
    lines += ["", "mlperf.conf here is the v0.5 rules file the runs used; user.conf holds the settings the "
              "submitter gave on top of it.", ""]
    return "\n".join(lines)


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(SOURCE_ROOT), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return out or "unknown"


def _write_code(code: Path, group: Group, implementation: str) -> None:
    """The harness's source as it ran (Python, confs, scripts, requirements) and a README naming it."""
    for folder in _SOURCE_FOLDERS:
        for path in sorted((SOURCE_ROOT / folder).rglob("*")):
            if (path.is_file() and path.suffix in _SOURCE_SUFFIXES and "__pycache__" not in path.parts
                    and path.stat().st_size <= _SOURCE_LIMIT):
                target = code / path.relative_to(SOURCE_ROOT)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
    for name in ("pyproject.toml", "LICENSE", "README.md"):
        if (SOURCE_ROOT / name).is_file():
            shutil.copy2(SOURCE_ROOT / name, code / name)
    (code / "SUBMISSION.md").write_text(
        f"# {v05_model_names()[group.benchmark]}: {implementation}\n\n"
        f"mlperf-ref, commit {_git_commit()}: the harness (common/) and the benchmark packages as they ran.\n"
        f"Install: `pip install -r requirements/base.txt && pip install -e .`; run: see the measurements "
        f"folder's README.md.\n", encoding="utf-8")
