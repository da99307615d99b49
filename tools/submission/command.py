"""The ``mlperf-ref submission`` and ``mlperf-ref check`` commands."""

from __future__ import annotations

import argparse
from pathlib import Path

from common.cache import check_cache_dir
from common.disk_space import LOG_FLOOR_BYTES
from common.errors import UsageError
from common.paths import writable_folder
from compliance.definitions import required_audits
from tools.submission import folder
from tools.submission.audits import Audit, check_audit_matches, load_audit
from tools.submission.layout import v05_model_names
from tools.submission.produce import RunOptions, fill_group, inputs, reference_run, run_audits
from tools.submission.runs import Group, Run, group_runs, load_run, verdict_of
from tools.submission.tree import SubmissionConfig, kept_results, system_description, write_tree


def _check_names(args: argparse.Namespace) -> None:
    for option, value in (("--submitter", args.submitter), ("--system", args.system)):
        if not value or "/" in value or value.startswith(".") or value.strip() != value:
            raise UsageError(f"{option} {value!r}: give a plain name (no '/', no leading '.' or spaces)")
    for bench in args.benchmarks or []:
        if bench not in v05_model_names():
            raise UsageError(f"--benchmarks {bench}: not a v0.5 benchmark; choose from {', '.join(v05_model_names())}")
    if args.system_desc is not None and not args.system_desc.is_file():
        raise UsageError(f"--system-desc {args.system_desc}: no such file")
    if bool(args.benchmarks) != bool(args.scenarios):
        raise UsageError("--benchmarks and --scenarios go together: what to run is each benchmark in each scenario")
    if not args.runs and not args.benchmarks:
        raise UsageError("nothing to submit: give --runs DIR... (finished runs) or --benchmarks and --scenarios")


def _run_options(args: argparse.Namespace) -> RunOptions:
    return RunOptions(
        runs_dir=args.runs_dir or Path(args.output).absolute().with_name(f"{Path(args.output).name}-runs"),
        backend=args.backend, models=tuple(args.model or ()), dataset_paths=tuple(args.dataset_path or ()),
        user_conf=args.user_conf, target_qps=args.target_qps, samples_per_query=args.samples_per_query,
        quick=args.quick, count=args.count, max_batchsize=args.max_batchsize, threads=args.threads,
        workers=args.workers, device=args.device, precision=args.precision, cache_dir=args.cache_dir)


def _collect(args: argparse.Namespace) -> tuple[list[Run], dict[tuple[str, str], Group], list[Audit]]:
    """The --runs grouped by benchmark and scenario (with the --benchmarks x --scenarios groups to run) and
    the --audits, each checked against the results it belongs to."""
    runs = [load_run(Path(path)) for path in args.runs or []]
    groups = group_runs(runs, args.benchmarks)
    for bench in args.benchmarks or []:
        for scenario in args.scenarios:
            groups.setdefault((bench, scenario), Group(bench, scenario))
    audits = [load_audit(Path(path)) for path in args.audits or []]
    seen: dict[tuple[str, str, str], Audit] = {}
    for audit in audits:
        group = groups.get((audit.benchmark, audit.scenario))
        if group is None:
            raise UsageError(f"--audits {audit.folder}: an audit of {audit.benchmark} {audit.scenario}, which "
                             f"this submission has no results for")
        key = (audit.benchmark, audit.scenario, audit.test)
        if key in seen:
            raise UsageError(f"--audits: two {audit.test} audits of {group.name} ({seen[key].folder} and "
                             f"{audit.folder}); a result has one of each test: give one")
        seen[key] = audit
        check_audit_matches(audit, group)
    return runs, groups, audits


def _check_plan(args: argparse.Namespace, groups: dict[tuple[str, str], Group], options: RunOptions) -> None:
    """What is missing can be run: --benchmarks given, and each group's model and dataset found."""
    for group in groups.values():
        missing_accuracy, missing_performance = group.missing()
        if not (missing_accuracy or missing_performance):
            continue
        if not args.benchmarks:
            what = (["the accuracy run"] if missing_accuracy else []) + \
                   ([f"{missing_performance} performance run(s)"] if missing_performance else [])
            raise UsageError(f"--runs: {group.name} lacks {' and '.join(what)}; add them to --runs, or give "
                             f"--benchmarks and --scenarios (and the run options) to run them")
        inputs(group, options, args.benchmarks)


def _bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in Path(folder).rglob("*") if path.is_file())


