"""``mlperf-ref audit TEST BENCHMARK ... --reference RUN_DIR``: one v0.5 audit test, run and verified.

``--output`` is the test's own folder (the v0.5 layout puts it at
``<division>/<submitter>/audit/<system>/<model>/<scenario>/<TEST>/``: :func:`definitions.audit_dir`).
It receives::

    audit.config               the v0.5 file of the test, for the record (LoadGen never reads it)
    performance/run_1/         LoadGen's logs of the audit run
    verify_accuracy.txt        TEST01: the payload comparison        } in the form of the v0.5 scripts'
    verify_performance.txt     TEST01, TEST05: the performance one   } outputs (verify_accuracy.py,
    verify_test4_performance.txt  TEST04's B run against its A run    } verify_performance.py, ...)
    audit.json                 what was run, the settings in force, the figures, PASS/FAIL

``--reference`` is the submission run the test compares with (``mlperf-ref run --both``'s output folder;
TEST01 needs its accuracy log, TEST01 and TEST05 its performance summary); for TEST04's B run it is the
folder of its A run. It is refused before anything runs unless it is a finished run (its results.json, or
the A run's audit.json, written; no phase interrupted) of the same implementation: benchmark, scenario (as
LoadGen logged it), backend, precision, model file by checksum, and the same --quick and --count.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import mlperf_loadgen as lg

from common.atomic import atomic_write_text
from common.backends import backend_class
from common.effective_settings import DETAIL_LOG, SEED_KEYS, read_effective, run_problems, settings_problems
from common.errors import UsageError, record_finished
from common.interruption import MARKER as INCOMPLETE
from common.loadgen_log import parse_summary
from common.model_files import model_sha256
from common.output_folder import held
from common.registry import get_benchmark
from common.report import quality_caveat
from common.results import RunResults
from common.rules import v05_rule
from common.runner import RunConfig, Session, open_session
from common.schema import SchemaError, check
from compliance.definitions import (
    AUDIT_JSON,
    AUDIT_JSON_REQUIRED,
    AUDIT_TESTS,
    NEEDS_REFERENCE,
    TEST01,
    TEST04,
    TEST04_A,
    TEST04_B,
    TEST04_EXCLUDED,
    TEST05,
    AuditTest,
)
from compliance.official_output import accuracy_text, performance_text, test04_text
from compliance.run_identity import RunIdentity, identity_of
from compliance.verify import check_accuracy_log, compare_payloads, compare_test04, not_in_force, within_tolerance

RUN = Path("performance") / "run_1"
# the files of the v0.5 verify scripts' outputs this command writes (TEST04's B run: verify_test4_performance.py's)
OUTPUT_FILES = {"accuracy": "verify_accuracy.txt", "performance": "verify_performance.txt",
                "test04": "verify_test4_performance.txt"}


def _reference_file(reference: Path, name: str, phase: str = "performance") -> Path:
    """``name`` in the reference's phase folder, as ``mlperf-ref run`` or the submission tree lays it out."""
    for folder in (reference / phase, reference / phase / "run_1", reference):
        if (folder / name).is_file():
            return folder / name
    raise UsageError(f"--reference {reference}: no {phase}/{name} (give the output folder of "
                     f"'mlperf-ref run --both' of the same benchmark and scenario)")


def _check_reference(test: str, reference: Path | None, cfg: RunConfig, benchmark: str) -> None:
    """Refuse (UsageError, before anything runs) a reference that is missing, unfinished, interrupted, of
    another implementation than this audit's, or (TEST01) whose accuracy log is unreadable."""
    if reference is None:
        if test in NEEDS_REFERENCE:
            raise UsageError(f"audit {test} needs --reference RUN_DIR: "
                             + (f"the {TEST04_A} folder" if test == TEST04_B else "the submission run to compare with"))
        return
    if not reference.is_dir():
        raise UsageError(f"--reference {reference}: no such folder")
    facts = _reference_facts(test, reference)
    for folder in (reference / "accuracy", reference / "performance", reference / RUN):
        if (folder / INCOMPLETE).is_file():
            raise UsageError(f"--reference {reference}: {folder / INCOMPLETE} says the run was interrupted; its "
                             f"logs are no finished run: run it again to the end")
    logs = _reference_file(reference, "mlperf_log_summary.txt").parent
    if not (logs / DETAIL_LOG).is_file():
        raise UsageError(f"--reference {reference}: no {DETAIL_LOG} beside {logs / 'mlperf_log_summary.txt'}: "
                         f"the run did not finish; run it again")
    logged = read_effective(logs)["scenario"]  # the evidence, not the JSON
    if logged is None:
        raise UsageError(f"--reference {reference}: {logs / DETAIL_LOG} names no scenario (not a whole LoadGen "
                         f"detail log); run the reference again")
    mine = RunIdentity(benchmark=benchmark, scenario=cfg.scenario, backend=cfg.backend, precision=cfg.precision,
                       model_sha256=_model_sha256(cfg), quick=cfg.quick, count=cfg.count)
    theirs = identity_of(facts, logged)
    if theirs.benchmark == mine.benchmark and facts.get("scenario") != logged:
        raise UsageError(f"--reference {reference}: its JSON says {facts.get('scenario')}, LoadGen's "
                         f"{logs / DETAIL_LOG} ran {logged}: not a run this command wrote; give the run's own folder")
    differences = mine.differences(theirs, ("this audit", "the reference"))
    if differences:
        hint = " (a reference written before mlperf-ref recorded checksums: run it again)" \
            if theirs.model_sha256 is None and mine.model_sha256 is not None else ""
        raise UsageError(f"--reference {reference}: another implementation than this audit's: "
                         f"{'; '.join(differences)}{hint}; give a reference run with the audit's options")
    if test == TEST01:
        check_accuracy_log(_reference_file(reference, "mlperf_log_accuracy.json", "accuracy"), "--reference")


