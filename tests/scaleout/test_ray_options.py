"""--ray's bad input: one line, exit 2, within seconds, before ray is imported (no Ray started here)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tools.cli import main

REPO = Path(__file__).resolve().parents[3]


def refused(args: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> str:
    code = main(["run", "resnet50", "--backend", "null", "--dataset-path", str(tmp_path), "--output",
                 str(tmp_path / "out"), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    return err[0]


@pytest.mark.parametrize(("args", "says"), [
    (["--ray", "--replicas", "0"], "error: argument --replicas: must be at least 1, not 0"),
    (["--ray", "--cpus-per-replica", "0"], "error: argument --cpus-per-replica: must be above 0, not 0"),
    (["--ray", "--cpus-per-replica", "nan"], "error: argument --cpus-per-replica: must be above 0, not nan"),
    (["--ray", "--gpus-per-replica", "-1"], "error: argument --gpus-per-replica: must be at least 0, not -1"),
    (["--ray", "--replica-restarts", "-1"], "error: argument --replica-restarts: must be at least 0, not -1"),
    (["--ray", "--backend", "onnxruntime", "--device", "cuda", "--gpus-per-replica", "0"],
     "error: --device cuda with --gpus-per-replica 0"),
    (["--replicas", "2"], "error: --replicas needs --ray"),
    (["--gpus-per-replica", "1"], "error: --gpus-per-replica needs --ray"),
    (["--ray", "headnode"], "error: --ray headnode: give HOST:PORT of the cluster's head"),
])
def test_bad_ray_options_are_one_line(args, says, capsys, tmp_path) -> None:
    assert refused(args, capsys, tmp_path).startswith(says)


def test_unreachable_address_is_refused_within_seconds_without_ray(tmp_path) -> None:
    """Nothing listens at port 1 of this machine: the connection check says so before ray loads."""
    script = ("import sys; from tools.cli import main; code = main(sys.argv[1:]); "
              "print('ray loaded' if 'ray' in sys.modules else 'ray not loaded'); sys.exit(code)")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script, "run", "resnet50", "--backend", "null", "--dataset-path",
                           str(tmp_path), "--output", str(tmp_path / "out"), "--ray", "127.0.0.1:1"],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert time.monotonic() - started < 30
    assert done.returncode == 2 and done.stdout.strip() == "ray not loaded"
    err = done.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --ray 127.0.0.1:1: cannot reach a Ray cluster there "
                                               "within 5 s (Connection refused); start one with 'ray start --head'")


def test_a_port_that_is_no_ray_head_is_refused_within_seconds(tmp_path, capsys) -> None:
    """Something listens but never speaks gRPC (ray.init would wait minutes for a GCS there)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        port = server.getsockname()[1]
        started = time.monotonic()
        message = refused(["--ray", f"127.0.0.1:{port}"], capsys, tmp_path)
        took = time.monotonic() - started
    assert 4 < took < 20  # the 5 s bound, then one line
    assert message.startswith(f"error: --ray 127.0.0.1:{port}: something listens there but it is not a Ray "
                              "cluster's head (no gRPC answer within 5 s)")
