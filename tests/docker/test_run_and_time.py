"""run_and_time.sh: options and errors, the docker commands (with a fake docker), and --local end to end."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from common.registry import benchmarks

REPO = Path(__file__).resolve().parents[2]
# Each registered benchmark's folder: the package of its class (vision.resnet50.benchmark -> vision/resnet50).
FOLDERS = {name: type(bench).__module__.rsplit(".", 1)[0].replace(".", "/") for name, bench in benchmarks().items()}
SEPARATOR = "\x1f"
FAKE_DOCKER = f"""#!/usr/bin/env bash
# Records each call as one line of arguments; exits with FAKE_BUILD_STATUS / FAKE_RUN_STATUS.
printf '%s{SEPARATOR}' "$@" >>"$FAKE_DOCKER_CALLS"
printf '\\n' >>"$FAKE_DOCKER_CALLS"
case $1 in
    build) exit "${{FAKE_BUILD_STATUS:-0}}" ;;
    run) echo "fake run output"; exit "${{FAKE_RUN_STATUS:-0}}" ;;
esac
"""


def script(name: str) -> Path:
    return REPO / FOLDERS[name] / "run_and_time.sh"


@pytest.fixture
def dirs(tmp_path):
    for sub in ("data", "models", "out", "cache"):
        (tmp_path / sub).mkdir()
    fake = tmp_path / "bin" / "docker"
    fake.parent.mkdir()
    fake.write_text(FAKE_DOCKER)
    fake.chmod(0o755)
    return tmp_path


def run(name: str, *args: str, env: dict[str, str] | None = None, timeout: int = 60):
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("DATA_DIR", "MODEL_DIR", "OUTPUT_DIR", "DOCKER", "VIRTUAL_ENV")}
    full_env.update(env or {})
    return subprocess.run(["bash", str(script(name)), *args], env=full_env, capture_output=True, text=True,
                          timeout=timeout)


def docker_env(dirs: Path, **extra: str) -> dict[str, str]:
    return {"DATA_DIR": str(dirs / "data"), "MODEL_DIR": str(dirs / "models"), "DOCKER": str(dirs / "bin/docker"),
            "FAKE_DOCKER_CALLS": str(dirs / "calls"), "MLPERF_REF_CACHE": str(dirs / "cache"), **extra}


def calls(dirs: Path) -> list[list[str]]:
    path = dirs / "calls"
    lines = path.read_text().splitlines() if path.exists() else []
    return [line.split(SEPARATOR)[:-1] for line in lines]


@pytest.mark.parametrize("name", list(FOLDERS))
def test_every_benchmark_has_an_executable_run_and_time_that_prints_usage(name):
    assert os.access(script(name), os.X_OK)
    result = run(name, "-h")
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: ./run_and_time.sh [--device cpu|gpu] [--backend B] [--scenario S]")
    assert f"mlperf-ref run {name} --both" in result.stdout


def test_run_and_time_scripts_are_tiny_and_share_one_library():
    for name in FOLDERS:
        text = script(name).read_text()
        assert len(text.splitlines()) <= 10
        assert 'source "$here/../../docker/run_and_time_lib.sh"' in text
        assert text.rstrip().endswith(f'run_and_time {name} "$here" "$@"')


@pytest.mark.parametrize("unset", ["DATA_DIR", "MODEL_DIR"])
def test_missing_data_or_model_dir_is_one_clear_error(dirs, unset):
    env = docker_env(dirs)
    del env[unset]
    result = run("resnet50", env=env)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {unset} is not set: export {unset}=/path/to/folder")
    assert len(result.stderr.splitlines()) == 1
    assert calls(dirs) == []


def test_data_dir_that_is_no_folder_is_reported_with_the_download_script(dirs):
    result = run("ssd-mobilenet", env=docker_env(dirs, DATA_DIR=str(dirs / "nope")))
    assert result.returncode == 2
    assert result.stderr == (f"error: DATA_DIR={dirs / 'nope'} is not a folder: the dataset folder; see "
                             "vision/ssd_mobilenet/download_dataset.sh\n")


@pytest.mark.parametrize("args, message", [
    (["--device", "tpu"], "error: --device 'tpu': choose cpu or gpu"),
    (["--scenario", "Batch"], "error: --scenario 'Batch': choose one of SingleStream MultiStream Server Offline"),
    (["--backend"], "error: --backend needs a name"),
])
def test_bad_options_are_refused_before_anything_runs(dirs, args, message):
    result = run("gnmt", *args, env=docker_env(dirs))
    assert result.returncode == 2 and result.stderr.startswith(message)
    assert calls(dirs) == []


def test_missing_docker_points_to_the_installer_and_local(dirs):
    result = run("resnet50", env=docker_env(dirs, DOCKER=str(dirs / "no-docker"), OUTPUT_DIR=str(dirs / "new-out"),
                                            MLPERF_REF_CACHE=str(dirs / "new-cache")))
    assert result.returncode == 2
    assert "install Docker (sudo ./install_cuda_docker.sh) or run with --local" in result.stderr
    assert not (dirs / "new-out").exists() and not (dirs / "new-cache").exists()  # refused before any folder


def test_cpu_run_builds_base_and_benchmark_images_then_runs_the_helper_in_the_container(dirs):
    out = dirs / "out"
    result = run("resnet50", "--scenario", "Offline,Server", "--quick", "--count", "8", "--output", str(out),
                 env=docker_env(dirs))
    assert result.returncode == 0, result.stderr
    build_base, build_bench, container = calls(dirs)
    assert build_base == ["build", "-t", "mlperf-ref-base:cpu", "-f", f"{REPO}/docker/Dockerfile.cpu", str(REPO)]
    assert build_bench == ["build", "-t", "mlperf-ref-resnet50:cpu", "--build-arg", "DEVICE=cpu", "-f",
                           f"{REPO}/vision/resnet50/Dockerfile", str(REPO)]
    assert container[:3] == ["run", "--rm", "--init"] and "--gpus" not in container
    assert container[container.index("--user") + 1] == f"{os.getuid()}:{os.getgid()}"
    mounts = [container[i + 1] for i, word in enumerate(container) if word == "-v"]
    assert mounts == [f"{dirs / 'data'}:/data:ro", f"{dirs / 'models'}:/models:ro", f"{out}:/output",
                      f"{dirs / 'cache'}:/cache"]
    image = container.index("mlperf-ref-resnet50:cpu")
    assert container[image + 1:] == ["bash", "/opt/mlperf/docker/run_helper.sh", "resnet50", "--dataset-path",
                                     "/data", "--model-dir", "/models", "--output", "/output", "--device", "cpu",
                                     "--scenario", "Offline Server", "--", "--quick", "--count", "8"]
    log = (out / "output.txt").read_text()
    assert log.splitlines()[0].startswith("STARTING RUN AT ")
    assert "fake run output" in log
    assert re.search(r"\nENDING RUN AT .+\ntotal wall time: \d+s \(\d\d:\d\d:\d\d\), exit status 0\n$", log)
    assert result.stdout == log  # everything shown is in the log, and the other way round


def test_gpu_run_uses_gpus_all_and_the_cuda_device_and_passes_backend_and_model(dirs):
    result = run("ssd-resnet34", "--device", "gpu", "--backend", "pytorch", "--model", "mine.pytorch",
                 "--scenario", "all", env=docker_env(dirs, OUTPUT_DIR=str(dirs / "out")))
    assert result.returncode == 0, result.stderr
    build_base, build_bench, container = calls(dirs)
    assert build_base[2:5] == ["mlperf-ref-base:gpu", "-f", f"{REPO}/docker/Dockerfile.gpu"]
    assert "DEVICE=gpu" in build_bench
    assert container[container.index("--gpus") + 1] == "all"
    helper = container[container.index("/opt/mlperf/docker/run_helper.sh"):]
    assert helper[helper.index("--device") + 1] == "cuda"
    assert helper[helper.index("--backend") + 1] == "pytorch"
    assert helper[helper.index("--model") + 1] == "mine.pytorch"
    assert helper[helper.index("--scenario") + 1] == "SingleStream MultiStream Server Offline"


def test_container_failure_is_the_exit_status_and_is_logged(dirs):
    result = run("mobilenet", "--output", str(dirs / "out"), env=docker_env(dirs, FAKE_RUN_STATUS="3"))
    assert result.returncode == 3
    assert "exit status 3" in (dirs / "out" / "output.txt").read_text()


def test_failed_image_build_stops_before_the_run(dirs):
    result = run("gnmt", "--output", str(dirs / "out"), env=docker_env(dirs, FAKE_BUILD_STATUS="1"))
    assert result.returncode == 2
    assert "error: building docker/Dockerfile.cpu failed (see above)" in result.stdout
    assert [call[0] for call in calls(dirs)] == ["build"]


@pytest.mark.parametrize("name", sorted(benchmarks()))
def test_local_quick_run_end_to_end_on_sample_data(name, sample_data, model_dirs, tmp_path):
    """--local on the embedded samples with random weights: both phases run and the summary ends the log."""
    out = tmp_path / "out"
    env = {"DATA_DIR": str(sample_data[name]), "MODEL_DIR": str(model_dirs[name]),
           "MLPERF_REF_CACHE": str(tmp_path / "cache"), "DOCKER": str(tmp_path / "no-docker"),
           "MLPERF_PYTHON": sys.executable}
    # --count 1 keeps SSD-ResNet34 (seconds per 1200x1200 image on 2 cores) short; the plumbing is the same.
    result = run(name, "--local", "--scenario", "Offline", "--quick", "--count", "1", "--output", str(out), env=env,
                 timeout=300)
    bench = benchmarks()[name]
    results = json.loads((out / bench.info.default_backend / "Offline" / "results.json").read_text())
    assert results["benchmark"] == name and results["scenario"] == "Offline" and results["quick"] is True
    assert results["count"] == 1
    assert results["synthetic_data"] is True and results["random_weights"] is True
    assert {"accuracy", "performance"} <= results.keys()
    verdict = results["verdict"]
    assert verdict["loadgen_valid"] is True, result.stdout
    expected_status = 0  # an accuracy FAIL of random weights on synthetic data means nothing: exit 0
    assert result.returncode == expected_status, result.stdout + result.stderr
    log = (out / "output.txt").read_text()
    assert log == result.stdout
    assert f"results: {out / bench.info.default_backend / 'Offline' / 'results.json'}" in log
    assert re.search(rf"\ntotal wall time: \d+s \(\d\d:\d\d:\d\d\), exit status {expected_status}\n$", log)


def test_local_run_of_several_scenarios_ends_with_all_their_summaries(sample_data, tmp_path):
    """The null backend needs no model: two scenarios, each in its folder, then one summary per scenario."""
    out = tmp_path / "out"
    env = {"DATA_DIR": str(sample_data["resnet50"]), "MODEL_DIR": str(tmp_path), "MLPERF_PYTHON": sys.executable,
           "MLPERF_REF_CACHE": str(tmp_path / "cache")}
    result = run("resnet50", "--local", "--backend", "null", "--scenario", "SingleStream,Offline", "--quick",
                 "--count", "2", "--output", str(out), env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    for scenario in ("SingleStream", "Offline"):
        assert json.loads((out / "null" / scenario / "results.json").read_text())["scenario"] == scenario
    tail = result.stdout.split("=== summary of all scenarios ===\n", 1)[1]
    assert tail.index("| SingleStream\n") < tail.index("| Offline\n")
    assert f"results: {out / 'null' / 'Offline' / 'results.json'}" in tail


def test_local_run_without_the_model_file_names_the_download_script(sample_data, tmp_path):
    env = {"DATA_DIR": str(sample_data["resnet50"]), "MODEL_DIR": str(tmp_path), "MLPERF_PYTHON": sys.executable}
    result = run("resnet50", "--local", "--output", str(tmp_path / "out"), env=env)
    assert result.returncode == 2
    assert (f"error: model {tmp_path}/resnet50_v1.onnx not found: download it with the benchmark's "
            "download_model.sh into MODEL_DIR, or pass --model NAME") in result.stdout
