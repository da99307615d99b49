"""A full disk: refused before the run (and before each phase) with the folder, the free and the needed
bytes, exit 2; a disk that fills mid-run is one line naming where, exit 1, and no results.json.

Two kinds of test. Always: os.statvfs reporting little room (the checks' arithmetic and wording), and an
OSError(ENOSPC) raised by the atomic write layer for results.json or accuracy.txt (what our own writes do on
a full disk). Where a private mount namespace is allowed (root, as on the project's machines): a real tmpfs
of a few MiB, too small to start in, or filled up by another writer in the middle of the accuracy phase, so
that LoadGen's own log writes fail too, as they would on a real disk."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from synthetic_cli import cli_script

from common import atomic
from common.disk_space import ACCURACY_ENTRY_BYTES, LOG_FLOOR_BYTES
from common.output_folder import LOCK_NAME
from tools.cli import main

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
QUICK = 24  # the synthetic benchmark's quick count
PAYLOAD = 4  # its payload: one float32


def _statvfs_with(monkeypatch: pytest.MonkeyPatch, free: int) -> None:
    """The real statvfs of the folder, with ``free`` bytes available (in blocks of one byte)."""
    real = os.statvfs

    def small(path):
        found = real(path)
        return os.statvfs_result((1, 1, found.f_blocks, free, free, *found[5:]))

    monkeypatch.setattr(os, "statvfs", small)


def _run(out: Path, data: Path, mode: str = "--accuracy") -> int:
    return main(["run", "resnet50", "--backend", "null", "--scenario", "Offline", mode, "--quick",
                 "--dataset-path", str(data), "--output", str(out)])


def test_too_little_room_for_the_logs_is_refused_before_the_model_loads(synthetic, tmp_path, monkeypatch, capsys):
    import common.runner as runner

    monkeypatch.setattr(runner, "open_session", lambda cfg: pytest.fail("the model loaded"))
    _statvfs_with(monkeypatch, 3 << 20)
    out = tmp_path / "out"
    assert _run(out, tmp_path) == 2
    assert capsys.readouterr().err == (
        f"error: --output {out}: 3.0 MiB (3,145,728 bytes) free, less than the 16.0 MiB (16,777,216 bytes) a run's "
        "logs and results will write; free some space there or choose another folder\n")
    assert sorted(p.name for p in out.iterdir()) == []


def test_an_accuracy_phase_that_would_not_fit_is_refused_before_loadgen(synthetic, tmp_path, monkeypatch, capsys):
    needed = LOG_FLOOR_BYTES + QUICK * (2 * PAYLOAD + ACCURACY_ENTRY_BYTES)  # 16 MiB + 24 x 72 bytes
    assert needed == 16_778_944
    _statvfs_with(monkeypatch, LOG_FLOOR_BYTES + 1024)  # room for the floor, not for the accuracy log
    out = tmp_path / "out"
    assert _run(out, tmp_path) == 2
    assert capsys.readouterr().err == (
        f"error: --output {out}: 16.0 MiB (16,778,240 bytes) free, less than the 16.0 MiB (16,778,944 bytes) the "
        f"accuracy phase ({QUICK} samples of {PAYLOAD} bytes) will write; free some space there or choose another "
        "folder\n")
    assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]  # LoadGen never started: no accuracy/ folder


@pytest.mark.parametrize(("name", "mode"), [("results.json", "--accuracy"), ("accuracy.txt", "--accuracy"),
                                            ("results.json", "--performance")])
def test_a_full_disk_met_by_our_own_writes_is_one_line(synthetic, tmp_path, monkeypatch, capsys, name, mode):
    real_open = atomic.atomic_open

    def full(path, *args, **kwargs):
        if Path(path).name == name:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(atomic, "atomic_open", full)
    out = tmp_path / "out"
    (out / "accuracy").mkdir(parents=True)
    (out / "results.json").write_text('{"an": "earlier run"}\n')  # never to be read as this run's
    started = time.monotonic()
    assert _run(out, tmp_path, mode) == 1
    assert time.monotonic() - started < 30
    written = out / "accuracy" / name if name == "accuracy.txt" else out / name
    assert capsys.readouterr().err == (f"error: {written}: the disk is full (No space left on device) while writing; "
                                       "the run stopped and wrote no results.json, free some space and run again\n")
    assert not (out / "results.json").exists()


def _private_tmpfs_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                            "mount -t tmpfs -o size=1m tmpfs /mnt"], capture_output=True, timeout=30)
    return probe.returncode == 0


REAL_FS = pytest.mark.skipif(not _private_tmpfs_works(), reason="mounting a private tmpfs needs root (unshare -m); "
                                                                "the injected tests above cover the same paths")


def _run_on_tmpfs(tmp_path: Path, size: str, fill_at_batch: int) -> tuple[subprocess.CompletedProcess, Path]:
    """The CLI on the synthetic benchmark with its output on a fresh tmpfs of ``size``; at the given batch
    of the accuracy phase another writer fills the tmpfs (0: never)."""
    fs = tmp_path / "fs"
    fs.mkdir()
    script = cli_script(f"""
        batches = 0
        def predict(self, feeds):
            Backend.batches += 1
            if Backend.batches == {fill_at_batch} + 3:  # after the three warm-up batches
                try:
                    with open({str(fs / "filler")!r}, "wb") as filler:
                        while True:
                            filler.write(bytes(1 << 16))
                except OSError:
                    pass
            return super().predict(feeds)
    """, ["run", "resnet50", "--backend", "onnxruntime", "--scenario", "Offline", "--accuracy", "--quick",
          "--dataset-path", str(tmp_path), "--output", str(fs / "out")])
    # the tmpfs lives in the child's mount namespace: what the run left there is listed before it goes
    shell = (f"mount -t tmpfs -o size={size} tmpfs {fs} && {{ {sys.executable} -c \"$0\"; rc=$?; "
             f"ls -A {fs / 'out'} {fs / 'out' / 'accuracy'} 2>&1; exit $rc; }}")
    result = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", shell, script],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    return result, fs


@REAL_FS
def test_a_real_small_disk_is_refused_at_the_start(tmp_path):
    result, fs = _run_on_tmpfs(tmp_path, "4m", fill_at_batch=0)
    assert result.returncode == 2, result.stderr
    assert result.stderr == (f"error: --output {fs / 'out'}: 4.0 MiB (4,194,304 bytes) free, less than the 16.0 MiB "
                             "(16,777,216 bytes) a run's logs and results will write; free some space there or "
                             "choose another folder\n")


@REAL_FS
def test_a_real_disk_filling_up_during_the_accuracy_phase(tmp_path):
    started = time.monotonic()
    result, fs = _run_on_tmpfs(tmp_path, "20m", fill_at_batch=2)
    assert time.monotonic() - started < 60
    assert result.returncode == 1, result.stderr
    assert result.stderr == (f"error: --output {fs / 'out'}: the disk filled up during the accuracy phase (0 bytes "
                             f"free now); LoadGen's logs in {fs / 'out' / 'accuracy'} are incomplete and no "
                             "results.json was written, free some space and run again\n")
    listed = result.stdout.split()
    assert "results.json" not in listed and "mlperf_log_accuracy.json" in listed


@REAL_FS
def test_a_real_cache_disk_filling_up_while_samples_load(tmp_path):
    """The preprocessing cache on its own small disk: each loaded sample writes 32 KiB there (atomically, as
    the cache does), until the disk is full; the line names the entry that did not fit."""
    cache = tmp_path / "cache"
    cache.mkdir()
    script = cli_script("", ["run", "resnet50", "--backend", "null", "--scenario", "Offline", "--accuracy",
                             "--quick", "--dataset-path", str(tmp_path), "--output", str(tmp_path / "out")],
                        setup=f"""
        from pathlib import Path
        from common.atomic import atomic_write_bytes
        from synthetic_benchmark import VectorDataset
        class Cached(VectorDataset):
            def load(self, indices):
                for i in indices:
                    atomic_write_bytes(Path({str(cache)!r}) / f"{{i}}.npy", bytes(32 << 10))
                return super().load(indices)
        SyntheticBenchmark.open_dataset = lambda self, path, options: Cached(24)
    """)
    shell = f"mount -t tmpfs -o size=128k tmpfs {cache} && exec {sys.executable} -c \"$0\""
    result = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", shell, script],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {cache}/"), result.stderr
    assert lines[0].endswith(".npy: the disk is full (No space left on device) while loading samples; the run stopped "
                             "and wrote no results.json, free some space and run again")
    assert not (tmp_path / "out" / "results.json").exists()
