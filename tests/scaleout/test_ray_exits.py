"""--ray's exits: joining an address that answers gRPC but is no Ray head ends in one line within seconds
(ray.init would retry it without end); Ctrl-C while a local Ray instance starts, or a kill -9 of the driver
once it runs, leaves none of its processes running (the watchdog's sweep ends within 15 s of the driver's
exit). Loopback addresses only; every wait is bounded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from concurrent import futures
from pathlib import Path

import pytest

from common.samples import make_all_samples

pytest.importorskip("ray")
grpc = pytest.importorskip("grpc")

REPO = Path(__file__).resolve().parents[3]
DRIVER = "import sys; from tools.cli import entry; sys.argv[0] = 'mlperf-ref'; entry()"
# How long after the driver exits its Ray's processes may take to go: the watchdog's sweep (at least 3 s
# after a kill -9, 15 s at the most) and the time its last SIGKILL takes
LEFT_WITHIN_S = 20.0


def _command(tmp_path: Path, *ray: str) -> list[str]:
    """A run that lasts (Server, the v0.5 minimum of 60 s), on sample data, so that only the signal ends it."""
    data = make_all_samples(tmp_path / "samples", ["resnet50"])["resnet50"]
    return [sys.executable, "-c", DRIVER, "run", "resnet50", "--backend", "null", "--scenario", "Server",
            "--target-qps", "50", "--dataset-path", str(data), "--output", str(tmp_path / "out"), "--cache-dir",
            str(tmp_path / "cache"), *ray]


def test_a_grpc_server_that_is_no_ray_head_is_one_line_within_seconds(tmp_path: Path) -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))  # serves no service at all
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        started = time.monotonic()
        done = subprocess.run(_command(tmp_path, "--ray", f"127.0.0.1:{port}"), cwd=REPO, capture_output=True,
                              text=True, timeout=120)
        took = time.monotonic() - started
    finally:
        server.stop(0)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"error: --ray 127.0.0.1:{port}: a gRPC server listens there but it is not a Ray cluster's head (it answered "
        "Ray's cluster-id request with UNIMPLEMENTED within 5 s); start one with 'ray start --head' and give its "
        "HOST:PORT (6379 by default)"]
    assert took < 30  # ~5 s on an idle machine (imports included); before: no exit after 95 s


def _tagged(tag: str) -> list[tuple[int, str]]:
    """The processes whose environment carries ``tag`` (the driver's, inherited by every Ray process)."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if tag.encode() in environ.read_bytes():
                stat = (environ.parent / "stat").read_text()
                if stat[stat.rindex(")") + 2] != "Z":
                    found.append((int(environ.parent.name), (environ.parent / "cmdline").read_bytes()
                                  .replace(b"\0", b" ").decode(errors="replace")[:80]))
        except (OSError, ValueError):
            continue
    return found


def _describe(pid: int) -> str:
    """What a process left behind is: its state, parent, kernel wait channel and the Ray owner token it
    carries (for a failure's message)."""
    proc = Path(f"/proc/{pid}")
    try:
        fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        owner = [v for v in (proc / "environ").read_bytes().split(b"\0") if v.startswith(b"MLPERF_REF_RAY_OWNER=")]
        wchan = (proc / "wchan").read_text()
    except OSError as exc:
        return f"{pid}: gone ({exc})"
    return f"{pid}: state {fields[0]}, parent {fields[1]}, waits in {wchan}, owner {owner}"


def _watchdogs() -> list[str]:
    """The Ray watchdogs running (their command lines name the token they sweep)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "MLPERF_REF_RAY_OWNER=" in text and " -S -c " in text:
            found.append(f"{cmdline.parent.name}: {text.split('MLPERF_REF_RAY_OWNER=')[1][:40]}")
    return found


@pytest.mark.parametrize(("signum", "code", "line", "after"), [
    # Ctrl-C as Ray starts (its GCS or raylet up): the driver stops its Ray, then exits
    (signal.SIGINT, 130, "error: interrupted", ("raylet", "gcs_server")),
    # the driver killed once Ray runs, its replica actors started (Ray ends its GCS and raylet with the driver,
    # not the agents nor the actors): the driver's watchdog stops them
    (signal.SIGKILL, -signal.SIGKILL, None, ("ray::Replica",)),
])
def test_a_signal_while_ray_starts_leaves_nothing_running(signum: int, code: int, line: str | None,
                                                           after: tuple[str, ...], tmp_path: Path) -> None:
    tag = f"mlperf-ref-test-{uuid.uuid4().hex}"
    driver = subprocess.Popen(_command(tmp_path, "--ray"), cwd=REPO, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env={**os.environ, "MLPERF_REF_TEST_TAG": tag})
    try:
        deadline = time.monotonic() + 120
        while not any(name in cmd for _, cmd in _tagged(tag) for name in after):
            assert driver.poll() is None, driver.communicate()
            assert time.monotonic() < deadline, f"Ray never started: {_tagged(tag)}"
            time.sleep(0.05)
        driver.send_signal(signum)
        sent = time.monotonic()
        _, stderr = driver.communicate(timeout=60)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    assert time.monotonic() - sent < 30
    assert driver.returncode == code, stderr
    if line is not None:  # 'error: interrupted' while Ray starts, or its phase's line once the run is on
        assert stderr.splitlines()[-1].startswith(line) and "Traceback" not in stderr, stderr
    ended = time.monotonic()
    while _tagged(tag) and time.monotonic() - ended < LEFT_WITHIN_S:
        time.sleep(0.1)
    left = _tagged(tag)
    described = [_describe(pid) for pid, _ in left]
    for pid, _ in left:  # never leave them to the next test
        os.kill(pid, signal.SIGKILL)
    assert left == [], (described, _watchdogs(), stderr[-2000:])