def _reference_facts(test: str, reference: Path) -> dict[str, Any]:
    """The reference's own record: TEST04's A run's audit.json for its B run, else the run's results.json (at the
    run folder's top, or, in a submission tree, beside the logs)."""
    name = "audit.json" if test == TEST04_B else "results.json"
    candidates = [reference / name] if test == TEST04_B else \
        [reference / name, reference / RUN / name, reference / "accuracy" / name]
    path = next((p for p in candidates if p.is_file()), None)
    if path is None and test == TEST04_B and (reference / "results.json").is_file():
        raise UsageError(f"--reference {reference}: {TEST04_B} compares with the {TEST04_A} folder "
                         f"(mlperf-ref audit {TEST04_A} ...), not a run")
    if path is None:
        what = f"a finished 'mlperf-ref audit {TEST04_A}'" if test == TEST04_B else "a finished 'mlperf-ref run'"
        raise UsageError(f"--reference {reference}: no {name}, so not {what} (an interrupted run writes none); "
                         f"{'run ' + TEST04_A if test == TEST04_B else 'run it'} again to the end")
    try:  # checked against its schema: JSON of another shape is named by its file and field
        facts = RunResults.load(path).to_dict() if name == "results.json" else \
            check(json.loads(path.read_text(encoding="utf-8")), AUDIT_JSON, str(path), closed=False,
                  required=AUDIT_JSON_REQUIRED)
    except SchemaError as exc:
        raise UsageError(f"--reference {exc}; give the output folder of 'mlperf-ref run --both' ({TEST04_B}: of "
                         f"the {TEST04_A} audit)") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"--reference {path}: unreadable ({exc}); run it again") from exc
    if test == TEST04_B and facts.get("test") != TEST04_A:
        raise UsageError(f"--reference {reference}: {TEST04_B} compares with the {TEST04_A} folder "
                         f"(mlperf-ref audit {TEST04_A} ...), not {facts.get('test') or 'a run'}")
    return facts


def _model_sha256(cfg: RunConfig) -> str | None:
    """The checksum of the model file this audit runs (None: the backend runs no model)."""
    if not backend_class(cfg.backend).runs_model or cfg.model is None:
        return None
    return model_sha256(Path(cfg.model))


