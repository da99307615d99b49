"""Finished runs read for a submission: each ``--runs`` folder's results.json and LoadGen logs, grouped by
benchmark and scenario, with what each group still lacks."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from common.effective_settings import read_effective
from common.errors import UsageError
from common.results import PHASES, RunResults, Verdict
from common.schema import SchemaError
from common.verdict import judge
from compliance.run_identity import RunIdentity
from tools.submission.layout import ACCURACY_FILES, LOG_FILES, performance_runs, v05_model_names


@dataclass
class Run:
    """One finished ``mlperf-ref run`` folder."""

    folder: Path
    results: RunResults

    @property
    def implementation_key(self) -> tuple[str, str, str | None, str | None]:
        return self.results.backend, self.results.precision, self.results.model, self.results.model_sha256

    @property
    def identity(self) -> RunIdentity:
        res = self.results
        return RunIdentity(benchmark=res.benchmark, scenario=res.scenario, backend=res.backend,
                           precision=res.precision, model_sha256=res.model_sha256, quick=res.quick, count=res.count)


@dataclass
class Group:
    """The runs of one benchmark in one scenario: one accuracy phase, 1 (Server: 5) performance phases."""

    benchmark: str
    scenario: str
    accuracy: list[Run] = field(default_factory=list)
    performance: list[Run] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.benchmark} {self.scenario}"

    def missing(self) -> tuple[bool, int]:
        """(whether the accuracy run is missing, how many performance runs are missing)."""
        return not self.accuracy, max(0, performance_runs(self.scenario) - len(self.performance))

    def runs(self) -> list[Run]:
        return [*self.accuracy, *(r for r in self.performance if r not in self.accuracy)]


def verdict_of(run: Run) -> Verdict:
    """The run's verdict judged again from its own logs (in its folder, wherever it was moved), not the one
    its results.json states."""
    from common.backends import backend_class

    res = run.results
    phases = {phase: dataclasses.replace(found, log_dir=str(run.folder / phase))
              for phase in PHASES if (found := getattr(res, phase)) is not None}
    return judge(dataclasses.replace(res, **phases, verdict=None), backend_class(res.backend).runs_model)


def load_run(folder: Path) -> Run:
    """A run folder, checked: its results.json and the LoadGen logs of each phase it ran."""
    folder = Path(folder)
    path = folder / "results.json"
    if not path.is_file():
        raise UsageError(f"--runs {folder}: no results.json there; give the --output folder of an "
                         f"'mlperf-ref run'")
    try:
        results = RunResults.load(path)
    except SchemaError as exc:  # no JSON, or JSON of another shape: the file and the field
        raise UsageError(f"--runs {exc}; give the --output folder of an 'mlperf-ref run'") from None
    except (OSError, TypeError, ValueError) as exc:
        raise UsageError(f"--runs {folder}: results.json is not one mlperf-ref wrote ({exc})") from exc
    if results.benchmark not in v05_model_names():
        raise UsageError(f"--runs {folder}: benchmark {results.benchmark!r} is not a v0.5 benchmark")
    for phase, names in (("accuracy", ACCURACY_FILES), ("performance", LOG_FILES)):
        if getattr(results, phase) is None:
            continue
        absent = [name for name in names if not (folder / phase / name).is_file()]
        if absent:
            raise UsageError(f"--runs {folder}: {phase}/{', '.join(absent)} missing: the run did not finish; "
                             f"run it again")
        logged = read_effective(folder / phase)["scenario"]  # the evidence decides where the logs are filed
        if logged != results.scenario:
            raise UsageError(f"--runs {folder}: results.json says {results.scenario}, LoadGen's "
                             f"{phase}/mlperf_log_detail.txt ran {logged}: results.json is not the run's own; "
                             f"run it again")
    return Run(folder, results)


def group_runs(runs: Sequence[Run], benchmarks: Sequence[str] | None = None) -> dict[tuple[str, str], Group]:
    """The runs by (benchmark, scenario); a run of a benchmark not in ``benchmarks``, a second accuracy run,
    too many performance runs or runs of different implementations in one group are refused."""
    groups: dict[tuple[str, str], Group] = {}
    for run in runs:
        res = run.results
        if benchmarks and res.benchmark not in benchmarks:
            raise UsageError(f"--runs {run.folder}: a run of {res.benchmark}, not of --benchmarks "
                             f"{' '.join(benchmarks)}; remove it or add {res.benchmark}")
        group = groups.setdefault((res.benchmark, res.scenario), Group(res.benchmark, res.scenario))
        if res.accuracy is not None:
            group.accuracy.append(run)
        if res.performance is not None:
            group.performance.append(run)
    for group in groups.values():
        check_group(group)
    return groups


def check_group(group: Group) -> None:
    """One accuracy run at most, no more performance runs than the rules want, one implementation."""
    if len(group.accuracy) > 1:
        raise UsageError(f"--runs: {group.name} has {len(group.accuracy)} accuracy runs "
                         f"({', '.join(str(r.folder) for r in group.accuracy)}); give one")
    wanted = performance_runs(group.scenario)
    if len(group.performance) > wanted:
        raise UsageError(f"--runs: {group.name} has {len(group.performance)} performance runs, the rules want "
                         f"{wanted}; give {wanted}")
    kinds = {run.implementation_key for run in group.runs()}
    if len(kinds) > 1:
        described = "; ".join(f"{b} {p} {m or '(no model)'}{f' sha256 {h[:12]}' if h else ''}"
                              for b, p, m, h in sorted(kinds, key=str))
        raise UsageError(f"--runs: {group.name} mixes implementations ({described}); one result uses one")
