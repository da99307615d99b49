"""``python -m tools.download.check_models FILE...``: the download scripts run it on every model file they
fetch or unpack. Each file is checked by its suffix (.onnx, .pb: common/model_files.py; .pytorch/.pt/.pth: here);
a bad one is removed with its checksum sidecars, so that a rerun downloads it again instead of trusting it.
Exit 1 if any was bad.
"""

from __future__ import annotations

import collections
import pickle
import struct
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from common.model_files import graphdef_problem, onnx_problem


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
