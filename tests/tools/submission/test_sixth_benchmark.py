"""A sixth benchmark touches only its own folder, its entry point and the LoadGen rules file: registered by
an entry point beside the five, it runs the quick start, becomes a submission tree and is checked, with its
v0.5 name, performance sample count and audit list taken from its own definition and the rules file."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import pytest
from toy_benchmark import PERFORMANCE_SAMPLE_COUNT

import common.registry as registry
import common.rules as rules
from tools.cli import main
from tools.submission.check import check_tree

BASE = "closed/Org"


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """The toy registered beside the installed benchmarks, and its line added to a copy of mlperf.conf."""
    conf = tmp_path / "mlperf.conf"
    conf.write_text(rules.MLPERF_CONF.read_text(encoding="utf-8")
                    + f"toy.*.performance_sample_count_override = {PERFORMANCE_SAMPLE_COUNT}\n", encoding="utf-8")
    monkeypatch.setattr(rules, "MLPERF_CONF", conf)
    toy_entry = EntryPoint("toy", "toy_benchmark:ToyBenchmark", registry.GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [*entry_points(group=group), toy_entry])
    registry._entries.cache_clear()
    registry.benchmarks.cache_clear()
    yield conf
    registry._entries.cache_clear()
    registry.benchmarks.cache_clear()


def test_a_registered_toy_runs_through_quickstart_submission_and_check(toy: Path, system_desc: Path, tmp_path: Path,
                                                                      capsys) -> None:
    assert "toy" in registry.benchmark_names()
    out = tmp_path / "quickstart"
    assert main(["quickstart", "--output", str(out), "--only", "toy"]) == 0
    assert "toy" in capsys.readouterr().out
    tree = tmp_path / "submission"
    assert main(["submission", "--submitter", "Org", "--system", "box", "--output", str(tree),
                 "--runs", str(out / "toy"), "--system-desc", str(system_desc)]) == 0
    results = tree / BASE / "results" / "box" / "toy-v05" / "Offline"  # the name its definition gives
    assert {p.name for p in results.iterdir()} == {"accuracy", "performance"}
    measurements = tree / BASE / "measurements" / "box" / "toy-v05" / "Offline"
    assert (measurements / "mlperf.conf").read_bytes() == toy.read_bytes()

    problems = check_tree(tree)
    assert not [line for line in problems if "invalid model name" in line or "performance_sample_count" in line]
    missing = [line.split(": ", 1)[1] for line in problems if " missing: " in line]
    assert len(missing) == 1  # one line for the result: the toy is not one TEST04 excludes
    assert missing[0].startswith("audit TEST01, TEST04-A, TEST04-B, TEST05 missing: ")
    assert any(line.endswith("--quick run: small counts and no minimum duration") for line in problems)
    assert main(["check", str(tree)]) == 1
