"""The v0.5 audit tests: the one home of their names, what each sets on LoadGen's TestSettings, its
audit.config for the record, which tests a benchmark needs (TEST04's exclusions) and where a submission
keeps their results.

LoadGen 6.0.17 reads an ``audit.config`` from the working directory but takes ``accuracy_log_probability``
and the three seeds only from its embedded conf, so the v0.5 files do not work with it as they are: the
harness sets each test's keys on the TestSettings itself (every one is logged as in force in the detail
log, which the audit checks) and writes the official file's text beside the logs for the record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The v0.5 audit tests this project runs (TEST03, on modified data, is not one of them).
TEST01, TEST04_A, TEST04_B, TEST05 = "TEST01", "TEST04-A", "TEST04-B", "TEST05"
TEST04 = (TEST04_A, TEST04_B)
NEEDS_REFERENCE = (TEST01, TEST04_B, TEST05)  # compared with a run: the submission run (TEST04-B: the A run)
RUN_ORDER = (TEST01, TEST05, TEST04_A, TEST04_B)  # TEST04-B compares with TEST04-A's folder

SCENARIO_ORDER = ("MultiStream", "Offline", "SingleStream", "Server")  # the order of the v0.5 files' lines
TEST01_SEEDS = {"MultiStream": 123, "Offline": 456, "SingleStream": 789, "Server": 147}
TEST01_PROBABILITY = 0.10  # 10 % of the responses logged; the v0.5 file says 10 (percent)
TEST04_SAME_INDEX = 3
TEST05_SEEDS = {"qsl_rng_seed": 195, "sample_index_rng_seed": 235, "schedule_rng_seed": 634}

# v0.5 TEST04 README: "This test is not applicable for GNMT" (its speed depends on each sentence's length)
TEST04_EXCLUDED = {"gnmt": "the v0.5 TEST04 does not apply to GNMT: its speed depends on each sentence's length, "
                           "so one sentence repeated and P different ones differ by design"}

_HEADER = """\
# The format of this config file is 'key = value'.
# The key has the format 'model.scenario.key'. Value is mostly int64_t.
# Model maybe '*' as wildcard. In that case the value applies to all models.
# All times are in milli seconds

# mode dictionary (0 = submission, 1 = accuracy, 2 = performance, 3 = find peak perf)
"""
def _lines(keys: Callable[[str], dict[str, Any]]) -> str:
    return "".join(f"*.{scenario}.{key} = {value}\n" for scenario in SCENARIO_ORDER
                   for key, value in {"mode": 2, **keys(scenario)}.items())


@dataclass(frozen=True)
class AuditTest:
    """One audit test: the TestSettings fields it sets in a scenario and the audit.config it stands for."""

    name: str
    purpose: str
    fields: Callable[[str], dict[str, Any]]  # scenario -> {TestSettings field: value}
    config_keys: Callable[[str], dict[str, Any]]  # scenario -> {audit.config key: value} (the v0.5 file's)
    official_text: bool  # whether the config text is the official v0.5 file's (else its equivalent)

    def audit_config(self) -> str:
        """The v0.5 audit.config of this test (written beside the logs; LoadGen never reads it)."""
        return _HEADER + _lines(self.config_keys)

    @property
    def config_origin(self) -> str:
        if self.official_text:
            return f"the text of mlcommons/inference v0.5/audit/nvidia/{self.name}/audit.config"
        return f"the keys of the v0.5 {self.name} audit.config in the form of the v0.5 files (its text was not at hand)"


AUDIT_TESTS = {
    TEST01: AuditTest(
        TEST01, "performance-mode answers equal the accuracy-mode answers (10% of responses logged)",
        fields=lambda s: {"accuracy_log_probability": TEST01_PROBABILITY, "accuracy_log_rng_seed": TEST01_SEEDS[s]},
        config_keys=lambda s: {"accuracy_log_rng_seed": TEST01_SEEDS[s],
                               "accuracy_log_probability": round(100 * TEST01_PROBABILITY)},
        official_text=True),
    TEST04_A: AuditTest(
        TEST04_A, "the performance sample count's samples, each once (no caching to gain from)",
        fields=lambda s: {"performance_issue_unique": True},
        config_keys=lambda s: {"performance_issue_unique": 1}, official_text=False),
    TEST04_B: AuditTest(
        TEST04_B, "one sample, again and again: not significantly faster than TEST04-A on a SUT that does not cache",
        fields=lambda s: {"performance_issue_same": True, "performance_issue_same_index": TEST04_SAME_INDEX},
        config_keys=lambda s: {"performance_issue_same": 1, "performance_issue_same_index": TEST04_SAME_INDEX},
        official_text=False),
    TEST05: AuditTest(
        TEST05, "other LoadGen seeds: performance within tolerance of the submission run",
        fields=lambda s: dict(TEST05_SEEDS), config_keys=lambda s: dict(TEST05_SEEDS), official_text=True),
}


def audit_dir(root: Path, division: str, submitter: str, system: str, model: str, scenario: str, test: str) -> Path:
    """Where the v0.5 rules put an audit test's results: ``<division>/<submitter>/audit/<system>/<model>/
    <scenario>/<test>/`` below the submission's ``root`` (``model`` as the submission names it: resnet,
    mobilenet, ssd-small, ssd-large, gnmt)."""
    return Path(root) / division / submitter / "audit" / system / model / scenario / test


def required_audits(benchmark: str) -> tuple[str, ...]:
    """The audit tests a benchmark's results need (by mlperf.conf model name), in the tests' order."""
    return tuple(t for t in AUDIT_TESTS if not (t in TEST04 and benchmark in TEST04_EXCLUDED))


def reference_test(test: str) -> str | None:
    """The audit test whose folder ``test`` compares with (None: it compares with the submission run)."""
    return TEST04_A if test == TEST04_B else None


# audit.json as 'mlperf-ref audit' writes it (what the submission and its check read of it); other keys
# (the figures, the settings) are the audit's record and may be anything
AUDIT_JSON: dict[str, Any] = {
    "test": str, "benchmark": str, "scenario": str, "backend": str, "passed": bool | None,
    "result": bool | str, "verdict": bool | str, "settings_problems": list[str], "accuracy_passed": bool | None,
    "performance_passed": bool | None, "accuracy_lines": list[str], "performance_lines": list[str],
}
AUDIT_JSON_REQUIRED = ("test", "benchmark", "scenario")
