"""download_model.sh against a fault-injecting 127.0.0.1 mirror: a mirror serving a short copy under a short
length, a close mid-transfer with no length, wrong bytes, and a half file left by another tool. Each ends
in one line that says what is wrong (then the script's own line naming the download that failed), exit 1,
and no model file (nor sidecar) that a rerun would trust; the rerun against a good mirror then writes the
right bytes."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import pytest


def _stand_ins():
    """test_model_scripts.py's mirror layout and stand-in files (one table for both modules)."""
    name = "tests_scripts_test_model_scripts"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("test_model_scripts.py"))
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


SCRIPTS, _env, _serve = _stand_ins().SCRIPTS, _stand_ins()._env, _stand_ins()._serve
RESNET50, MOBILENET = SCRIPTS["resnet50"], SCRIPTS["mobilenet"]
MOBILENET_ONNX = "record/3157894/files/mobilenet_v1_1.0_224.onnx"


def _run(run_script, spec, server, out: Path):
    started = time.monotonic()
    result = run_script(spec.script, "-o", str(out), env=_env(server, spec))
    assert time.monotonic() - started < 60
    assert "Traceback" not in result.stderr
    return result


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


def _rerun_is_whole(run_script, spec, server, out: Path) -> None:
    server.reset()
    result = _run(run_script, spec, server, out)
    assert result.returncode == 0, result.stderr
    for file, data in spec.written.items():
        assert (out / file).read_bytes() == data, file


@pytest.mark.parametrize(("name", "first_error"), [
    ("resnet50", "resnet50_v1.onnx: md5 mismatch (expected "),  # its md5 is pinned
    # no published sum: the model check sees the graph field (2 + 4 + 300000 bytes) run past the half file
    ("mobilenet", "mobilenet_v1_1.0_224.onnx: a truncated or corrupt ONNX model (the file has 150005 bytes; its "
                  "contents need at least 300006); it was removed, run the download again"),
    ("ssd-mobilenet", "ssd_mobilenet_v1_coco_2018_01_28.onnx: a truncated or corrupt ONNX model"),
])
def test_a_mirror_serving_half_of_each_file_under_a_short_length(run_script, server, www, tmp_path, name,
                                                                 first_error):
    spec = SCRIPTS[name]
    _serve(www, spec)
    server.mode = "short_length"  # Content-Length and body both half: nothing at the transport level is wrong
    out = tmp_path / "models"
    result = _run(run_script, spec, server, out)
    assert result.returncode == 1
    assert _errors(result.stderr)[0].startswith(f"error: {out}/{first_error}"), result.stderr
    assert sorted(p.name for p in out.iterdir()) == []  # no model, no .part, no sidecar
    _rerun_is_whole(run_script, spec, server, out)


def test_a_cut_pytorch_zip_is_removed(run_script, server, www, tmp_path):
    spec = SCRIPTS["ssd-mobilenet"]
    _serve(www, spec)
    out = tmp_path / "models"
    assert _run(run_script, spec, server, out).returncode == 0
    for stale in ("ssd_mobilenet_v1.pytorch", "ssd_mobilenet_v1.pytorch.sha256"):
        (out / stale).unlink()
    server.reset()
    server.mode = "short_length"
    result = _run(run_script, spec, server, out)
    assert result.returncode == 1
    assert _errors(result.stderr) == [f"error: {out}/ssd_mobilenet_v1.pytorch: a truncated or corrupt PyTorch zip "
                                      "(File is not a zip file); it was removed, run the download again",
                                      "error: download of ssd_mobilenet_v1.pytorch failed (the line above says why)"]
    assert not list(out.glob("ssd_mobilenet_v1.pytorch*"))
    _rerun_is_whole(run_script, spec, server, out)


def test_a_close_mid_transfer_without_a_length_is_refused(run_script, server, www, tmp_path):
    _serve(www, MOBILENET)
    server.mode, server.cut_after = "no_length", 100_000
    out = tmp_path / "models"
    result = _run(run_script, MOBILENET, server, out)
    assert result.returncode == 1
    assert _errors(result.stderr)[0] == (
        f"error: {server.url(MOBILENET_ONNX)}: the server sends no length and no --size or checksum is known, so a "
        "cut transfer could not be told from a whole file; pass --size or a checksum")
    assert sorted(p.name for p in out.iterdir()) == []
    _rerun_is_whole(run_script, MOBILENET, server, out)


@pytest.mark.parametrize(("spec", "served", "wrong", "first_error"), [
    (RESNET50, "record/2592612/files/resnet50_v1.onnx", b"\x08\x07" + b"y" * 299_998, "resnet50_v1.onnx: md5 mismatch"),
    (MOBILENET, MOBILENET_ONNX, b"<!DOCTYPE html><html>rate limited</html>",
     "mobilenet_v1_1.0_224.onnx: not an ONNX model: an HTML page (an error page saved by a download?); it was "
     "removed, run the download again"),
])
def test_wrong_bytes_are_removed(run_script, server, www, tmp_path, spec, served, wrong, first_error):
    _serve(www, spec)
    (www / served).write_bytes(wrong)
    out = tmp_path / "models"
    result = _run(run_script, spec, server, out)
    assert result.returncode == 1
    assert _errors(result.stderr)[0].startswith(f"error: {out}/{first_error}"), result.stderr
    assert sorted(p.name for p in out.iterdir()) == []
    _serve(www, spec)
    _rerun_is_whole(run_script, spec, server, out)


def test_a_half_file_left_by_another_tool_is_not_trusted(run_script, server, www, tmp_path):
    """An older script's plain wget left half the file under its final name, with no record of completion."""
    _serve(www, MOBILENET)
    out = tmp_path / "models"
    out.mkdir()
    whole = MOBILENET.written["mobilenet_v1_1.0_224.onnx"]
    (out / "mobilenet_v1_1.0_224.onnx").write_bytes(whole[: len(whole) // 2])
    result = _run(run_script, MOBILENET, server, out)
    assert result.returncode == 0, result.stderr
    assert (f"{out}/mobilenet_v1_1.0_224.onnx: no record that its download completed; downloading it again"
            in result.stderr)
    assert (out / "mobilenet_v1_1.0_224.onnx").read_bytes() == whole
