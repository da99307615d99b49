"""Where the v0.5 submission rules put each file, and the names they use.

The layout is the one the r0.5 submission checker of mlcommons/inference (``v0.5/tools/submission/
submission-checker.py``) walks::

    <division>/<submitter>/results/<system>/<model>/<scenario>/accuracy/
    <division>/<submitter>/results/<system>/<model>/<scenario>/performance/run_1/   (Server: run_1..run_5)
    <division>/<submitter>/measurements/<system>/<model>/<scenario>/{mlperf.conf, user.conf, README.md,
                                                                     <system>_<implementation>_<scenario>.json}
    <division>/<submitter>/code/<model>/<implementation>/
    <division>/<submitter>/systems/<system>.json
    <division>/<submitter>/audit/<system>/<model>/<scenario>/<TEST>/
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from common import registry
from compliance.definitions import audit_dir

DIVISIONS = ("closed", "open")
LOG_FILES = ("mlperf_log_accuracy.json", "mlperf_log_summary.txt", "mlperf_log_detail.txt")
ACCURACY_FILES = (*LOG_FILES, "accuracy.txt")
TOLERATED_FILES = ("mlperf_log_trace.json", "results.json")  # the checker ignores these two
MEASUREMENT_FILES = ("mlperf.conf", "user.conf", "README.md")
IMPLEMENTATION_FIELDS = ("input_data_types", "retraining", "starting_weights_filename", "weight_data_types",
                         "weight_transformations")
MARKER = ".mlperf-ref-submission.json"  # at the tree's root: whose submission the folder holds


def performance_runs(scenario: str) -> int:
    """How many performance runs the rules want: 5 for Server, 1 for the others."""
    return 5 if scenario == "Server" else 1


def v05_model_names() -> dict[str, str]:
    """mlperf.conf's model names -> the v0.5 submission's, as each registered benchmark defines itself."""
    return {name: bench.info.v05_model for name, bench in registry.benchmarks().items()}


def benchmark_of() -> dict[str, str]:
    """The v0.5 submission's model names -> mlperf.conf's."""
    return {model: name for name, model in v05_model_names().items()}


def performance_sample_counts() -> dict[str, int]:
    """The v0.5 performance sample count of each model, by its v0.5 submission name (from mlperf.conf)."""
    return {bench.info.v05_model: bench.info.performance_sample_count for bench in registry.benchmarks().values()}


def implementation_name(backend: str, precision: str) -> str:
    """The implementation's name in the tree: the backend, and the precision where it is not fp32."""
    return backend if precision == "fp32" else f"{backend}-{precision}"


@dataclass(frozen=True)
class Tree:
    """The folders of one submitter's part of a submission tree rooted at ``root``."""

    root: Path
    division: str
    submitter: str

    @property
    def base(self) -> Path:
        return self.root / self.division / self.submitter

    def results(self, system: str, model: str, scenario: str) -> Path:
        return self.base / "results" / system / model / scenario

    def accuracy(self, system: str, model: str, scenario: str) -> Path:
        return self.results(system, model, scenario) / "accuracy"

    def performance(self, system: str, model: str, scenario: str, run: int) -> Path:
        return self.results(system, model, scenario) / "performance" / f"run_{run}"

    def measurements(self, system: str, model: str, scenario: str) -> Path:
        return self.base / "measurements" / system / model / scenario

    def code(self, model: str, implementation: str) -> Path:
        return self.base / "code" / model / implementation

    def system_file(self, system: str) -> Path:
        return self.base / "systems" / f"{system}.json"

    def audit(self, system: str, model: str, scenario: str, test: str) -> Path:
        return audit_dir(self.root, self.division, self.submitter, system, model, scenario, test)
