"""Resumable, verified downloads: the one downloader every download script calls.

``python -m tools.download.fetch URL --output FILE [--md5 HEX | --sha256 HEX] [--size BYTES] [--quiet]``

The data goes into ``FILE.part`` (an interrupted download resumes from it with an HTTP Range request; a
server that ignores Range makes it start over), is checked against the size and checksum, and only then is
renamed to ``FILE``. A verified checksum is recorded in a sidecar ``FILE.md5`` / ``FILE.sha256``
(``md5sum`` format), so a second run checks a multi-GB file by its size and the sidecar and returns at once.
Without a checksum to verify, the sidecar records the sha256 of the bytes received and is the mark of a
completed download: a ``FILE`` without it (left by another tool, or by hand) is never trusted but fetched
again, and a server that sends no length cannot serve such a file at all (a cut could not be told from the end).
``URL`` may also be a ``file://`` URL or a local path (ImageNet, for example, comes as a local tar file).

Exit codes: 0 done, 1 the download failed or did not verify (the bad data is removed), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from http.client import HTTPException
from pathlib import Path
from typing import IO

from tqdm import tqdm

from common.atomic import atomic_write_text
from common.errors import UsageError
from common.progress import progress_enabled
from tools.download.check_models import BadModelFile, remove_bad_model

CHUNK_BYTES = 1 << 20
# Attempts in a row that bring no new byte before giving up; any progress resets the count.
MAX_STALLED_ATTEMPTS = 5
RETRY_PAUSE_S = 1.0
TIMEOUT_S = 60.0
USER_AGENT = "mlperf-inference-ref-download/0.1"
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


class DownloadError(Exception):
    """The download failed or its data did not verify; the message is one line saying what to do."""


class _Checksum:
    """The expected digest of a file, by algorithm name (``md5`` or ``sha256``); ``expected`` None: the sum
    is only computed and recorded (nothing published to check it against)."""

    def __init__(self, algorithm: str, expected: str | None) -> None:
        self.algorithm = algorithm
        self.expected = expected.strip().lower() if expected is not None else None
        if self.expected is not None and (not re.fullmatch(r"[0-9a-f]+", self.expected)
                                          or len(self.expected) != len(self.new().hexdigest())):
            raise UsageError(f"--{algorithm} {expected!r} is not a {algorithm} hex digest; "
                             "pass the published sum")

    def new(self) -> hashlib._Hash:
        return hashlib.new(self.algorithm)


def sidecar_path(output: Path, algorithm: str) -> Path:
    """Where the verified checksum of ``output`` is recorded: ``output.md5`` or ``output.sha256``."""
    return output.with_name(f"{output.name}.{algorithm}")


def part_path(output: Path) -> Path:
    """Where the data goes until it is verified."""
    return output.with_name(f"{output.name}.part")


def download(url: str, output: Path | str, md5: str | None = None, sha256: str | None = None,
             size: int | None = None, quiet: bool = False) -> Path:
    """Fetch ``url`` into ``output`` unless a verified copy is there; return ``output``.

    Raises ``UsageError`` for bad arguments or a missing local source, ``DownloadError`` when the transfer
    fails (the ``.part`` file stays, so a second call resumes) or the data does not verify (the data is
    removed).
    """
    output = Path(output)
    if md5 and sha256:
        raise UsageError("give either --md5 or --sha256, not both")
    if size is not None and size < 0:
        raise UsageError(f"--size {size} is negative; pass the file size in bytes")
    checksum = _Checksum("md5", md5) if md5 else _Checksum("sha256", sha256) if sha256 else None
    say = _reporter(quiet)

    checked = ("verified" if checksum or size is not None
               else "complete by the server's length; no --size or checksum to verify")
    if output.is_file() and _verified(output, checksum, size, quiet, say):
        say(f"{output}: already there ({checked})")
        return output
    if output.is_dir():
        raise UsageError(f"--output {output} is a folder; pass the path of the file to write")
    output.parent.mkdir(parents=True, exist_ok=True)

    source = _local_source(url)
    part = part_path(output)
    if source is not None:
        digest = _copy_local(source, part, checksum, quiet)
    else:
        digest = _fetch_http(url, part, checksum, size, quiet, say)

    got_size = part.stat().st_size
    if size is not None and got_size != size:
        part.unlink(missing_ok=True)
        raise DownloadError(f"{output}: size mismatch (expected {size} bytes, got {got_size}); "
                            "the download was removed, run again or check the mirror")
    if checksum is not None:
        got = digest or _file_digest(part, checksum, quiet)
        if got != checksum.expected:
            part.unlink(missing_ok=True)
            raise DownloadError(f"{output}: {checksum.algorithm} mismatch (expected {checksum.expected}, got "
                                f"{got}); the download was removed, run again or check the mirror")
    for algorithm in ("md5", "sha256"):  # a sidecar from an older copy no longer describes this one
        sidecar_path(output, algorithm).unlink(missing_ok=True)
    os.replace(part, output)
    if checksum is not None:
        _write_sidecar(output, checksum)
    else:  # the mark of a completed download, and a record of what came
        received = _Checksum("sha256", None)
        _write_sidecar(output, received, digest or _file_digest(output, received, quiet))
    say(f"{output}: downloaded, {got_size} bytes ({checked})")
    return output


def _reporter(quiet: bool) -> Callable[[str], None]:
    def say(message: str) -> None:
        if not quiet:
            print(message, file=sys.stderr)

    return say


def _verified(output: Path, checksum: _Checksum | None, size: int | None, quiet: bool,
              say: Callable[[str], None]) -> bool:
    """Whether the existing ``output`` is the wanted file; a wrong one is removed so it is fetched again."""
    stat = output.stat()
    if size is not None and stat.st_size != size:
        say(f"{output}: has {stat.st_size} bytes, expected {size}; downloading it again")
        output.unlink()
        return False
    if checksum is None:
        if size is not None or _completed(output, stat):
            return True
        say(f"{output}: no record that its download completed; downloading it again")
        output.unlink()
        return False
    sidecar = sidecar_path(output, checksum.algorithm)
    if _sidecar_matches(sidecar, output, checksum, stat):
        return True
    got = _file_digest(output, checksum, quiet)
    if got == checksum.expected:
        _write_sidecar(output, checksum)
        return True
    say(f"{output}: {checksum.algorithm} is {got}, expected {checksum.expected}; downloading it again")
    output.unlink()
    sidecar.unlink(missing_ok=True)
    return False


def _sidecar_matches(sidecar: Path, output: Path, checksum: _Checksum, stat: os.stat_result) -> bool:
    """A sidecar counts when it names the expected sum and is not older than the file it describes."""
    try:
        recorded = sidecar.read_text(encoding="utf-8").split()
        sidecar_mtime = sidecar.stat().st_mtime_ns
    except (OSError, UnicodeDecodeError):
        return False
    return (len(recorded) == 2 and recorded[0].lower() == checksum.expected and recorded[1] == output.name
            and sidecar_mtime >= stat.st_mtime_ns)


def _completed(output: Path, stat: os.stat_result) -> bool:
    """Whether a sidecar written after a completed download (this module's) describes ``output`` as it is."""
    for algorithm in ("md5", "sha256"):
        try:
            sidecar = sidecar_path(output, algorithm)
            recorded = sidecar.read_text(encoding="utf-8").split()
            fresh = sidecar.stat().st_mtime_ns >= stat.st_mtime_ns
        except (OSError, UnicodeDecodeError):
            continue
        if len(recorded) == 2 and recorded[1] == output.name and fresh:
            return True
    return False


def _write_sidecar(output: Path, checksum: _Checksum, digest: str | None = None) -> None:
    """Record the verified (or received) sum in ``md5sum``/``sha256sum`` format (``md5sum -c FILE.md5``)."""
    sidecar = sidecar_path(output, checksum.algorithm)
    atomic_write_text(sidecar, f"{digest or checksum.expected}  {output.name}\n")


def _file_digest(path: Path, checksum: _Checksum, quiet: bool) -> str:
    hasher = checksum.new()
    with open(path, "rb") as handle, _byte_bar(f"checking {path.name}", path.stat().st_size, 0, quiet) as bar:
        while chunk := handle.read(CHUNK_BYTES):
            hasher.update(chunk)
            bar.update(len(chunk))
    return hasher.hexdigest()


def _byte_bar(desc: str, total: int | None, initial: int, quiet: bool) -> tqdm:
    return tqdm(desc=desc, total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024,
                disable=not progress_enabled(not quiet), dynamic_ncols=True, leave=False)


def _local_source(url: str) -> Path | None:
    """The local file behind a ``file://`` URL or a plain path; None for a network URL."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme in ("http", "https"):
        return None
    if parsed.scheme == "file":
        path = Path(urllib.request.url2pathname(parsed.path))
    elif parsed.scheme and len(parsed.scheme) > 1:  # one letter would be a Windows drive
        raise UsageError(f"{url}: unsupported URL scheme '{parsed.scheme}'; "
                         "use http(s)://, file:// or a path")
    else:
        path = Path(url)
    if not path.is_file():
        raise UsageError(f"{path}: no such file; pass the path of the downloaded archive")
    return path


class _PartFile:
    """The ``.part`` file being filled and, when a checksum is wanted, the running digest of its bytes."""

    def __init__(self, path: Path, checksum: _Checksum | None, quiet: bool) -> None:
        self.path = path
        self.checksum = checksum or _Checksum("sha256", None)  # none given: the sum is recorded, not checked
        self.quiet = quiet
        self.hasher = self.checksum.new()
        if self.size:  # resuming: the old bytes are read once, here
            with open(path, "rb") as handle, _byte_bar(f"checking {path.name}", self.size, 0, quiet) as bar:
                while chunk := handle.read(CHUNK_BYTES):
                    self.hasher.update(chunk)
                    bar.update(len(chunk))

    @property
    def size(self) -> int:
        return self.path.stat().st_size if self.path.is_file() else 0

    def restart(self) -> None:
        """Drop what was fetched so far."""
        self.path.unlink(missing_ok=True)
        self.hasher = self.checksum.new()

    def fill_from(self, src: IO[bytes], desc: str, total: int | None) -> None:
        """Append everything ``src`` yields, with a byte progress bar."""
        with open(self.path, "ab") as dst, _byte_bar(desc, total, self.size, self.quiet) as bar:
            while chunk := src.read(CHUNK_BYTES):
                dst.write(chunk)
                self.hasher.update(chunk)
                bar.update(len(chunk))

    def digest(self) -> str:
        return self.hasher.hexdigest()


def _copy_local(source: Path, part_file: Path, checksum: _Checksum | None, quiet: bool) -> str | None:
    """Copy ``source`` into ``part_file`` (resuming); return the digest of the result."""
    total = source.stat().st_size
    if part_file.is_file() and part_file.stat().st_size > total:
        part_file.unlink()
    part = _PartFile(part_file, checksum, quiet)
    with open(source, "rb") as src:
        src.seek(part.size)
        part.fill_from(src, source.name, total)
    return part.digest()


def _fetch_http(url: str, part_file: Path, checksum: _Checksum | None, size: int | None, quiet: bool,
                say: Callable[[str], None]) -> str | None:
    """Fill ``part_file`` with the whole of ``url``, resuming and retrying; return the digest of its bytes."""
    if size is not None and part_file.is_file() and part_file.stat().st_size > size:
        part_file.unlink()
    part = _PartFile(part_file, checksum, quiet)
    stalled = 0
    while True:
        offset = part.size
        if size is not None and offset == size:
            return part.digest()
        try:
            if _fetch_once(url, part, size, say):
                return part.digest()
        except (urllib.error.URLError, HTTPException, OSError) as exc:
            if isinstance(exc, urllib.error.HTTPError) and exc.code != 416 and 400 <= exc.code < 500:
                raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}; "
                                    "check the URL or the mirror") from exc
            reason = getattr(exc, "reason", None) or exc
            stalled = 0 if part.size > offset else stalled + 1
            if stalled >= MAX_STALLED_ATTEMPTS:
                raise DownloadError(f"{url}: download failed ({reason}); run again to resume from "
                                    f"{part.size} bytes in {part.path}") from exc
            say(f"{url}: connection lost ({reason}); resuming")
            time.sleep(RETRY_PAUSE_S * stalled)


def _fetch_once(url: str, part: _PartFile, size: int | None, say: Callable[[str], None]) -> bool:
    """One request from the end of ``part``; True when ``part`` holds the whole file afterwards."""
    offset = part.size
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # nothing after offset: complete, or the .part is not a prefix
            if _total_from_content_range(exc.headers.get("Content-Range", "")) == offset:
                return True
            say(f"{url}: the server refused to resume from byte {offset}; starting over")
            part.restart()
            return False
        raise
    with response:
        if offset and response.status == 206:
            match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
            if not match or int(match.group(1)) != offset:
                raise DownloadError(f"{url}: the server answered a resume from byte {offset} with "
                                    f"'{response.headers.get('Content-Range')}'; "
                                    f"delete {part.path} and run again")
            total = None if match.group(3) == "*" else int(match.group(3))
        else:
            if offset:
                say(f"{url}: the server does not resume downloads; starting over")
                part.restart()
            length = response.headers.get("Content-Length")
            total = int(length) if length is not None and length.isdigit() else None
        if size is not None and total is not None and total != size:
            raise DownloadError(f"{url}: the server offers {total} bytes, expected {size}; check the URL or "
                                "the mirror")
        chunked = response.headers.get("Transfer-Encoding", "").lower() == "chunked"  # its own end marker
        if total is None and not chunked and size is None and part.checksum.expected is None:
            raise DownloadError(f"{url}: the server sends no length and no --size or checksum is known, so a "
                                "cut transfer could not be told from a whole file; pass --size or a checksum")
        part.fill_from(response, part.path.name[: -len(".part")], total)
    if total is not None and part.size < total:  # the server closed early without an error
        raise ConnectionError(f"got {part.size} of {total} bytes")
    return True


def _total_from_content_range(value: str) -> int | None:
    match = re.search(r"/(\d+)\s*$", value)
    return int(match.group(1)) if match else None


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.download.fetch",
        description="Download URL to FILE (resumable, verified, atomic). Exit 0 at once if FILE is there "
                    "and verified; exit 1 if the download fails or does not verify.")
    parser.add_argument("url", metavar="URL", help="http(s):// URL, file:// URL or local path")
    parser.add_argument("--output", "-o", required=True, type=Path, metavar="FILE", help="the file to write")
    sums = parser.add_mutually_exclusive_group()
    sums.add_argument("--md5", metavar="HEX", help="expected MD5 hex digest")
    sums.add_argument("--sha256", metavar="HEX", help="expected SHA-256 hex digest")
    parser.add_argument("--size", type=int, metavar="BYTES", help="expected size in bytes")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar or messages")
    parser.add_argument("--check-model", action="store_true",
                        help="then check FILE as a model of its suffix's kind (.onnx, .pb, .pytorch); a bad one is "
                             "removed with its sidecars (exit 1)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    try:
        download(args.url, args.output, md5=args.md5, sha256=args.sha256, size=args.size, quiet=args.quiet)
        if args.check_model:
            remove_bad_model(args.output)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (DownloadError, BadModelFile) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"error: interrupted; run again to resume from {part_path(args.output)}", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
