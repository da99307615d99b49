"""Run what a submission still lacks: per benchmark and scenario, the accuracy run, the performance runs
(Server: 5) and the audit tests, with the same run options, into ``--runs-dir``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from common.errors import UsageError
from compliance.definitions import RUN_ORDER, reference_test, required_audits
from tools.submission.audits import Audit, load_audit
from tools.submission.runs import Group, load_run

if TYPE_CHECKING:
    from common.runner import RunConfig



@dataclass(frozen=True)
class RunOptions:
    """The ``mlperf-ref run`` options the missing runs take (per benchmark: models and datasets)."""

    runs_dir: Path
    backend: str | None = None
    models: tuple[str, ...] = ()  # FILE, or BENCH=FILE per benchmark
    dataset_paths: tuple[str, ...] = ()  # DIR, or BENCH=DIR per benchmark
    user_conf: Path | None = None
    target_qps: float | None = None
    samples_per_query: int | None = None
    quick: bool = False
    count: int | None = None
    max_batchsize: int = 1
    threads: int | None = None
    workers: int = 1
    device: str = "cpu"
    precision: str = "fp32"
    cache_dir: Path | None = None


def per_benchmark(values: Sequence[str], benchmark: str, option: str, benchmarks: Sequence[str]) -> str | None:
    """The value of ``option`` for ``benchmark``: its ``BENCH=VALUE``, else a lone plain VALUE."""
    plain = [v for v in values if "=" not in v]
    named = dict(v.split("=", 1) for v in values if "=" in v)
    unknown = sorted(set(named) - set(benchmarks))
    if unknown:
        raise UsageError(f"{option} {unknown[0]}=...: {unknown[0]} is not one of --benchmarks {' '.join(benchmarks)}")
    if len(plain) > 1 or (plain and len(benchmarks) > 1):
        raise UsageError(f"{option}: with several benchmarks give BENCH=PATH for each")
    return named.get(benchmark) or (plain[0] if plain else None)


def _command_line(bench: str, scenario: str, mode: str, model: str | None, dataset: str, output: Path,
                  options: RunOptions) -> list[str]:
    """The equivalent ``mlperf-ref run`` command line (results.json records it; user.conf is read from it)."""
    words = ["mlperf-ref", "run", bench, "--scenario", scenario, f"--{mode}", "--dataset-path", dataset,
             "--output", str(output)]
    for flag, value in (("--backend", options.backend), ("--model", model), ("--user-conf", options.user_conf),
                        ("--target-qps", options.target_qps), ("--samples-per-query", options.samples_per_query),
                        ("--count", options.count), ("--threads", options.threads),
                        ("--cache-dir", options.cache_dir)):
        if value is not None:
            words += [flag, str(value)]
    for flag, value, default in (("--max-batchsize", options.max_batchsize, 1), ("--workers", options.workers, 1),
                                 ("--device", options.device, "cpu"), ("--precision", options.precision, "fp32")):
        if value != default:
            words += [flag, str(value)]
    return [*words, "--quick"] if options.quick else words


def inputs(group: Group, options: RunOptions, benchmarks: Sequence[str]) -> tuple[str | None, str]:
    """The model file and dataset folder the group's missing runs use (refused before anything runs)."""
    model = per_benchmark(options.models, group.benchmark, "--model", benchmarks)
    dataset = per_benchmark(options.dataset_paths, group.benchmark, "--dataset-path", benchmarks)
    if dataset is None:
        raise UsageError(f"--dataset-path: needed to run {group.name} (give BENCH=DIR per benchmark)")
    if not Path(dataset).is_dir():
        raise UsageError(f"--dataset-path {dataset}: no such folder (needed to run {group.name})")
    if model is not None and not Path(model).exists():
        raise UsageError(f"--model {model}: no such file (needed to run {group.name})")
    return model, dataset


def _config(group: Group, options: RunOptions, benchmarks: Sequence[str], mode: str, output: Path,
            audit: str | None = None) -> RunConfig:
    """The RunConfig of one run (or audit test) of the group, with its equivalent command line."""
    from common.registry import get_benchmark
    from common.runner import RunConfig

    backend = options.backend or get_benchmark(group.benchmark).info.default_backend
    model, dataset = inputs(group, options, benchmarks)
    words = _command_line(group.benchmark, group.scenario, mode, model, dataset, output,
                          replace(options, backend=backend))
    if audit is not None:
        words[1:2] = ["audit", audit]
    return RunConfig(
        benchmark=group.benchmark, backend=backend, scenario=group.scenario, mode=mode,
        model=Path(model) if model else None, dataset_path=Path(dataset), output=output, quick=options.quick,
        max_batchsize=options.max_batchsize, threads=options.threads, workers=options.workers,
        device=options.device, precision=options.precision, count=options.count, user_conf=options.user_conf,
        target_qps=options.target_qps, samples_per_query=options.samples_per_query, cache_dir=options.cache_dir,
        fail_fast=True, command_line=words)


def fill_group(group: Group, options: RunOptions, benchmarks: Sequence[str]) -> list[Path]:
    """Run the group's missing accuracy and performance runs; add them to ``group``; return their folders."""
    from common.runner import run_benchmark  # heavy imports only when running

    need_accuracy, need_performance = group.missing()
    if not need_accuracy and not need_performance:
        return []
    modes = (["both"] if need_performance else ["accuracy"]) if need_accuracy else ["performance"]
    modes += ["performance"] * (need_performance - (1 if need_accuracy else 0))
    folder = Path(options.runs_dir) / group.benchmark / group.scenario
    taken = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
    names = (f"run_{n}" for n in range(1, 10_000) if f"run_{n}" not in taken)
    made = []
    for mode in modes:
        output = folder / next(names)
        run_benchmark(_config(group, options, benchmarks, mode, output))
        run = load_run(output)
        if run.results.accuracy is not None:
            group.accuracy.append(run)
        if run.results.performance is not None:
            group.performance.append(run)
        made.append(output)
    return made


def reference_run(group: Group) -> Path | None:
    """The run the audits compare with: one that has both phases (a 'run --both')."""
    return next((run.folder for run in group.accuracy if run.results.performance is not None), None)


def run_audits(group: Group, options: RunOptions, benchmarks: Sequence[str], given: dict[str, Path]) -> list[Audit]:
    """Run the v0.5 audit tests the group needs and ``given`` (test -> folder) lacks, against its reference
    run (TEST04's B run: with its A run's folder). Returns the new audits."""
    from compliance.run import run_audit

    reference = reference_run(group)
    if reference is None:
        return []
    folder = Path(options.runs_dir) / "audits" / group.benchmark / group.scenario
    made = []
    for test in sorted(set(required_audits(group.benchmark)) - set(given), key=RUN_ORDER.index):
        output = folder / test
        first = reference_test(test)
        against = given.get(first, folder / first) if first else reference
        run_audit(test, _config(group, options, benchmarks, "performance", output, audit=test), against)
        made.append(load_audit(output))
    return made
