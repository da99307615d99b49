"""What a model file looks like, read from its bytes before an engine is given it.

An engine handed a zero-byte, truncated or foreign file fails with a message about protobuf parsing (or
crashes); :func:`check_onnx` says instead what the file is: empty, cut short, a TensorFlow GraphDef, a zip
or pickle (PyTorch), an archive, or bytes that are no protobuf at all. It reads only the file's top-level
protobuf fields (seeking over their contents), so it costs milliseconds for a model of any size.

``python -m common.model_files FILE...`` (the download scripts run it on every model file they fetch or
unpack) checks each file by its suffix (.onnx, .pb, .pytorch/.pt/.pth) and removes a bad one with its
checksum sidecars, so that a rerun downloads it again instead of trusting it. Exit 1 if any was bad.
"""

from __future__ import annotations

import collections
import hashlib
import pickle
import struct
import sys
import zipfile
from collections.abc import Sequence
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


def pytorch_problem(path: Path) -> str | None:
    """None for a file that can be a whole PyTorch save (a zip with its directory, or a legacy pickle)."""
    with open(path, "rb") as handle:
        head = handle.read(4)
    if not head:
        return "the file is empty (0 bytes)"
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(path):
                return None
        except zipfile.BadZipFile as exc:
            return f"a truncated or corrupt PyTorch zip ({exc})"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return _legacy_torch_problem(path)
    return "not a PyTorch file (neither a zip nor a pickle)"


# torch.save's legacy format (the v0.5 .pytorch files): five pickles (magic number, protocol, system info,
# the object with its storages as persistent ids, the storage keys), then each storage as an int64 element
# count and its bytes. The pickles are read with every class replaced by a stub: nothing is run.
_TORCH_MAGIC = 0x1950A86A20F9469CFC6C
_ELEMENT_BYTES = {"DoubleStorage": 8, "FloatStorage": 4, "HalfStorage": 2, "BFloat16Storage": 2, "LongStorage": 8,
                  "IntStorage": 4, "ShortStorage": 2, "CharStorage": 1, "ByteStorage": 1, "BoolStorage": 1}


class _StubType(type):
    """Calling a stub (a pickle's REDUCE) gives another stub type, which may serve as a class in turn."""

    def __call__(cls, *args: object, **kwargs: object) -> type:
        return _StubType(cls.__name__, (_Stub,), {})


class _Stub(metaclass=_StubType):
    """Stands for any class or function a pickle names; takes any arguments and state."""

    def __new__(cls, *args: object, **kwargs: object) -> _Stub:  # NEWOBJ
        return object.__new__(cls)

    @staticmethod
    def __setstate__(*state: object) -> None:  # BUILD, on a stub instance or a stub type
        pass


class _Scan(pickle.Unpickler):
    """Reads a legacy torch pickle without running it, noting each storage's element type by key."""

    def __init__(self, handle: BinaryIO) -> None:
        super().__init__(handle)
        self.storages: dict[str, str] = {}

    def find_class(self, module: str, name: str) -> type:
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        return _StubType(name, (_Stub,), {"__module__": module})

    def persistent_load(self, pid: object) -> object:
        if isinstance(pid, tuple) and len(pid) >= 3 and pid[0] == "storage":
            self.storages[str(pid[2])] = getattr(pid[1], "__name__", str(pid[1]))
        return _Stub


def _legacy_torch_problem(path: Path) -> str | None:
    """None when a legacy torch.save file holds all of its pickles and storages, and ends with the last."""
    size = path.stat().st_size
    try:
        with open(path, "rb") as handle:
            scan = _Scan(handle)
            if scan.load() != _TORCH_MAGIC:
                return "a pickle, but not a PyTorch save"
            scan.load(), scan.load(), scan.load()  # protocol, system info, the object (noting its storages)
            keys = scan.load()
            needed = handle.tell()
            for key in keys:
                count = struct.unpack("<q", handle.read(8))[0]
                needed += 8 + count * _ELEMENT_BYTES[scan.storages[key]]
                handle.seek(needed)
    except (pickle.UnpicklingError, EOFError, struct.error, KeyError, TypeError, ValueError, AttributeError,
            IndexError) as exc:
        return f"a truncated or corrupt PyTorch file (its pickles do not read back: {type(exc).__name__})"
    if needed != size:
        return f"a truncated or corrupt PyTorch file (the file has {size} bytes; its storages end at {needed})"
    return None


CHECKS = {".onnx": onnx_problem, ".pb": graphdef_problem, ".pytorch": pytorch_problem, ".pt": pytorch_problem,
          ".pth": pytorch_problem}


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


class BadModelFile(Exception):
    """A model file that is not whole or not of its suffix's kind (it has been removed); one line."""


def remove_bad_model(path: Path) -> None:
    """Check ``path`` by its suffix; a bad one is removed with its checksum sidecars and BadModelFile raised."""
    check = CHECKS.get(path.suffix)
    why = check(path) if check is not None and path.is_file() else None
    if why is None:
        return
    for stale in (path, path.with_name(f"{path.name}.md5"), path.with_name(f"{path.name}.sha256")):
        stale.unlink(missing_ok=True)
    raise BadModelFile(f"{path}: {why}; it was removed, run the download again")


def main(argv: Sequence[str] | None = None) -> int:
    """Check each model file by its suffix; remove a bad one (and its sidecars) with one line for it."""
    bad = 0
    for name in sys.argv[1:] if argv is None else argv:
        try:
            remove_bad_model(Path(name))
        except BadModelFile as exc:
            bad += 1
            print(f"error: {exc}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
