"""The results of a run as types, and their one serialisation: results.json.

A run is :class:`RunResults`: what was run, one :class:`PhaseResult` per LoadGen phase (accuracy,
performance) holding an :class:`AccuracyResult` or a :class:`LoadGenResult`, and the :class:`Verdict`.
``to_dict`` gives the results.json layout; nothing else writes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.atomic import atomic_write_text
from common.loadgen_log import invalid_reasons, parse_detail, parse_summary
from common.schema import SchemaError, check


def percentile_key(percentile: float) -> str:
    """The latency key of a percentile: 99.0 -> "p99", 97.5 -> "p97.5"."""
    return f"p{percentile:g}"


def _ms(ns: float | None) -> float | None:
    return None if ns is None else round(ns / 1e6, 4)


@dataclass
class LoadGenResult:
    """LoadGen's verdict and figures of a performance phase, from its summary and detail logs."""

    valid: bool | None
    metric: str | None
    metric_value: float | None
    latency_ms: dict[str, float | None]  # min, mean, max and p50, p90, ... as LoadGen printed them
    reasons: list[str]  # why LoadGen said INVALID, in plain words
    errors: list[Any]
    warnings: list[Any]

    @classmethod
    def from_logs(cls, outdir: Path) -> LoadGenResult:
        summary = parse_summary(outdir / "mlperf_log_summary.txt")
        detail = parse_detail(outdir / "mlperf_log_detail.txt")
        percentiles = {percentile_key(p): _ms(ns) for p, ns in sorted(summary.percentiles_ns.items())}
        return cls(
            valid=summary.valid,
            metric=summary.metric_name,
            metric_value=summary.metric_value,
            latency_ms={"min": _ms(summary.min_latency_ns), "mean": _ms(summary.mean_latency_ns),
                        "max": _ms(summary.max_latency_ns), **percentiles},
            # The MultiStream bound (unchecked by this LoadGen) is judged beside it, in the verdict.
            reasons=invalid_reasons(summary, detail) if summary.valid is False else [],
            errors=detail["errors"],
            warnings=detail["warnings"],
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoadGenResult:
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "metric": self.metric, "metric_value": self.metric_value,
                "latency_ms": self.latency_ms, "reasons": self.reasons, "errors": self.errors,
                "warnings": self.warnings}


@dataclass
class AccuracyResult:
    """The score of an accuracy phase against the quality target (value None: not scored, see note)."""

    metric: str
    unit: str
    target: float
    samples: int  # payloads in the accuracy log
    value: float | None = None
    passed: bool | None = None
    note: str | None = None  # why there is no score
    count: int | None = None  # samples scored
    lines: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AccuracyResult:
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        base = {"metric": self.metric, "unit": self.unit, "target": self.target, "samples": self.samples,
                "value": self.value, "passed": self.passed}
        if self.value is None:
            return {**base, "note": self.note}
        return {**base, "count": self.count, "lines": self.lines, "extra": self.extra}


@dataclass
class PhaseResult:
    """One LoadGen test: where its logs are, what it ran on, and its accuracy or LoadGen result."""

    log_dir: str
    seconds: float
    samples: int
    performance_sample_count: int
    latency_bound_ms: float | None
    latency_percentile: float
    dataset: dict[str, Any]
    accuracy: AccuracyResult | None = None
    loadgen: LoadGenResult | None = None

    @property
    def latency_key(self) -> str:
        return percentile_key(self.latency_percentile)

    @property
    def bounded_latency_ms(self) -> float | None:
        """The latency at the scenario's percentile (the one its bound applies to)."""
        return None if self.loadgen is None else self.loadgen.latency_ms.get(self.latency_key)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PhaseResult:
        accuracy, loadgen = data.get("accuracy"), data.get("loadgen")
        return cls(**{k: v for k, v in data.items() if k not in ("accuracy", "loadgen")},
                   accuracy=AccuracyResult.from_dict(accuracy) if accuracy else None,
                   loadgen=LoadGenResult.from_dict(loadgen) if loadgen else None)

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "log_dir": self.log_dir, "seconds": self.seconds, "samples": self.samples,
            "performance_sample_count": self.performance_sample_count,
            "latency_bound_ms": self.latency_bound_ms, "latency_percentile": self.latency_percentile,
            "dataset": self.dataset,
        }
        if self.accuracy is not None:
            found["accuracy"] = self.accuracy.to_dict()
        if self.loadgen is not None:
            found["loadgen"] = self.loadgen.to_dict()
        return found


