"""A local HTTP file server for download tests: Range support, and faults on demand.

``LocalHTTPServer(root)`` serves the files under ``root`` on 127.0.0.1 from a thread. Its modes:

- ``"normal"``: honours ``Range: bytes=N-`` with ``206 Partial Content``;
- ``"ignore_range"``: always answers ``200`` with the whole file, as some mirrors do;
- ``"cut"``: sends ``cut_after`` bytes of the body and closes the connection, ``cuts_left`` times, then
  behaves as ``"normal"``;
- ``"short_length"``: announces and sends only the first half of every file (a mirror serving a cut copy);
- ``"no_length"``: sends no Content-Length, only the first ``cut_after`` bytes (all if 0), then closes.

Every request is recorded in ``requests`` as ``(path, range header or None)`` so tests can see resumes.
"""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

_RANGE = re.compile(r"bytes=(\d+)-(\d*)$")


class LocalHTTPServer:
    """Serves ``root`` on ``http://127.0.0.1:<port>/``; use as a context manager."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.mode = "normal"
        self.cut_after = 0
        self.cuts_left = 0
        self.requests: list[tuple[str, str | None]] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        daemon=True)

    @property
    def base_url(self) -> str:
        """The URL of ``root``, without a trailing slash."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name}"

    def cut(self, after_bytes: int, times: int = 1) -> None:
        """Cut the next ``times`` responses after ``after_bytes`` bytes of body."""
        self.mode, self.cut_after, self.cuts_left = "cut", after_bytes, times

    def reset(self) -> None:
        self.mode, self.cut_after, self.cuts_left = "normal", 0, 0
        self.requests.clear()

    def start(self) -> LocalHTTPServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LocalHTTPServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _take_cut(self) -> int | None:
        """Bytes to send before cutting this response, or None to send it all."""
        with self._lock:
            if self.mode != "cut" or self.cuts_left <= 0:
                return None
            self.cuts_left -= 1
            return self.cut_after


def _handler_for(server: LocalHTTPServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet test output
            pass

        def do_HEAD(self) -> None:  # noqa: N802 - http.server naming
            self._serve(body=False)

        def do_GET(self) -> None:  # noqa: N802 - http.server naming
            self._serve(body=True)

        def _serve(self, body: bool) -> None:
            range_header = self.headers.get("Range")
            server.requests.append((self.path, range_header))
            path = (server.root / self.path.lstrip("/").split("?")[0]).resolve()
            if not path.is_file() or server.root.resolve() not in path.parents:
                self.send_error(404)
                return
            total = path.stat().st_size
            if server.mode == "short_length":
                total //= 2
            start = 0
            match = _RANGE.match(range_header or "")
            if match and server.mode != "ignore_range":
                start = int(match.group(1))
                if start >= total:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{total}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{total - 1}/{total}")
            else:
                self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            if server.mode == "no_length":
                self.send_header("Connection", "close")
                self.end_headers()
                if body:
                    with open(path, "rb") as handle:
                        self.wfile.write(handle.read(server.cut_after or total))
                self.close_connection = True
                return
            self.send_header("Content-Length", str(total - start))
            self.send_header("Accept-Ranges", "none" if server.mode == "ignore_range" else "bytes")
            cut = server._take_cut() if body else None
            if cut is not None:
                self.send_header("Connection", "close")
            self.end_headers()
            if not body:
                return
            with open(path, "rb") as handle:
                handle.seek(start)
                if cut is None:
                    self.wfile.write(handle.read(total - start))
                    return
                self.wfile.write(handle.read(cut))
                self.wfile.flush()
                self.close_connection = True

    return Handler
