"""bench/: rows judged against their goals, the peak search, the table, the LoadGen conf it writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.engine import percentile, raw_latencies_ms, raw_throughput
from bench.null import ViewTask, search_peak
from bench.rows import absolute, compared, judge
from bench.table import format_table, machine
from bench.workspace import write_user_conf
from common.backends import make_backend
from common.backends.null_backend import NullBackend
from common.settings import build_settings


def test_judge_reads_the_goal() -> None:
    assert judge(0.97, ">= 0.97") is True
    assert judge(0.969, ">= 0.97") is False
    assert judge(0.31, "<= 0.3") is False
    assert judge(None, ">= 1") is None
    assert judge(5.0, "") is None


def test_compared_takes_ratio_or_difference() -> None:
    row = compared("1", "x", 48.5, 50.0, "samples/s", "raw", ">= 0.97")
    assert row.ratio == pytest.approx(0.97) and row.met is True
    latency = compared("2", "y", 18.9, 18.7, "ms", "raw p90", "<= 0.3", comparison="difference")
    assert latency.ratio == pytest.approx(0.2) and latency.met is True
    missing = compared("4", "z", None, 10.0, "QPS", "b1", ">= 2")
    assert missing.ratio is None and missing.met is None
    assert absolute("3", "null", 250000.0, "samples/s", ">= 219000").met is True


@pytest.mark.parametrize(("start", "threshold", "expected"), [
    (10000.0, 37000.0, 35000.0),  # 10k, 20k pass, 40k fails; bisections 30k, 35k pass, 37.5k fails
    (100000.0, 37000.0, 34375.0),  # 100k, 50k fail, 25k passes; 50k fails; 37.5k, 31.25k, 34.375k
    (10000.0, 1000.0, None),  # 10k, 5k, 2.5k, 1.25k all fail
])
def test_search_peak(start: float, threshold: float, expected: float | None) -> None:
    tried: list[float] = []

    def valid(qps: float) -> bool:
        tried.append(qps)
        return qps <= threshold

    assert search_peak(valid, start, ceiling=512000.0, steps=3) == expected
    assert len(tried) == len(set(tried))  # no target is run twice


def test_search_peak_stops_at_the_ceiling() -> None:
    assert search_peak(lambda qps: True, 1000.0, ceiling=5000.0, steps=3) == 4000.0


def test_view_task_passes_arrays_through_and_stacks_lists() -> None:
    batch = np.zeros((4, 3), np.float32)
    assert ViewTask().collate(batch)["input"] is batch
    stacked = ViewTask().collate([np.ones(3, np.float32), np.zeros(3, np.float32)])["input"]
    np.testing.assert_array_equal(stacked, [[1, 1, 1], [0, 0, 0]])


def test_user_conf_reaches_loadgen(tmp_path: Path) -> None:
    conf = write_user_conf(tmp_path / "user.conf", {"Offline": {"min_duration": 4000, "min_query_count": 1},
                                                    "Server": {"target_latency": 50}})
    assert "NOT valid for submission" in conf.read_text()
    offline = build_settings("mobilenet", "Offline", "performance", conf)
    assert (offline.min_duration_ms, offline.min_query_count) == (4000, 1)
    server = build_settings("mobilenet", "Server", "performance", conf)
    assert server.server_target_latency_ns == 50_000_000


def test_raw_timing_runs_the_backend() -> None:
    backend = make_backend("null", threads=1)
    seen: list[int] = []
    loops: list[str] = []

    class Counting(NullBackend):
        def run_on_engine(self, fn, *args):
            loops.append(fn.__name__)  # the whole timed loop goes to the engine's thread, not each predict
            return fn(*args)

        def predict(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
            seen.append(int(feeds["x"][0, 0]))
            return backend.predict(feeds)

    batches = [{"x": np.full((8, 3), k, np.float32)} for k in range(3)]
    assert raw_throughput(Counting(threads=1), batches, 0.01) > 0
    assert set(seen) == {0, 1, 2} and seen[:5] == [0, 1, 2, 0, 1]  # the batches in turn, warm-up first
    assert loops == ["_throughput_loop"]
    latencies = raw_latencies_ms(backend, batches, 0.01)
    assert len(latencies) >= 10 and min(latencies) >= 0
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 90) == pytest.approx(9.1)


def test_table_lists_figures_verdicts_and_commands() -> None:
    rows = [compared("1 Offline/engine", "resnet50 onnxruntime", 48.0, 50.0, "samples/s", "raw predict",
                     ">= 0.97", command="mlperf-ref run resnet50 ..."),
            absolute("3 null backend", "null Offline", 250000.0, "samples/s", ">= 219000", command="python x")]
    facts = {"machine": machine(), "libraries": {"numpy": np.__version__}, "started": "now", "seconds": 1.0}
    table = format_table(rows, facts, 1.0, "note")
    assert "/ 50.0 = 0.960" in table and "MISSED" in table and "met" in table
    assert " 1. baseline: raw predict. mlperf-ref run resnet50 ..." in table
    assert f"numpy {np.__version__}" in table
