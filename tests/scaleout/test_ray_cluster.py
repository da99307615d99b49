"""--ray on a two-node cluster simulated on this machine (ray.cluster_utils.Cluster, two nodes of 1 CPU and
one fake GPU each; real Ray, no mocks): every scenario end to end with onnxruntime and null, the accuracy
logs equal to a single-process run's, the replicas on both nodes, GPU requests, and a model no node can open.
(The GPUs are Ray resources only: nothing here runs on a GPU.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.cli import main

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402
from ray_support import make_inputs, payloads, run_args, single_process_log  # noqa: E402

SCENARIOS = ("Offline", "Server", "SingleStream", "MultiStream")


@pytest.fixture(scope="module")
def cluster():
    """Two nodes, 1 CPU and 1 (fake) GPU each; this process is connected as the driver."""
    made = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "num_gpus": 1, "include_dashboard": False})
    made.add_node(num_cpus=1, num_gpus=1)
    ray.init(address=made.address, logging_level="ERROR", log_to_driver=False)
    made.wait_for_nodes()
    yield made
    ray.shutdown()
    made.shutdown()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return make_inputs(tmp_path_factory.mktemp("ray-inputs"))


@pytest.fixture(scope="module")
def references(inputs, tmp_path_factory) -> dict[str, dict[int, bytes]]:
    """Each benchmark's accuracy payloads from a single-process run (batch 2, one engine thread)."""
    data, models = inputs
    root = tmp_path_factory.mktemp("single")
    return {name: single_process_log(name, data, models, root / name) for name in ("resnet50", "ssd-mobilenet")}


def node_ids() -> set[str]:
    return {n["NodeID"] for n in ray.nodes() if n["Alive"]}


def check_cluster(out: Path) -> dict:
    """results.json names both nodes, two replicas of 1 CPU and Ray's version; returns its cluster section."""
    found = json.loads((out / "results.json").read_text())["cluster"]
    assert found["ray_version"] == ray.__version__
    assert found["replicas"] == 2 and found["nodes"] == 2 and found["restarts"] == 0
    assert {m["node_id"] for m in found["members"]} == node_ids()  # one replica on each node
    assert [m["cpus"] for m in found["members"]] == [1.0, 1.0]
    assert all(m["batches"] > 0 for m in found["members"])  # both ran batches
    return found


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_null_backend_every_scenario(cluster, inputs, tmp_path, scenario, capsys) -> None:
    data, models = inputs
    out = tmp_path / "out"
    code = main(run_args("resnet50", data, models, out, "--both", "--ray", cluster.address, backend="null",
                         scenario=scenario))
    assert code == 0
    check_cluster(out)
    results = json.loads((out / "results.json").read_text())
    assert results["accuracy"]["accuracy"]["samples"] == 20  # the 20 sample images, each answered
    assert results["performance"]["loadgen"]["metric_value"] > 0
    printed = capsys.readouterr().out
    assert f"Ray {ray.__version__}" in printed and "2 replicas x 1 CPU on 2 node(s)" in printed
    assert "null fp32 on cpu, 2 Ray replica(s) x 1 threads, batch" in printed  # the engines, not --workers


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_onnxruntime_every_scenario_answers_as_one_process(cluster, inputs, references, tmp_path, scenario) -> None:
    """ResNet50 on both nodes, every scenario through LoadGen's accuracy mode: the accuracy log holds the very
    payloads of the single-process run (the performance phase of every scenario: the null runs above)."""
    data, models = inputs
    out = tmp_path / "out"
    assert main(run_args("resnet50", data, models, out, "--accuracy", "--ray", cluster.address,
                         scenario=scenario)) in (0, 1)  # 1: random weights FAIL the quality target
    check_cluster(out)
    assert payloads(out / "accuracy" / "mlperf_log_accuracy.json") == references["resnet50"]


