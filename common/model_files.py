"""What a model file looks like, read from its bytes before an engine is given it.

An engine handed a zero-byte, truncated or foreign file fails with a message about protobuf parsing (or
crashes); :func:`check_onnx` says instead what the file is: empty, cut short, a TensorFlow GraphDef, a zip
or pickle (PyTorch), an archive, or bytes that are no protobuf at all. It reads only the file's top-level
protobuf fields (seeking over their contents), so it costs milliseconds for a model of any size.

The download scripts check every model file they fetch or unpack with these checks
(tools/download/check_models.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from common.errors import UsageError

# Leading bytes of the files a user may give instead of an ONNX model.
_MAGIC = (
    (b"PK\x03\x04", "a zip archive (a PyTorch .pt/.pytorch file or a zipped model?)"),
    (b"\x80\x02", "a Python pickle (a PyTorch .pytorch file?)"),
    (b"\x80\x03", "a Python pickle (a PyTorch .pytorch file?)"),
    (b"\x80\x04", "a Python pickle (a PyTorch .pytorch file?)"),
    (b"\x1f\x8b", "a gzip archive (unpack it first)"),
    (b"\x89HDF", "an HDF5 file (a Keras .h5 model?)"),
    (b"<?xml", "an XML file (an OpenVINO IR .xml?)"),
    (b"<!DOCTYPE", "an HTML page (an error page saved by a download?)"),
    (b"<html", "an HTML page (an error page saved by a download?)"),
    (b"version https://git-lfs", "a Git LFS pointer, not the model itself (run 'git lfs pull')"),
)
# ModelProto fields: 1 ir_version (varint), 7 graph, 8 opset_import (length-delimited), among others.
_IR_VERSION, _GRAPH, _OPSET_IMPORT = 1, 7, 8
# GraphDef fields: 1 node, 2 library, 3 version (deprecated), 4 versions, written in that order.
_GRAPHDEF_FIELDS, _VERSIONS = (1, 2, 3, 4), 4
_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5
_MAX_FIELD = (1 << 29) - 1


@dataclass(frozen=True)
class TopLevel:
    """The top-level fields of a protobuf message: (field number, wire type) in file order, or why not."""

    fields: list[tuple[int, int]]
    problem: str | None = None  # why the bytes are not a whole protobuf message
    first_number: int | None = None  # the value of the first field when it is a varint (ONNX: ir_version)

    def looks_like_onnx(self) -> bool:
        """Starts as an ONNX ModelProto does: ir_version, a small number, as field 1."""
        return bool(self.fields) and self.fields[0] == (_IR_VERSION, _VARINT) and 1 <= (self.first_number or 0) <= 64


def check_onnx(path: Path, option: str = "--model") -> None:
    """Raise a UsageError naming ``path`` and what it looks like unless it is a whole ONNX model."""
    why = onnx_problem(path)
    if why is None:
        return
    if "GraphDef" in why:
        raise UsageError(f"{option} {path}: {why}; use --backend tensorflow for a .pb file, or give the .onnx file")
    raise UsageError(f"{option} {path}: {why}; download it again (download_model.sh checks what it fetches) or "
                     "run 'mlperf-ref export-model'")


def onnx_problem(path: Path) -> str | None:
    """None for a whole ONNX model; else what the file looks like instead, with what to do."""
    size = path.stat().st_size
    if size == 0:
        return "the file is empty (0 bytes)"
    with open(path, "rb") as handle:
        head = handle.read(64)
        for magic, what in _MAGIC:
            if head.startswith(magic):
                return f"not an ONNX model: {what}"
        handle.seek(0)
        top = read_top_level(handle, size)
    numbers = [number for number, _ in top.fields]
    if _looks_like_graphdef(top):
        what = "a TensorFlow GraphDef (.pb)"
        if top.problem is not None:
            return f"not an ONNX model: it looks like {what}, and a truncated one ({top.problem})"
        return f"not an ONNX model: it looks like {what}"
    if top.problem is not None:
        if top.looks_like_onnx():
            return f"a truncated or corrupt ONNX model ({top.problem})"
        return f"not an ONNX model: the bytes are no protobuf message ({top.problem}); random or corrupt data?"
    if not top.looks_like_onnx() or _GRAPH not in numbers:
        return "not an ONNX model: a protobuf message without an ONNX graph and ir_version"
    if _OPSET_IMPORT not in numbers:
        return "a truncated ONNX model (its graph is there but the opset_import that follows it is not)"
    return None


def graphdef_problem(path: Path) -> str | None:
    """None for a whole frozen TensorFlow GraphDef (.pb); else what is wrong with it."""
    size = path.stat().st_size
    if size == 0:
        return "the file is empty (0 bytes)"
    with open(path, "rb") as handle:
        top = read_top_level(handle, size)
    if top.looks_like_onnx():
        return "not a TensorFlow GraphDef: it looks like an ONNX model"
    if not _looks_like_graphdef(top):
        return f"not a TensorFlow GraphDef ({top.problem or 'other protobuf fields'}); random or corrupt data?"
    if top.problem is not None:
        return f"a truncated TensorFlow GraphDef ({top.problem})"
    if (_VERSIONS, _LEN) not in top.fields:
        return "a truncated TensorFlow GraphDef (its nodes end without the versions record that follows them)"
    return None


def _looks_like_graphdef(top: TopLevel) -> bool:
    return bool(top.fields) and top.fields[0] == (1, _LEN) and all(n in _GRAPHDEF_FIELDS for n, _ in top.fields)


def read_top_level(handle: BinaryIO, size: int) -> TopLevel:
    """Walk the top-level fields of the protobuf message in ``handle`` (``size`` bytes), seeking over each
    field's contents; the walk stops at the first field that is malformed or runs past the end."""
    fields: list[tuple[int, int]] = []
    first: int | None = None
    position = 0
    while position < size:
        key, position = _varint(handle, position, size)
        if key is None:
            return TopLevel(fields, f"a field key cut off at byte {position} of {size}", first)
        number, wire = key >> 3, key & 7
        if number == 0 or number > _MAX_FIELD or wire not in (_VARINT, _I64, _LEN, _I32):
            return TopLevel(fields, f"no valid field at byte {position} of {size}", first)
        if wire == _VARINT:
            value, position = _varint(handle, position, size)
            if value is None:
                return TopLevel(fields, f"a number cut off at byte {position} of {size}", first)
            if not fields:
                first = value
        else:
            if wire == _LEN:
                length, position = _varint(handle, position, size)
                if length is None:
                    return TopLevel(fields, f"a length cut off at byte {position} of {size}", first)
            else:
                length = 8 if wire == _I64 else 4
            if position + length > size:
                return TopLevel(fields, f"the file has {size} bytes; its contents need at least {position + length}",
                                first)
            position += length
            handle.seek(position)
        fields.append((number, wire))
    return TopLevel(fields, None, first)


def _varint(handle: BinaryIO, position: int, size: int) -> tuple[int | None, int]:
    """A base-128 varint at ``position``: (value, next position), or (None, position) if cut off or too long."""
    value = shift = 0
    for _ in range(10):
        if position >= size:
            return None, position
        byte = handle.read(1)[0]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7
    return None, position


def model_sha256(path: Path | None) -> str | None:
    """The SHA-256 of a model: its file's bytes; for a TensorFlow checkpoint prefix (``model.ckpt`` beside
    ``model.ckpt.index``) or a folder, of each file's name and bytes in name order. None without a model."""
    if path is None:
        return None
    path = Path(path)
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
    else:
        files = sorted(p for p in path.parent.glob(f"{path.name}.*") if p.is_file())
    if not files:
        return None
    digest = hashlib.sha256()
    for file in files:
        if len(files) > 1:
            digest.update(file.name.encode() + b"\0")
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
