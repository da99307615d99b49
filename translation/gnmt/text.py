"""The GNMT text files as UTF-8: bad bytes are one error naming the file and the line, found when the
dataset is opened (and by verify_dataset.sh, which runs ``python -m translation.gnmt.text FILE...``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from common.errors import UsageError

CHUNK_BYTES = 1 << 24
ADVICE = "run verify_dataset.sh, and download_dataset.sh again to restore it"


def not_utf8(path: Path, data: bytes, error: UnicodeDecodeError, first_line: int = 1) -> UsageError:
    """The error for ``data`` (lines ``first_line``... of ``path``) that ``error`` found not to be UTF-8."""
    line = first_line + data.count(b"\n", 0, error.start)
    return UsageError(f"{path}: line {line} is not UTF-8 text (byte 0x{data[error.start]:02x}); {ADVICE}")


def read_text(path: Path) -> str:
    """The whole file as UTF-8 text, or a UsageError naming the line that is not."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise not_utf8(path, data, exc) from exc


def line_chunks(path: Path, chunk_bytes: int = CHUNK_BYTES) -> Iterator[tuple[int, int, bytes]]:
    """(byte offset, first line number, bytes) of ``path`` in chunks that end at a line end (the last one
    where the file does). A newline byte is never part of a multi-byte UTF-8 character, so each chunk
    decodes on its own."""
    offset, line, carry = 0, 1, b""
    with open(path, "rb") as handle:
        while True:
            read = handle.read(chunk_bytes)
            data = carry + read
            cut = data.rfind(b"\n") + 1 if read else len(data)
            if cut:
                yield offset, line, data[:cut]
                offset += cut
                line += data.count(b"\n", 0, cut)
            carry = data[cut:]
            if not read:
                return


def check_utf8(path: Path, chunk: bytes, first_line: int) -> None:
    """A UsageError naming the line of ``path`` when ``chunk`` (from ``line_chunks``) is not UTF-8."""
    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise not_utf8(path, chunk, exc, first_line) from exc


def check_file(path: Path) -> None:
    """A UsageError naming the first line of ``path`` that is not UTF-8 text."""
    for _, line, chunk in line_chunks(path):
        check_utf8(path, chunk, line)


def main(argv: Sequence[str] | None = None) -> int:
    """Check each file; one ``error:`` line per bad one, exit 1 if any."""
    bad = 0
    for name in sys.argv[1:] if argv is None else argv:
        try:
            check_file(Path(name))
        except (UsageError, OSError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