def _adjust(audit: AuditTest, scenario: str):
    """The TestSettings change of the audit (TEST04: the v0.5 run length, P queries of P samples)."""
    fields = audit.fields(scenario)

    def adjust(settings: lg.TestSettings, dataset_size: int) -> None:
        for key, value in fields.items():
            setattr(settings, key, value)
        if audit.name in TEST04:
            # v0.5: TEST04's A run issues the P loaded samples once each, its B run one sample P times (Offline:
            # one query of P samples; MultiStream: P / samples per query queries); no minimum duration.
            loaded = min(settings.performance_sample_count_override, dataset_size)
            queries = max(1, loaded // settings.multi_stream_samples_per_query) if scenario == "MultiStream" \
                else loaded
            settings.min_duration_ms = settings.max_duration_ms = 0
            settings.min_query_count = queries
            settings.max_query_count = 0  # a Server run that reaches a maximum logs it as an error

    return adjust


def run_audit(test: str, cfg: RunConfig, reference: Path | None) -> dict[str, Any]:
    """Run one audit test as ``cfg`` configures the run; print its verdict; return audit.json's content."""
    if test not in AUDIT_TESTS:
        raise UsageError(f"audit test {test}: choose one of {', '.join(AUDIT_TESTS)}")
    audit = AUDIT_TESTS[test]
    name = get_benchmark(cfg.benchmark).info.name
    if test in TEST04 and name in TEST04_EXCLUDED:
        raise UsageError(f"audit {test} {name}: {TEST04_EXCLUDED[name]}")
    reference = Path(reference) if reference is not None else None
    output = Path(cfg.output)
    if cfg.mode != "performance":
        raise UsageError("audit runs its own performance phase: leave out --accuracy and --both")
    if (output / "results.json").is_file():
        raise UsageError(f"--output {output}: holds a run's results.json; give the audit test its own folder")
    if reference is not None and output.resolve() == reference.resolve():
        raise UsageError(f"--output {output}: the reference folder; give the audit test its own folder")
    _check_reference(test, reference, cfg, name)
    with held(output):
        session = open_session(cfg)  # checks the run options (and refuses a stray audit.config)
        try:
            for stale in ("audit.json", *OUTPUT_FILES.values()):
                (output / stale).unlink(missing_ok=True)
            run_dir = _run(session, audit, output)
            atomic_write_text(output / "audit.config", audit.audit_config())
            found = {"test": test, "benchmark": name, "scenario": cfg.scenario, "backend": cfg.backend,
                     "precision": cfg.precision, "model": str(cfg.model) if cfg.model else None,
                     "model_sha256": _model_sha256(cfg), "quick": cfg.quick, "count": cfg.count,
                     "synthetic_data": session.synthetic_data, "random_weights": session.random_weights,
                     "purpose": audit.purpose, "reference": str(reference) if reference else None, "logs": str(run_dir),
                     "audit_config": str(output / "audit.config"), "audit_config_origin": audit.config_origin,
                     **_verify(session, audit, run_dir, reference)}
            for kind, text in found.pop("official_outputs").items():
                atomic_write_text(output / OUTPUT_FILES[kind], text)
            atomic_write_text(output / "audit.json", json.dumps(found, indent=2, default=str) + "\n")
            record_finished(output / "audit.json")
        finally:
            session.close()  # Ray replicas and a local Ray instance with --ray
    print(_summary(found, output), flush=True)
    return found


def _run(session: Session, audit: AuditTest, output: Path) -> Path:
    """The audit's performance run, its logs moved to ``output/performance/run_1``."""
    with tempfile.TemporaryDirectory(dir=output, prefix=".audit-") as scratch:
        options = session.phase_options(output=Path(scratch), adjust=_adjust(audit, session.cfg.scenario))
        session.run_phase("performance", options)
        target = output / RUN
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(Path(scratch) / "performance"), target)
    return target


def _verify(session: Session, audit: AuditTest, run_dir: Path, reference: Path | None) -> dict[str, Any]:
    scenario = session.cfg.scenario
    effective = read_effective(run_dir)
    fields = audit.fields(scenario)
    missing = not_in_force(effective, fields)
    summary = parse_summary(run_dir / "mlperf_log_summary.txt")
    found: dict[str, Any] = {
        "settings": {key: effective.get(key) for key in fields}, "settings_in_force": not missing,
        "settings_problems": missing, "loadgen_valid": summary.valid, "loadgen_errors": effective["errors"],
    }
    # the audit run is the submission run but for the audit's keys: anything else not v0.5 is named
    run_problems = _run_problems(session, audit, effective)
    found.update(run_problems=run_problems)
    parts = [not missing, not run_problems]
    outputs: dict[str, str] = {}
    if audit.name == TEST01:
        parts.append(_test01_accuracy(session, run_dir, reference, found))
        outputs["accuracy"] = accuracy_text(found.pop("accuracy_counts"))
    if audit.name in (TEST01, TEST05):
        reference_dir = _reference_file(reference, "mlperf_log_summary.txt").parent
        reference_summary = parse_summary(reference_dir / "mlperf_log_summary.txt")
        check = within_tolerance(reference_summary, summary)
        found.update(performance=check.figures, performance_passed=check.passed, performance_lines=check.lines)
        parts.append(check.passed)
        errors = (len(read_effective(reference_dir)["errors"]), len(effective["errors"]))
        outputs["performance"] = performance_text(reference_summary, summary, check.passed, errors)
    if audit.name == TEST04_B:
        unique_dir = _reference_file(reference, "mlperf_log_summary.txt").parent
        unique_effective = read_effective(unique_dir)
        unique_missing = not_in_force(unique_effective, AUDIT_TESTS[TEST04_A].fields(scenario))
        unique_summary = parse_summary(unique_dir / "mlperf_log_summary.txt")
        check = compare_test04(unique_summary, summary)
        lines = [f"{TEST04_A} run: {line}" for line in unique_missing] + check.lines
        found.update(performance=check.figures, performance_passed=check.passed and not unique_missing,
                     performance_lines=lines)
        parts.append(found["performance_passed"])
        outputs["test04"] = test04_text(unique_summary, summary, check, (bool(unique_missing), bool(missing)),
                                        (len(unique_effective["errors"]), len(effective["errors"])))
    found["passed"] = all(parts)
    found["official_outputs"] = outputs
    return found


