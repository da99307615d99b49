"""bench/run.py overhead with small counts: it runs both systems on LoadGen and reports ratios."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from common.loadgen_log import parse_summary

SCRIPT = Path(__file__).parents[2] / "bench" / "run.py"
# GNMT's v0.5 Server bound (250 ms at the 97th percentile) keeps the short peak search clear of the
# stalls of a busy machine (the default is ResNet50's 15 ms).
SMALL = ["--model", "gnmt", "--offline-samples", "512", "--server-qps", "400", "--server-seconds", "0.25",
         "--peak-start-qps", "250", "--peak-max-qps", "1000", "--peak-steps", "1",
         "--singlestream-queries", "128", "--samples", "8", "--max-batchsize", "4"]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "overhead", *args], capture_output=True, text=True, timeout=120)


def test_small_run_writes_table_json_and_loadgen_logs(tmp_path: Path) -> None:
    done = _run("--output", str(tmp_path), "--sample-shape", "2,3", "--repeats", "2", *SMALL)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "harness_overhead.json").read_text())
    rows = {(r["label"], r["figure"]): r for r in report["rows"]}
    assert set(rows) == {
        ("Offline", "samples/s"),
        ("Server peak", "peak QPS, p99 in bound"), ("Server 400/s", "p99 latency"),
        ("SingleStream", "p90 latency"), ("SingleStream", "mean latency"),
    }
    for row in rows.values():
        assert row["sample_shape"] == "2x3"
        assert len(row["runs"]["inline"]) == len(row["runs"]["harness"]) == 2
        assert row["inline"] > 0 and row["harness"] > 0
        assert row["ratio"] == pytest.approx(row["harness"] / row["inline"])
    # The peak search doubles from 250 QPS up to its 1000 QPS ceiling; each peak is a run that met the bound.
    peak = rows[("Server peak", "peak QPS, p99 in bound")]
    for system in ("inline", "harness"):
        for repeat, qps in enumerate(peak["runs"][system], start=1):
            assert qps in (250, 500, 1000)
            run = tmp_path / "2x3" / "Server-peak" / f"{system}-{repeat}" / f"{qps:.0f}qps"
            summary = parse_summary(run / "mlperf_log_summary.txt")
            assert summary.test_parameters["target_qps"] == qps
            assert summary.performance_constraints_satisfied is True
    # The figures are LoadGen's own: the table's Offline throughput is the summary's metric.
    offline = parse_summary(tmp_path / "2x3" / "Offline" / "harness-1" / "mlperf_log_summary.txt")
    assert offline.scenario == "Offline" and offline.metric_name == "Samples per second"
    assert offline.test_parameters["samples_per_query"] == 512
    assert offline.metric_value in rows[("Offline", "samples/s")]["runs"]["harness"]
    server = parse_summary(tmp_path / "2x3" / "Server-400qps" / "inline-2" / "mlperf_log_summary.txt")
    assert server.test_parameters["target_qps"] == 400
    assert server.test_parameters["target_latency (ns)"] == 250_000_000  # the v0.5 GNMT Server bound
    table = (tmp_path / "harness_overhead.txt").read_text()
    assert table in done.stdout
    assert "harness/inline" in table and "Server 400/s" in table


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sample-shape", "3,x"], "--sample-shape"),
        (["--repeats", "0"], "--repeats"),
        (["--scenarios", "Streaming"], "--scenarios"),
    ],
)
def test_bad_options_fail_at_once(tmp_path: Path, args: list[str], message: str) -> None:
    done = _run("--output", str(tmp_path / "out"), *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert not (tmp_path / "out").exists()


def test_output_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    done = _run("--output", str(tmp_path / "file"), *SMALL)
    assert done.returncode == 2
    assert "--output" in done.stderr and "is a file" in done.stderr