def _check_paths(args: argparse.Namespace, runs: list[Run], audits: list[Audit], options: RunOptions) -> None:
    """The folders this command writes, checked before anything runs: the tree is built beside --output
    (the runs' logs, the audits and an earlier tree of the same submission copied in), new runs go to the
    runs folder, samples to the cache."""
    output = Path(args.output).absolute()
    copied = sum(_bytes(item.folder) for item in [*runs, *audits])
    copied += _bytes(output) if output.is_dir() else 0
    writable_folder(output.parent, "--output", LOG_FLOOR_BYTES + copied, "the submission tree", shown=Path(args.output))
    if args.benchmarks:
        writable_folder(options.runs_dir, "--runs-dir" if args.runs_dir else "--runs-dir (default: OUTPUT-runs)")
        check_cache_dir(args.cache_dir)


def _run_missing(args: argparse.Namespace, groups: dict[tuple[str, str], Group], audits: list[Audit],
                 options: RunOptions) -> None:
    """Run each group's missing runs, then the audits it lacks (only with --benchmarks)."""
    for group in groups.values():
        for path in fill_group(group, options, args.benchmarks or []):
            print(f"ran {group.name}: {path}")
    if not args.benchmarks:
        return
    for group in groups.values():
        given = {a.test: a.folder for a in audits if (a.benchmark, a.scenario) == (group.benchmark, group.scenario)}
        if reference_run(group) is None and set(required_audits(group.benchmark)) - set(given):
            print(f"  {group.name}: no run with both phases to audit against; run the audits by hand")
        for audit in run_audits(group, options, args.benchmarks, given):
            print(f"audited {group.name}: {audit.test} {'PASS' if audit.passed else 'FAIL'} ({audit.folder})")
            audits.append(audit)


def make_submission(args: argparse.Namespace) -> int:
    """Collect the runs (and run what is missing), then write the v0.5 tree in one rename."""
    _check_names(args)
    cfg = SubmissionConfig(output=args.output, division=args.division, submitter=args.submitter,
                           system=args.system, system_desc=args.system_desc)
    folder.check_output(Path(args.output), cfg.identity)  # refused before anything runs
    runs, groups, audits = _collect(args)
    options = _run_options(args)
    _check_plan(args, groups, options)
    _check_paths(args, runs, audits, options)
    kept = kept_results(cfg, groups)
    system_description(cfg, [run.results for run in runs] + kept,  # refused before anything runs
                       planned=args.backend or "the benchmarks' default backend")
    _run_missing(args, groups, audits, options)
    desc = system_description(cfg, [run.results for group in groups.values() for run in group.runs()] + kept)
    folder.build(Path(args.output), cfg.identity, lambda root: write_tree(root, cfg, groups, desc, audits))
    _report(args, groups, audits)
    return 0


def _report(args: argparse.Namespace, groups: dict[tuple[str, str], Group], audits: list[Audit]) -> None:
    have = {(a.benchmark, a.scenario, a.test) for a in audits}
    print(f"wrote {args.output}: {args.division}/{args.submitter}, system {args.system}, "
          f"{len(groups)} result(s): {', '.join(g.name for g in groups.values())}")
    runs = [run for group in groups.values() for run in group.runs()]
    flagged = [run for run in runs if not verdict_of(run).submittable]
    if flagged:
        print(f"  {len(flagged)} of {len(runs)} run(s) are not submittable, judged again from their logs "
              f"({', '.join(str(run.folder) for run in flagged)}); the check says why")
    for group in groups.values():
        absent = [t for t in required_audits(group.benchmark) if (group.benchmark, group.scenario, t) not in have]
        if absent:
            print(f"  {group.name}: audits {', '.join(absent)} not added here (run 'mlperf-ref audit TEST "
                  f"{group.benchmark} ...' and pass its folder with --audits)")
    print(f"check it: mlperf-ref check {args.output}")


def check(args: argparse.Namespace) -> int:
    """Print every problem of the tree, one a line; 1 if there is any."""
    from tools.submission.check import check_report, dataset_paths

    report = check_report(Path(args.folder), dataset_paths(args.dataset_path or []))
    problems = report.problems
    for line in report.notes:
        print(f"note: {line}")
    for line in problems:
        print(line)
    if problems:
        print(f"{len(problems)} problem(s): {args.folder} is not a valid v0.5 submission")
        return 1
    print(f"{args.folder}: no problem found; the tree passes the v0.5 checker's rules and this project's")
    return 0