def test_ssd_mobilenet_answers_as_one_process(cluster, inputs, references, tmp_path) -> None:
    """Detections (7 float32 per box) are byte-identical too."""
    data, models = inputs
    out = tmp_path / "out"
    assert main(run_args("ssd-mobilenet", data, models, out, "--accuracy", "--ray", cluster.address)) in (0, 1)
    check_cluster(out)
    found = payloads(out / "accuracy" / "mlperf_log_accuracy.json")
    assert found == references["ssd-mobilenet"] and len(found) == 8


def test_gpu_requests_use_ray_resources(cluster, inputs, tmp_path) -> None:
    """--gpus-per-replica 1 on nodes of one (fake) GPU: one replica per node, each given its GPU by Ray."""
    data, models = inputs
    out = tmp_path / "out"
    assert main(run_args("resnet50", data, models, out, "--ray", cluster.address, "--gpus-per-replica", "1",
                         backend="null")) == 0
    found = json.loads((out / "results.json").read_text())["cluster"]
    assert found["gpus_per_replica"] == 1.0
    assert [m["gpus"] for m in found["members"]] == [1.0, 1.0]
    assert all(m["gpu_ids"] == ["0"] for m in found["members"])  # each node's own GPU 0
    assert {m["node_id"] for m in found["members"]} == node_ids()


@pytest.mark.parametrize(("extra", "says"), [
    (["--gpus-per-replica", "2"], "--gpus-per-replica 2: no node has that many GPUs"),
    (["--replicas", "3"], "--replicas: 3 replicas of 1 CPU each do not fit: the nodes hold 2"),
    (["--cpus-per-replica", "2"], "--cpus-per-replica 2: no node has that many CPUs"),
])
def test_more_than_the_cluster_has_is_refused(cluster, inputs, tmp_path, extra, says, capsys) -> None:
    data, models = inputs
    code = main(run_args("resnet50", data, models, tmp_path / "out", "--ray", cluster.address, *extra,
                         backend="null"))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith(f"error: {says}") and "2 node(s), 2 CPUs and 2 GPUs" in err[0]


def test_a_model_no_node_can_open_fails_before_loadgen(cluster, inputs, tmp_path, capsys) -> None:
    """The replica's error comes back with its node's name; LoadGen never starts (no log folder)."""
    data, models = inputs
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not an onnx file")
    out = tmp_path / "out"
    code = main(["run", "resnet50", "--backend", "onnxruntime", "--model", str(broken), "--dataset-path",
                 str(data["resnet50"]), "--output", str(out), "--quick", "--ray", cluster.address])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1  # a model file that is no ONNX model is the user's to fix: exit 2
    assert "broken.onnx" in err[0] and "not an ONNX model" in err[0], err[0]
    hosts = {n["NodeManagerHostname"] for n in ray.nodes()}
    assert err[0].startswith("error: Ray replica on node ") and any(h in err[0] for h in hosts)
    assert "pid" in err[0] and not (out / "performance").exists()


def test_an_audit_runs_on_the_replicas_with_its_settings_in_force(cluster, inputs, tmp_path) -> None:
    """'audit' takes --ray as 'run' does: TEST05's seeds are LoadGen's effective ones in a run the replicas serve."""
    from common.effective_settings import read_effective

    data, models = inputs
    reference = tmp_path / "reference"
    assert main(run_args("resnet50", data, models, reference, backend="null")) in (0, 1)
    audit = run_args("resnet50", data, models, tmp_path / "TEST05", "--ray", cluster.address,
                     "--reference", str(reference), backend="null")
    assert main(["audit", "TEST05", *audit[1:]]) == 1  # quick runs are no v0.5 runs: TEST FAIL, said so
    found = json.loads((tmp_path / "TEST05" / "audit.json").read_text())
    seeds = {"qsl_rng_seed": 195, "sample_index_rng_seed": 235, "schedule_rng_seed": 634}
    assert found["settings_in_force"] is True and found["settings"] == seeds
    effective = read_effective(tmp_path / "TEST05" / "performance" / "run_1")
    assert {key: effective[key] for key in seeds} == seeds
