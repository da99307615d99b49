"""The error boundary, one table per class of bad input, run over every command that takes such an input:
a path below a file, a read-only and a full disk (real tmpfs mounts in a private mount namespace, where the
machine allows them), NaN, infinite and huge numbers (conf files and options), and JSON of the wrong shape
(results.json, audit.json, a system description).

Each case: one line on stderr naming the path, option or file and field, the documented exit code (2: refused
before the work), within seconds, no traceback, and no process of its own left running. A new command is
covered by adding its row to the tables below."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from synthetic_cli import private_tmpfs_works

from common.samples import make_all_samples
from scaleout.reaper import descendants
from tools.cli import main

ROOT = Path(__file__).resolve().parents[2]
SECONDS = 20  # a case's bound on a loaded 2-core machine (most take well under one)


@dataclass(frozen=True)
class Inputs:
    root: Path
    data: Path  # resnet50's sample data
    model: Path  # a file in the place of an fp32 model (calibrate refuses before reading it)
    run: Path  # a finished 'run --both' (null backend, quick)
    cache: Path
    desc: Path  # a system description with the fields the machine cannot tell


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Inputs:
    root = tmp_path_factory.mktemp("boundary")
    data = make_all_samples(root / "samples", ["resnet50"])["resnet50"]
    model = root / "fp32.onnx"
    model.write_bytes(bytes(4096))
    cache = root / "cache"
    run = root / "run"
    assert main(["run", "resnet50", "--backend", "null", "--scenario", "Offline", "--both", "--quick",
                 "--dataset-path", str(data), "--cache-dir", str(cache), "--output", str(run)]) in (0, 1)
    desc = root / "desc.json"
    desc.write_text(json.dumps({"status": "available", "host_storage_type": "SSD"}))  # a tmpfs /tmp tells none
    return Inputs(root, data, model, run, cache, desc)


def _run(i: Inputs, *extra: object) -> list[str]:
    return [str(a) for a in ("run", "resnet50", "--backend", "null", "--quick", "--dataset-path", i.data,
                             "--cache-dir", i.cache, *extra)]


def _audit(i: Inputs, test: str, *extra: object) -> list[str]:
    return [str(a) for a in ("audit", test, "resnet50", "--backend", "null", "--quick", "--dataset-path", i.data,
                             "--cache-dir", i.cache, *extra)]


def _submission(i: Inputs, *extra: object) -> list[str]:
    return [str(a) for a in ("submission", "--submitter", "org", "--system", "box", *extra)]


def _calibrate(i: Inputs, *extra: object) -> list[str]:
    return [str(a) for a in ("calibrate", "resnet50", "--model", i.model, "--dataset-path", i.data,
                             "--backend", "onnxruntime", "--cache-dir", i.cache, *extra)]


# Every command that writes a folder or file the user names: (the command, the path it is given, (inputs,
# path) -> argv). The path is a folder below the place under test; a file path is a name inside it.
WRITTEN: dict[str, tuple[str, Callable[[Inputs, Path], list[str]]]] = {
    "run --output": ("{p}", lambda i, p: _run(i, "--output", p)),
    "run --cache-dir": ("{p}", lambda i, p: _run(i, "--output", i.root / "out-cache", "--cache-dir", p)),
    "run --find-peak-qps --output": ("{p}", lambda i, p: _run(i, "--scenario", "Server", "--find-peak-qps",
                                                              "--output", p)),
    "run --find-samples-per-query --output": ("{p}", lambda i, p: _run(i, "--scenario", "MultiStream",
                                                                       "--find-samples-per-query", "--output", p)),
    "audit --output": ("{p}", lambda i, p: _audit(i, "TEST04-A", "--output", p)),
    "calibrate --output": ("{p}/int8.onnx", lambda i, p: _calibrate(i, "--output", p / "int8.onnx")),
    "calibrate --cache-dir": ("{p}", lambda i, p: _calibrate(i, "--output", i.root / "int8.onnx", "--cache-dir", p)),
    "make-samples --output": ("{p}", lambda i, p: ["make-samples", "--output", str(p)]),
    "export-model --output": ("{p}/model.onnx", lambda i, p: ["export-model", "mobilenet", "--output",
                                                              str(p / "model.onnx")]),
    "submission --output": ("{p}", lambda i, p: _submission(i, "--runs", i.run, "--output", p)),
    "quickstart --output": ("{p}", lambda i, p: ["quickstart", "--output", str(p), "--only", "resnet50"]),
}


def _option(row: str) -> str:
    return row.split()[-1]


def _call(argv: list[str], capsys) -> tuple[int, str, float]:
    """main(argv) in this process: its exit code, stderr and seconds; no process of its own left behind."""
    before = descendants()
    started = time.monotonic()
    code = main(argv)  # an exception (a traceback) fails the test here
    seconds = time.monotonic() - started
    assert descendants() - before == set()
    return code, capsys.readouterr().err, seconds


def _one_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


# ---- class 1: a path below a file ---------------------------------------------------------------------------

@pytest.mark.parametrize("row", list(WRITTEN))
def test_a_path_below_a_file(row: str, inputs: Inputs, tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    shown, argv = WRITTEN[row]
    path = blocker / "below"
    code, err, seconds = _call(argv(inputs, path), capsys)
    line = _one_line(err)
    assert code == 2 and seconds < SECONDS
    assert line == (f"error: {_option(row)} {shown.format(p=path)}: {blocker} is a file; give a folder (or remove "
                    "the file)")


@pytest.mark.parametrize("row", ["calibrate --output"])
def test_a_folder_where_a_file_is_written(row: str, inputs: Inputs, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "int8.onnx"
    folder.mkdir()
    code, err, _ = _call(_calibrate(inputs, "--output", folder), capsys)
    assert code == 2 and _one_line(err) == f"error: --output {folder}: a folder is there; name the file to write"


# ---- class 2: read-only and full disks (real tmpfs mounts) -------------------------------------------------

REAL_FS = pytest.mark.skipif(not private_tmpfs_works(), reason="a private tmpfs needs root and unshare -m; the "
                                                               "path-below-a-file table covers the same checks")
FULL_MID_RUN = {"export-model --output"}  # its size is known once the model is built: the write fails, exit 1


@pytest.fixture(scope="module")
def on_mounts(inputs: Inputs, tmp_path_factory) -> dict[str, dict]:
    """Every WRITTEN row on a read-only tmpfs and on a full one, in one process of its own (a private mount
    namespace: the mounts vanish with it): {"ro <row>" | "full <row>": {code, err, seconds, path, left}}."""
    base = tmp_path_factory.mktemp("mounts")
    ro, full = base / "ro", base / "full"
    ro.mkdir()
    full.mkdir()
    cases = {f"{kind} {row}": (str(mount / f"row{n}"), argv(inputs, mount / f"row{n}"))
             for kind, mount in (("ro", ro), ("full", full)) for n, (row, (_, argv)) in enumerate(WRITTEN.items())}
    report = base / "report.json"
    script = textwrap.dedent(f"""
        import contextlib, io, json, sys, time, traceback
        from tools.cli import main
        from scaleout.reaper import descendants
        found = {{}}
        for name, (path, argv) in {cases!r}.items():
            err, started, before = io.StringIO(), time.monotonic(), descendants()
            try:
                with contextlib.redirect_stderr(err):
                    code = main(argv)
            except BaseException:
                code, err = None, io.StringIO(traceback.format_exc())
            found[name] = {{"code": code, "err": err.getvalue(), "seconds": time.monotonic() - started,
                           "path": path, "left": sorted(descendants() - before)}}
        open({str(report)!r}, "w").write(json.dumps(found))
    """)
    shell = (f"mount -t tmpfs -o size=1m tmpfs {ro} && mount -o remount,ro {ro} && "
             f"mount -t tmpfs -o size=1m tmpfs {full} && {{ head -c 2M /dev/zero > {full}/filler 2>/dev/null; "
             f"exec {sys.executable} -c \"$0\"; }}")
    done = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", shell, script],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(report.read_text())


@REAL_FS
@pytest.mark.parametrize("row", list(WRITTEN))
def test_a_read_only_disk(row: str, on_mounts: dict[str, dict]) -> None:
    case = on_mounts[f"ro {row}"]
    line = _one_line(case["err"])
    assert case["code"] == 2 and case["seconds"] < SECONDS and case["left"] == []
    shown = WRITTEN[row][0].format(p=case["path"])
    assert line == (f"error: {_option(row)} {shown}: cannot write there (Read-only file system): the file system "
                    "is read-only; choose a folder on a writable disk")


@REAL_FS
@pytest.mark.parametrize("row", list(WRITTEN))
def test_a_full_disk(row: str, on_mounts: dict[str, dict]) -> None:
    case = on_mounts[f"full {row}"]
    line = _one_line(case["err"])
    assert case["seconds"] < SECONDS * 3 and case["left"] == []
    shown = WRITTEN[row][0].format(p=case["path"])
    if row in FULL_MID_RUN:  # the atomic write found the disk full: nothing half-written is left
        assert case["code"] == 1
        assert line.startswith(f"error: {shown}: No space left on device: the disk is full; ")
        assert list(Path(case["path"]).parent.glob("**/*.onnx*")) == []
        return
    assert case["code"] == 2
    assert line.startswith(f"error: {_option(row)} {shown}: ")
    assert "free, less than the" in line or "No space left on device" in line, line


# ---- class 3: NaN, infinite and huge numbers ---------------------------------------------------------------

# the commands that read a user conf: inputs, conf path -> argv
CONF_READERS: dict[str, Callable[[Inputs, Path], list[str]]] = {
    "run": lambda i, c: _run(i, "--user-conf", c, "--output", i.root / "out-conf"),
    "run --find-peak-qps": lambda i, c: _run(i, "--scenario", "Server", "--find-peak-qps", "--user-conf", c,
                                             "--output", i.root / "out-conf-search"),
    "audit": lambda i, c: _audit(i, "TEST04-A", "--user-conf", c, "--output", i.root / "out-conf-audit"),
    "submission --benchmarks": lambda i, c: _submission(
        i, "--benchmarks", "resnet50", "--scenarios", "Offline", "--backend", "null", "--quick", "--dataset-path",
        i.data, "--system-desc", i.desc, "--user-conf", c, "--cache-dir", i.cache, "--output", i.root / "tree-conf"),
}
CONF_VALUES = {"nan": "not a finite number", "inf": "not a finite number", "-inf": "not a finite number",
               "1e30": "beyond LoadGen's range (at most 9.22337e+12)"}


@pytest.mark.parametrize("value", list(CONF_VALUES))
@pytest.mark.parametrize("command", list(CONF_READERS))
def test_a_conf_number_out_of_range(command: str, value: str, inputs: Inputs, tmp_path: Path, capsys) -> None:
    conf = tmp_path / "user.conf"
    conf.write_text(f"*.*.min_duration = {value}\n")
    code, err, seconds = _call(CONF_READERS[command](inputs, conf), capsys)
    line = _one_line(err)
    assert code == 2 and seconds < SECONDS
    assert line.startswith(f"error: --user-conf {conf}: min_duration = ") and CONF_VALUES[value] in line


# options with numbers: (argv builder, the line's start)
OPTIONS: dict[str, tuple[Callable[[Inputs], list[str]], str]] = {
    "run --ray --cpus-per-replica nan": (lambda i: _run(i, "--ray", "--cpus-per-replica", "nan"),
                                         "error: argument --cpus-per-replica: must be above 0, not nan"),
    "run --ray --gpus-per-replica nan": (lambda i: _run(i, "--ray", "--gpus-per-replica", "nan"),
                                         "error: argument --gpus-per-replica: must be at least 0, not nan"),
    "run --target-qps inf": (lambda i: _run(i, "--target-qps", "inf"),
                             "error: argument --target-qps: must be above 0, not inf"),
    "run --target-qps 1e400": (lambda i: _run(i, "--target-qps", "1e400"),
                               "error: argument --target-qps: must be above 0, not 1e400"),
    "run --scenario Server --target-qps 1e300": (
        lambda i: _run(i, "--scenario", "Server", "--target-qps", "1e300", "--output", i.root / "o-qps"),
        "error: --target-qps: target_qps = 1e+300: beyond LoadGen's range (at most 9.22337e+18)"),
    "run --scenario Server --target-qps 0.000001": (
        lambda i: _run(i, "--scenario", "Server", "--target-qps", "0.000001", "--output", i.root / "o-slow"),
        "error: --target-qps 1e-06: LoadGen's first query would come after 11.6 days on average, beyond the run's "
        "max_duration of 1 min; give the target in queries per second (at least 0.0167)"),
    "run --count 2**70": (lambda i: _run(i, "--count", str(2**70)),
                          f"error: argument --count: must be at most {2**63 - 1}, not {2**70}"),
    "run --find-peak-qps --trial-seconds nan": (
        lambda i: _run(i, "--scenario", "Server", "--find-peak-qps", "--trial-seconds", "nan"),
        "error: argument --trial-seconds: must be above 0, not nan"),
    "audit --target-qps nan": (lambda i: _audit(i, "TEST04-A", "--target-qps", "nan"),
                               "error: argument --target-qps: must be above 0, not nan"),
    "submission --target-qps nan": (lambda i: _submission(i, "--runs", i.run, "--output", i.root / "t",
                                                          "--target-qps", "nan"),
                                    "error: argument --target-qps: must be above 0, not nan"),
    "submission --samples-per-query 2**70": (
        lambda i: _submission(i, "--runs", i.run, "--output", i.root / "t", "--samples-per-query", str(2**70)),
        f"error: argument --samples-per-query: must be at most {2**63 - 1}, not {2**70}"),
}


@pytest.mark.parametrize("row", list(OPTIONS))
def test_an_option_number_out_of_range(row: str, inputs: Inputs, capsys) -> None:
    argv, start = OPTIONS[row]
    code, err, seconds = _call(argv(inputs), capsys)
    assert code == 2 and seconds < SECONDS and _one_line(err).startswith(start)


# ---- class 4: JSON of the wrong shape -----------------------------------------------------------------------

def _results_of(inputs: Inputs) -> dict:
    return json.loads((inputs.run / "results.json").read_text())


# the file, its bad content (from the inputs), and the field the line names
BAD_FILES: dict[str, tuple[str, Callable[[Inputs], object], str]] = {
    "results.json: a list": ("results.json", lambda i: [_results_of(i)], "the file holds a list, expected an object"),
    "results.json: a field of the wrong type": (
        "results.json", lambda i: {**_results_of(i), "performance": {**_results_of(i)["performance"], "loadgen": {
            **_results_of(i)["performance"]["loadgen"], "valid": "yes"}}},
        "'performance.loadgen.valid' is a string, expected true/false or null"),
    "results.json: a missing field": ("results.json", lambda i: {k: v for k, v in _results_of(i).items()
                                                                 if k != "scenario"}, "'scenario' is missing"),
    "audit.json: a list": ("audit.json", lambda i: [{"test": "TEST04-A"}], "the file holds a list, expected an object"),
    "audit.json: a field of the wrong type": ("audit.json", lambda i: {"test": ["TEST04-A"], "benchmark": "resnet50",
                                                                       "scenario": "SingleStream", "passed": True},
                                              "'test' is a list, expected a string"),
}
# the commands that read such a file from a folder: (the file they read, (inputs, folder) -> argv)
READERS: dict[str, tuple[str, Callable[[Inputs, Path], list[str]]]] = {
    "audit TEST05 --reference": ("results.json", lambda i, f: _audit(i, "TEST05", "--reference", f, "--output",
                                                                      i.root / "out-ref")),
    "audit TEST04-B --reference": ("audit.json", lambda i, f: _audit(i, "TEST04-B", "--reference", f, "--output",
                                                                      i.root / "out-ref-b")),
    "submission --runs": ("results.json", lambda i, f: _submission(i, "--runs", f, "--output", i.root / "t-runs")),
    "submission --audits": ("audit.json", lambda i, f: _submission(i, "--runs", i.run, "--audits", f, "--output",
                                                                    i.root / "t-audits")),
}
JSON_CASES = [(reader, bad) for reader, (name, _) in READERS.items() for bad in BAD_FILES if bad.startswith(name)]


@pytest.mark.parametrize(("reader", "bad"), JSON_CASES)
def test_json_of_the_wrong_shape(reader: str, bad: str, inputs: Inputs, tmp_path: Path, capsys) -> None:
    name, content, problem = BAD_FILES[bad]
    folder = tmp_path / "given"
    if name == "results.json":  # a copy of the finished run, its results.json replaced
        shutil.copytree(inputs.run, folder, ignore=shutil.ignore_patterns(".mlperf-ref.lock"))
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(json.dumps(content(inputs)))
    code, err, seconds = _call(READERS[reader][1](inputs, folder), capsys)
    line = _one_line(err)
    assert code == 2 and seconds < SECONDS
    assert line.startswith(f"error: {reader.split()[-1]} {folder / name}: {problem}; give "), line


@pytest.mark.parametrize(("desc", "problem"), [
    ([{"status": "available"}], "expected a JSON object of system fields"),
    ({"status": "available", "number_of_nodes": [1, 2]}, "'number_of_nodes' is a list, expected a string or an "
                                                         "integer or a number; write each field as a JSON string"),
    ({"status": True}, "'status' is true/false, expected a string or an integer or a number"),
])
def test_a_system_description_of_the_wrong_shape_is_refused_not_written(desc, problem, inputs: Inputs,
                                                                          tmp_path: Path, capsys) -> None:
    path = tmp_path / "desc.json"
    path.write_text(json.dumps(desc))
    tree = tmp_path / "tree"
    code, err, _ = _call(_submission(inputs, "--runs", inputs.run, "--system-desc", path, "--output", tree), capsys)
    assert code == 2 and _one_line(err).startswith(f"error: --system-desc {path}: {problem}")
    assert not tree.exists()


def test_the_check_names_a_system_field_of_the_wrong_type(inputs: Inputs, tmp_path: Path, capsys) -> None:
    tree = tmp_path / "tree"
    assert main(_submission(inputs, "--runs", inputs.run, "--system-desc", inputs.desc, "--output", tree)) == 0
    system = tree / "closed" / "org" / "systems" / "box.json"
    system.write_text(json.dumps({**json.loads(system.read_text()), "number_of_nodes": [1]}))
    capsys.readouterr()
    assert main(["check", str(tree)]) == 1
    assert "'number_of_nodes' is a list, expected a string or an integer or a number" in capsys.readouterr().out
