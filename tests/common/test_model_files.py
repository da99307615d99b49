"""Bad model files given to the ONNX backends: one line naming the file and what it looks like, exit 2, before
LoadGen starts and with nothing in the output folder but its lock. The verdicts are cross-checked against
the onnx library's own parser and checker."""

from __future__ import annotations

import io
import pickle
import random
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from common.errors import UsageError
from common.model_files import check_onnx, onnx_problem, read_top_level
from common.output_folder import LOCK_NAME

REPO = Path(__file__).resolve().parents[2]


def _tiny_onnx() -> bytes:
    """A whole ONNX model (a 256 KiB weight, so cuts land inside the graph), as onnx serializes it."""
    weight = numpy_helper.from_array(np.arange(256 * 256, dtype=np.float32).reshape(256, 256), "w")
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "tiny",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 256])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 256])], [weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    return model.SerializeToString()


def _key(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        out.append(value & 0x7F | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return bytes(out)


def _message(number: int, payload: bytes) -> bytes:
    return _key(number, 2) + _varint(len(payload)) + payload


def _graphdef() -> bytes:
    """A TensorFlow GraphDef written field by field (tensorflow/core/framework/graph.proto): two NodeDefs
    (1: name, 2: op) and a VersionDef (1: producer) in field 4, as a frozen .pb holds them."""
    nodes = b"".join(_message(1, _message(1, name) + _message(2, op))
                     for name, op in ((b"input_tensor", b"Placeholder"), (b"ArgMax", b"ArgMax")))
    return nodes + _message(4, _key(1, 0) + _varint(27))


ONNX = _tiny_onnx()


def _parses_as_onnx(data: bytes) -> bool:
    """The onnx library's verdict: the bytes parse as a ModelProto that its checker accepts."""
    try:
        onnx.checker.check_model(onnx.load_from_string(data))
    except Exception:  # noqa: BLE001 - DecodeError, ValidationError: any refusal counts
        return False
    return True


def test_a_whole_model_passes_and_onnx_agrees(tmp_path: Path) -> None:
    path = tmp_path / "tiny.onnx"
    path.write_bytes(ONNX)
    assert onnx_problem(path) is None and _parses_as_onnx(ONNX)
    assert [number for number, _ in read_top_level(io.BytesIO(ONNX), len(ONNX)).fields] == [1, 7, 8]


@pytest.mark.parametrize("fraction", [0.01, 0.5, 0.99])
def test_a_truncated_model_is_named_truncated_with_the_size_it_needs(tmp_path: Path, fraction: float) -> None:
    cut = ONNX[: int(len(ONNX) * fraction)]
    path = tmp_path / "cut.onnx"
    path.write_bytes(cut)
    why = onnx_problem(path)
    assert why is not None and why.startswith("a truncated or corrupt ONNX model (the file has "
                                              f"{len(cut)} bytes; its contents need at least ")
    needed = int(why.split("need at least ")[1].split(")")[0])
    assert len(cut) < needed <= len(ONNX)  # the graph's own length: the cut file promises more than it has
    assert not _parses_as_onnx(cut)


def test_a_model_cut_between_its_graph_and_its_opsets(tmp_path: Path) -> None:
    """A cut on a field boundary parses as protobuf, but the model has lost its opset_import."""
    fields = read_top_level(io.BytesIO(ONNX), len(ONNX)).fields
    assert fields[-1] == (8, 2)
    opset = onnx.load_from_string(ONNX).opset_import[0].SerializeToString()
    cut = ONNX[: len(ONNX) - len(_message(8, opset))]
    path = tmp_path / "cut.onnx"
    path.write_bytes(cut)
    assert onnx_problem(path).startswith("a truncated ONNX model (its graph is there but the opset_import")
    assert not _parses_as_onnx(cut)


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("empty", b"", "the file is empty (0 bytes)"),
    ("random", random.Random(5).randbytes(1 << 16), "not an ONNX model: the bytes are no protobuf message"),
    ("graphdef", _graphdef(), "not an ONNX model: it looks like a TensorFlow GraphDef (.pb); use --backend "
                              "tensorflow"),
    ("cut graphdef", _graphdef()[:-3], "not an ONNX model: it looks like a TensorFlow GraphDef (.pb), and a "
                                       "truncated one"),
    ("pickle", pickle.dumps({"state_dict": [1.0, 2.0]}, protocol=2), "not an ONNX model: a Python pickle"),
    ("zip", b"", "not an ONNX model: a zip archive"),
    ("html", b"<!DOCTYPE html><html><body>429 Too Many Requests</body></html>", "not an ONNX model: an HTML page"),
])
def test_what_a_foreign_file_looks_like(tmp_path: Path, name: str, data: bytes, expected: str) -> None:
    path = tmp_path / "model.onnx"
    if name == "zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("archive/data.pkl", b"x")
        data = path.read_bytes()
    path.write_bytes(data)
    with pytest.raises(UsageError) as refused:
        check_onnx(path)
    assert str(refused.value).startswith(f"--model {path}: {expected}")
    assert not _parses_as_onnx(data)


BAD_FILES = {"empty": (b"", "empty.onnx", "the file is empty (0 bytes)"),
             "random": (random.Random(7).randbytes(100_000), "random.onnx",
                        "not an ONNX model: the bytes are no protobuf message"),
             "truncated": (ONNX[: len(ONNX) // 2], "cut.onnx", "a truncated or corrupt ONNX model"),
             "pb": (_graphdef(), "resnet50_v1.pb", "not an ONNX model: it looks like a TensorFlow GraphDef")}


@pytest.mark.parametrize(("backend", "name"), [("onnxruntime", name) for name in BAD_FILES] + [
    ("openvino", "truncated")])  # OpenVINO reads frozen graphs itself; for .onnx files it uses the same check
def test_the_command_line_refuses_a_bad_file_in_one_line(tmp_path: Path, backend: str, name: str) -> None:
    """The real CLI, MobileNet on an empty dataset folder: the model check comes before any data is read."""
    data, file_name, expected = BAD_FILES[name]
    model, out = tmp_path / file_name, tmp_path / "out"
    model.write_bytes(data)
    (tmp_path / "data").mkdir()
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "tools.cli", "run", "mobilenet", "--backend", backend, "--model", str(model),
         "--dataset-path", str(tmp_path / "data"), "--output", str(out), "--quick"],
        capture_output=True, text=True, cwd=REPO, timeout=120)
    assert time.monotonic() - started < 60
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith(f"error: --model {model}: {expected}"), result.stderr
    assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]  # no LoadGen log, no results.json


def test_model_sha256_of_a_file_a_checkpoint_and_nothing(tmp_path: Path) -> None:
    """What results.json and audit.json record to match runs by: a file's sha256; a TensorFlow checkpoint
    prefix (GNMT's translate.ckpt) over its files' names and bytes; None without a model."""
    import hashlib

    from common.model_files import model_sha256

    single = tmp_path / "m.onnx"
    single.write_bytes(b"weights")
    assert model_sha256(single) == hashlib.sha256(b"weights").hexdigest()
    prefix = tmp_path / "ckpt" / "translate.ckpt"
    prefix.parent.mkdir()
    for suffix, data in ((".index", b"index"), (".data-00000-of-00001", b"tensors"), (".meta", b"graph")):
        Path(f"{prefix}{suffix}").write_bytes(data)
    expected = hashlib.sha256(b"translate.ckpt.data-00000-of-00001\0tensors" b"translate.ckpt.index\0index"
                              b"translate.ckpt.meta\0graph").hexdigest()
    assert model_sha256(prefix) == expected
    Path(f"{prefix}.index").write_bytes(b"other index")
    assert model_sha256(prefix) != expected
    assert model_sha256(None) is None and model_sha256(tmp_path / "absent.onnx") is None
