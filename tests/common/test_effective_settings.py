"""A run is a v0.5 submission run only when LoadGen's detail log shows the v0.5 settings in force.

Real LoadGen runs of the null backend on the synthetic benchmark (registered as resnet50, so the v0.5
rules of resnet50 apply): an Offline run with every v0.5 setting (seconds: 24,576 samples of nothing),
short Server and MultiStream runs that change only what the test names, a quick run.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

import common.registry as registry
from common.effective_settings import read_effective
from common.rules import v05_rule
from common.runner import RunConfig, run_benchmark
from common.verdict import judge
from tools.submission.check import submission_problems

V05_SEEDS = {key: v05_rule("resnet50", "*", key) for key in ("qsl_rng_seed", "sample_index_rng_seed",
                                                              "schedule_rng_seed")}
# LoadGen's logger warns when one thread logged more than it reserved between two flushes, which the null
# backend's burst of 24,576 Offline answers can cause (a fact of the run, named like any warning).
ALLOCATION = "LoadGen logged warning: Logging allocation detected"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory):
    """run(name, scenario, conf_text=None, **RunConfig fields) -> the output folder (each made once)."""
    from synthetic_benchmark import SyntheticBenchmark

    root = tmp_path_factory.mktemp("effective")
    made: dict[str, Path] = {}
    with pytest.MonkeyPatch.context() as patch:
        bench = SyntheticBenchmark()
        patch.setattr(registry, "benchmarks", lambda: {"resnet50": bench})

        def run(name: str, scenario: str, conf: str | None = None, **fields) -> Path:
            if name not in made:
                conf_path = None
                if conf is not None:
                    conf_path = root / f"{name}.conf"
                    conf_path.write_text(conf)
                out = root / name
                run_benchmark(RunConfig("resnet50", "null", scenario, dataset_path=root, output=out,
                                        user_conf=conf_path, progress=False, **fields))
                made[name] = out
            return made[name]

        yield run


def _without_allocation(problems: list[str]) -> list[str]:
    return [p for p in problems if not p.startswith(ALLOCATION)]


def test_a_full_v05_offline_run_has_every_v05_setting_in_force(runs) -> None:
    out = runs("offline-v05", "Offline")
    effective = read_effective(out / "performance")
    assert effective["scenario"] == "Offline" and effective["test_mode"] == "PerformanceOnly"
    assert effective["min_duration_ms"] == 60000 and effective["min_sample_count"] == 24576
    assert effective["samples_per_query"] >= 24576 and effective["performance_sample_count"] == 1024
    assert {key: effective[key] for key in V05_SEEDS} == V05_SEEDS
    assert effective["accuracy_log_probability"] == 0 and effective["audit_config"] is False
    assert effective["qsl_total_count"] == 40 and effective["errors"] == []
    assert _without_allocation(submission_problems(out / "performance", "resnet50", "Offline")) == []


def test_the_verdict_follows_the_problems_and_a_clean_valid_run_is_submittable(runs, tmp_path: Path) -> None:
    from common.results import RunResults

    out = runs("offline-v05", "Offline")
    saved = RunResults.load(out / "results.json")
    problems = submission_problems(out / "performance", "resnet50", "Offline")
    assert saved.verdict.problems == ["null backend: no model ran, so there is no result to submit", *problems]
    # LoadGen calls it INVALID (60 s minimum, null answers in one), so it is not submittable either way.
    assert saved.verdict.loadgen_valid is False and saved.verdict.submittable is False
    # The same detail log without the logger's allocation warning, as if VALID, on real data and weights:
    clean = tmp_path / "performance"
    clean.mkdir()
    lines = (out / "performance" / "mlperf_log_detail.txt").read_text().splitlines(keepends=True)
    (clean / "mlperf_log_detail.txt").write_text("".join(x for x in lines if "Logging allocation" not in x))
    perf = dataclasses.replace(saved.performance, log_dir=str(clean))
    perf.loadgen = dataclasses.replace(perf.loadgen, valid=True, warnings=[])
    as_real = dataclasses.replace(saved, performance=perf, synthetic_data=False, verdict=None)
    verdict = judge(as_real, runs_model=True)
    assert verdict.problems == [] and verdict.submittable is True
    # ... and one changed setting in that log takes it back
    text = (clean / "mlperf_log_detail.txt").read_text()
    (clean / "mlperf_log_detail.txt").write_text(
        text.replace('"key": "effective_performance_sample_count", "value": 1024',
                     '"key": "effective_performance_sample_count", "value": 1000'))
    verdict = judge(as_real, runs_model=True)
    assert verdict.problems == ["performance sample count 1000 in force, v0.5 needs 1024"]
    assert verdict.submittable is False


def test_a_changed_seed_in_the_user_conf_is_named(runs) -> None:
    out = runs("offline-seed", "Offline", "*.*.qsl_rng_seed = 7\nresnet50.Offline.schedule_rng_seed = 8\n")
    problems = _without_allocation(submission_problems(out / "performance", "resnet50", "Offline"))
    assert problems == [f"qsl_rng_seed 7 in force, v0.5 needs {V05_SEEDS['qsl_rng_seed']}",
                        f"schedule_rng_seed 8 in force, v0.5 needs {V05_SEEDS['schedule_rng_seed']}"]
    summary = json.loads((out / "results.json").read_text())["verdict"]
    assert summary["submittable"] is False and summary["problems"][1:3] == problems  # after the null backend's


def test_a_quick_run_names_its_counts_and_its_flag(runs, capsys: pytest.CaptureFixture[str]) -> None:
    out = runs("server-quick", "Server", quick=True)  # 24 queries: the benchmark's quick_count
    problems = submission_problems(out / "performance", "resnet50", "Server")
    assert problems[:2] == ["min_duration 0 ms in force, v0.5 needs 60000 ms",
                            "min_query_count 24 in force, v0.5 needs 270336"]
    assert "max_query_count 24 in force, v0.5 sets none (0): it can end the run early" in problems
    assert problems[-1] == "--quick run: small counts and no minimum duration"
    printed = capsys.readouterr().out
    assert "  not submittable: min_duration 0 ms in force, v0.5 needs 60000 ms" in printed
    assert "v0.5 submission run: yes" not in printed


def test_server_and_multistream_bounds_and_percentiles(runs) -> None:
    short = "*.*.min_duration = 100\n*.*.min_query_count = 64\n"
    out = runs("server-bound", "Server", short + "*.Server.target_qps = 2000\n*.Server.target_latency = 20\n"
               "*.Server.target_latency_percentile = 90\n")
    problems = submission_problems(out / "performance", "resnet50", "Server")
    assert problems == ["min_duration 100 ms in force, v0.5 needs 60000 ms",
                        "min_query_count 64 in force, v0.5 needs 270336",
                        "latency percentile 90th in force, v0.5 needs the 99th",
                        "Server latency bound 20 ms in force, v0.5 needs at most 15 ms"]
    # no minimum duration: LoadGen generates only min_query_count queries at this long expected latency
    out = runs("multistream-bound", "MultiStream", "*.*.min_duration = 0\n*.*.min_query_count = 64\n"
               "*.MultiStream.target_latency = 80\n")
    assert read_effective(out / "performance")["latency_bound_ms"] == pytest.approx(80)
    problems = submission_problems(out / "performance", "resnet50", "MultiStream")
    assert problems == ["min_duration 0 ms in force, v0.5 needs 60000 ms",
                        "min_query_count 64 in force, v0.5 needs 270336",
                        "MultiStream latency bound 80 ms in force, v0.5 needs at most 50 ms"]


def test_a_count_run_and_a_missing_log(runs, tmp_path: Path) -> None:
    out = runs("offline-count", "Offline", count=10)
    problems = _without_allocation(submission_problems(out / "performance", "resnet50", "Offline"))
    assert problems == ["--count 10 run: only the first 10 samples"]
    assert submission_problems(tmp_path, "resnet50", "Offline") == [
        f"no LoadGen detail log in {tmp_path}: the phase did not run or did not finish"]


@pytest.mark.parametrize(("case", "runs_model", "qsl_total", "submittable", "named"), [
    # the hostile cases: nothing marks the 20 images as sample data, yet LoadGen logged how many there were
    ("null backend on a 20-image folder", False, 20, False,
     ["null backend: no model ran", "performance phase on 20 samples"]),
    ("real engine on 20 images", True, 20, False, ["performance phase on 20 samples"]),
    ("null backend on the full dataset", False, 50_000, False, ["null backend: no model ran"]),
    ("real engine on the full dataset", True, 50_000, True, []),
])
def test_submittable_needs_the_full_dataset_and_a_model(runs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         case: str, runs_model: bool, qsl_total: int,
                                                         submittable: bool, named: list[str]) -> None:
    """The verdict of the clean v0.5 Offline log above, judged as ResNet50's (ImageNet val: 50,000 images),
    with the QSL total LoadGen logged set to ``qsl_total``."""
    from common.report import format_summary
    from common.results import RunResults
    from vision.resnet50.benchmark import ResNet50Benchmark

    out = runs("offline-v05", "Offline")  # made with the synthetic benchmark, judged as ResNet50's below
    monkeypatch.setattr(registry, "benchmarks", lambda: {"resnet50": ResNet50Benchmark()})
    saved = RunResults.load(out / "results.json")
    clean = tmp_path / "performance"
    clean.mkdir()
    text = "".join(x for x in (out / "performance" / "mlperf_log_detail.txt").read_text().splitlines(keepends=True)
                   if "Logging allocation" not in x)
    logged = '"key": "qsl_reported_total_count", "value": 40'
    assert logged in text
    (clean / "mlperf_log_detail.txt").write_text(
        text.replace(logged, f'"key": "qsl_reported_total_count", "value": {qsl_total}'))
    perf = dataclasses.replace(saved.performance, log_dir=str(clean))
    perf.loadgen = dataclasses.replace(perf.loadgen, valid=True, warnings=[])
    as_run = dataclasses.replace(saved, performance=perf, synthetic_data=False, backend="null" if not runs_model
                                 else "onnxruntime", verdict=None)
    as_run.verdict = verdict = judge(as_run, runs_model=runs_model)
    assert verdict.submittable is submittable, case
    assert [p for p in verdict.problems if not any(p.startswith(n) for n in named)] == []
    assert all(any(p.startswith(n) for p in verdict.problems) for n in named)
    if qsl_total == 20:
        assert "performance phase on 20 samples (LoadGen's qsl_reported_total_count), the full ImageNet 2012 val " \
               "(224x224) has 50,000: a run on part of the dataset is no submission run" in verdict.problems
    as_run.results_file = "results.json"
    assert ("v0.5 submission run: yes" in format_summary(as_run)) is submittable


def test_each_benchmark_knows_its_full_dataset() -> None:
    """The official counts, from each benchmark's own definition: ImageNet val, COCO val, newstest2014 (GNMT's
    performance phase reads the v0.5 .large file: 1,300 copies of it)."""
    from importlib.metadata import entry_points

    found = {entry.name: entry.load()() for entry in entry_points(group=registry.GROUP)}  # the real ones
    sizes = {name: (bench.full_dataset_size("accuracy"), bench.full_dataset_size("performance"))
             for name, bench in found.items()}
    assert sizes == {"resnet50": (50_000, 50_000), "mobilenet": (50_000, 50_000), "ssd-mobilenet": (5_000, 5_000),
                     "ssd-resnet34": (5_000, 5_000), "gnmt": (3_003, 3_903_900)}