def _run_problems(session: Session, audit: AuditTest, effective: dict[str, Any]) -> list[str]:
    """What makes the audit run other than a v0.5 run, the audit's own keys (and TEST04's run length) left out."""
    cfg, name = session.cfg, session.bench.info.name
    as_run = {**effective, "accuracy_log_probability": 0, "accuracy_log_sampling_target": 0,
              "performance_issue_unique": False, "performance_issue_same": False}
    if audit.name == TEST05:
        as_run.update({key: v05_rule(name, cfg.scenario, key) for key in SEED_KEYS})
    if audit.name in TEST04:
        least = v05_rule(name, cfg.scenario, "min_query_count")
        as_run.update(min_duration_ms=v05_rule(name, cfg.scenario, "min_duration"), max_duration_ms=0,
                      max_query_count=0, min_query_count=least, min_sample_count=least)
        if effective["performance_sample_count"] == effective["qsl_total_count"]:  # capped to what loads
            as_run["performance_sample_count"] = v05_rule(name, cfg.scenario, "performance_sample_count_override")
    return settings_problems(as_run, name, cfg.scenario, "performance") + \
        run_problems({"quick": cfg.quick, "count": cfg.count})


def _test01_accuracy(session: Session, run_dir: Path, reference: Path | None, found: dict[str, Any]) -> bool:
    """Every sampled response equals the accuracy run's for its sample; where some differ, the sampled
    set's quality against the target decides (the v0.5 README's way to overturn the objection)."""
    bench = session.bench
    accuracy_log = _reference_file(reference, "mlperf_log_accuracy.json", "accuracy")
    comparison = compare_payloads(accuracy_log, run_dir / "mlperf_log_accuracy.json", bench.decode_payload)
    lines = [f"{comparison.performance_entries} sampled performance-mode responses, {comparison.compared} "
             f"compared with the accuracy run's ({comparison.accuracy_entries} responses) as "
             f"{bench.info.name} payloads: {comparison.mismatches} differ"]
    if comparison.missing:
        lines.append(f"{comparison.missing} sampled responses have no accuracy-run response to compare with")
    passed = comparison.passed
    if comparison.compared == 0:
        lines.append("nothing was compared: the performance run logged no response (sampling not in force?)")
    quality: dict[str, Any] | None = None
    if comparison.mismatches:
        lines.append(f"differing samples (first {len(comparison.mismatched)}): {comparison.mismatched}")
        quality = _sampled_quality(session, comparison.sampled)
        lines.append(quality["line"])
        passed = passed or (comparison.missing == 0 and bool(quality.get("passed")))
    found.update(accuracy=comparison.to_dict(), accuracy_quality=quality, accuracy_passed=passed,
                 accuracy_lines=lines, accuracy_counts=comparison.official_counts())
    return passed


def _sampled_quality(session: Session, sampled: dict[int, bytes]) -> dict[str, Any]:
    target = session.bench.info.quality
    if not session.backend.runs_model:
        return {"passed": None, "line": f"the sampled set's {target.metric} is not scored: the "
                                        f"{session.cfg.backend} backend makes no predictions"}
    scored = session.bench.score(sampled, Path(session.cfg.dataset_path))
    passed = target.passes(scored.value)
    return {"passed": passed, "value": scored.value, "target": target.value, "samples": len(sampled),
            "line": f"the sampled set's {target.metric} {scored.value:.3f}{target.unit} on {len(sampled)} samples vs "
                    f"target {target.value:g}{target.unit}: {'meets' if passed else 'below'} the target"
                    f"{quality_caveat(session.synthetic_data, session.random_weights)}"}


def _summary(found: dict[str, Any], output: Path) -> str:
    head = f"{found['test']} | {found['benchmark']} {found['scenario']} | {found['backend']} backend"
    lines = ["", head, "=" * len(head)]
    settings = ", ".join(f"{key} {value}" for key, value in found["settings"].items())
    lines.append(f"  settings in force ({'yes' if found['settings_in_force'] else 'NO'}): {settings}")
    lines += [f"      - {problem}" for problem in found["settings_problems"]]
    lines += [f"  not a v0.5 run: {problem}" for problem in found["run_problems"]]
    for name in ("accuracy", "performance"):
        for line in found.get(f"{name}_lines") or []:
            lines.append(f"  {name}: {line}")
    lines.append(f"  LoadGen: {'VALID' if found['loadgen_valid'] else 'INVALID'} ({found['logs']})")
    lines.append(f"  results: {output / 'audit.json'}")
    lines.append("TEST PASS" if found["passed"] else "TEST FAIL")
    return "\n".join(lines)

