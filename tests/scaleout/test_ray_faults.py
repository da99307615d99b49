"""A replica killed mid-run (kill -9 of its worker process) on a local Ray instance of 2 CPUs (real Ray):
its batches run again on the other replica, every sample is answered once, the accuracy log equals the
single-process run's and the restart is counted; with every replica gone the run ends with one error."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from ray_support import make_inputs, payloads, single_process_log  # noqa: E402

from common.errors import RunError  # noqa: E402
from common.runner import RunConfig, open_session, run_benchmark  # noqa: E402
from scaleout.options import RayOptions  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return make_inputs(tmp_path_factory.mktemp("ray-inputs"), ("resnet50",))


@pytest.fixture(scope="module")
def reference(inputs, tmp_path_factory) -> dict[int, bytes]:
    """ResNet50's accuracy payloads in one process (batch 2, one engine thread)."""
    data, models = inputs
    return single_process_log("resnet50", data, models, tmp_path_factory.mktemp("single") / "resnet50")


def config(inputs, out: Path, scenario: str, restarts: int | None = None) -> RunConfig:
    data, models = inputs
    return RunConfig(benchmark="resnet50", backend="onnxruntime", scenario=scenario, mode="accuracy",
                     model=models["resnet50"], dataset_path=data["resnet50"], output=out, quick=True,
                     max_batchsize=2, threads=1, cache_dir=out.parent / "cache", progress=False,
                     ray=RayOptions(replicas=2, restarts=restarts))


def kill_after(session, batches: int, which: tuple[int, ...]) -> threading.Thread:
    """kill -9 the worker processes of the replicas ``which`` once ``batches`` batches are answered."""
    pool = session.cluster.pool
    targets = [pool.replicas[i] for i in which]

    def watch() -> None:
        while sum(r.batches for r in pool.replicas) < batches:
            time.sleep(0.002)
        for target in targets:
            os.kill(target.pid, signal.SIGKILL)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("scenario", ["Offline", "Server"])
def test_a_killed_replica_loses_no_sample(local_ray, inputs, reference, tmp_path, scenario, capsys) -> None:
    out = tmp_path / "out"
    cfg = config(inputs, out, scenario)
    session = open_session(cfg)
    killed = session.cluster.pool.replicas[0].pid
    watcher = kill_after(session, 2, (0,))  # 2 of the 10 batches answered: 8 still to come
    results = run_benchmark(cfg, session)
    watcher.join(5)
    assert payloads(out / "accuracy" / "mlperf_log_accuracy.json") == reference  # each sample once, all equal
    cluster = results.cluster
    assert cluster.restarts == 1 and len(cluster.lost) == 1
    assert cluster.lost[0].startswith(f"replica 0 (pid {killed} on node ") and "ActorDiedError" in cluster.lost[0]
    assert sum(m["samples"] for m in cluster.members) == 20  # each of the 20 samples answered once
    saved = json.loads((out / "results.json").read_text())["cluster"]
    assert saved["restarts"] == 1 and saved["lost"] == cluster.lost
    assert f"{'replicas lost / restarted':<32}: 1 / 1 ({cluster.lost[0]})" in capsys.readouterr().out


def test_every_replica_lost_ends_the_run_with_one_error(local_ray, inputs, tmp_path) -> None:
    out = tmp_path / "out"
    cfg = config(inputs, out, "Offline", restarts=0)
    session = open_session(cfg)
    pids = [r.pid for r in session.cluster.pool.replicas]
    kill_after(session, 1, (0, 1))
    started = time.monotonic()
    with pytest.raises(RunError) as raised:
        run_benchmark(cfg, session)
    assert time.monotonic() - started < 60  # ends, never hangs LoadGen (seconds on an idle machine)
    message = str(raised.value)
    assert "\n" not in message and message.startswith("accuracy run failed while running the backend: ReplicasLost")
    assert all(f"pid {pid} on node" in message for pid in pids)
    assert not (out / "results.json").exists()