@dataclass
class Verdict:
    """PASS/FAIL against the quality target and the latency bound, and whether it could be submitted."""

    latency: bool | None
    accuracy: bool | None
    loadgen_valid: bool | None
    submittable: bool
    notes: list[str]
    problems: list[str] = field(default_factory=list)  # settings in force that are not v0.5's, quick/--count

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verdict:
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return {"latency": self.latency, "accuracy": self.accuracy, "loadgen_valid": self.loadgen_valid,
                "submittable": self.submittable, "notes": self.notes, "problems": self.problems}


@dataclass
class ClusterResult:
    """The Ray cluster a distributed run used (``--ray``): its replicas, their nodes and resources, and the
    replicas lost and restarted mid-run."""

    ray_version: str
    address: str
    local: bool  # a local instance started for the run
    nodes: int  # nodes the replicas ran on
    replicas: int  # replicas started with the run (replacements are counted in restarts)
    cpus_per_replica: float
    gpus_per_replica: float
    restarts: int  # replacements started for lost replicas
    lost: list[str]  # what died, in order
    members: list[dict[str, Any]]  # every replica that ran: node id, host, ip, pid, CPUs, GPUs, batches

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClusterResult:
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return {"ray_version": self.ray_version, "address": self.address, "local": self.local,
                "nodes": self.nodes, "replicas": self.replicas, "cpus_per_replica": self.cpus_per_replica,
                "gpus_per_replica": self.gpus_per_replica, "restarts": self.restarts, "lost": self.lost,
                "members": self.members}


USER_CONF_COPY = "user.conf"  # beside results.json: the --user-conf the run read, as it read it
PHASES = ("accuracy", "performance")  # in the order a --both run runs them
CLOSING = ("verdict", "results_file", "plot")  # known once the run is judged


@dataclass
class RunResults:
    """Everything results.json holds about one ``mlperf-ref run``."""

    benchmark: str
    title: str
    dataset: str
    backend: str
    device: str
    scenario: str
    mode: str
    quick: bool
    count: int | None
    model: str | None
    dataset_path: str
    synthetic_data: bool
    random_weights: bool
    precision: str
    max_batchsize: int
    workers: int
    engine: dict[str, Any]
    quality_target: dict[str, Any]
    versions: dict[str, str]
    machine: dict[str, Any]
    command_line: str | None
    started: str
    # the LoadGen settings the user gave on top of mlperf.conf (the submission's user.conf is made of them)
    user_conf: str | None = None
    target_qps: float | None = None
    samples_per_query: int | None = None
    cluster: ClusterResult | None = None  # only for a run on Ray (--ray)
    accuracy: PhaseResult | None = None
    performance: PhaseResult | None = None
    search: dict[str, Any] | None = None  # the search that chose this run's settings (--find-peak-qps)
    model_sha256: str | None = None  # the model file's checksum (audits and the submission match runs by it)
    verdict: Verdict | None = None
    results_file: str | None = None
    plot: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResults:
        """Read back what :meth:`to_dict` wrote (a results.json)."""
        found = dict(data)
        for phase in PHASES:
            if found.get(phase) is not None:
                found[phase] = PhaseResult.from_dict(found[phase])
        if found.get("verdict") is not None:
            found["verdict"] = Verdict.from_dict(found["verdict"])
        if found.get("cluster") is not None:
            found["cluster"] = ClusterResult.from_dict(found["cluster"])
        return cls(**found)

    @classmethod
    def load(cls, path: Path) -> RunResults:
        """Read a results.json, checked against these types (SchemaError naming the file and the field)."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise SchemaError(f"{path}: not JSON ({exc})") from exc
        return cls.from_dict(check(data, cls, str(path)))

    def to_dict(self) -> dict[str, Any]:
        """The results.json layout: the run's facts, the phases that ran, the verdict and the files."""
        found: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if name in (*PHASES, "cluster", "search", "model_sha256") and value is None:
                continue  # a phase that did not run, a run in one process, not searched, no model file: no key
            if name in CLOSING and self.verdict is None:
                continue  # not judged yet
            found[name] = value.to_dict() if hasattr(value, "to_dict") else value
        return found

    def save(self, path: Path) -> None:
        """Write results.json (atomically: a reader never sees half of it)."""
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2, default=str) + "\n")
