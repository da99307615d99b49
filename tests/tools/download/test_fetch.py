"""tools.download.fetch against a local HTTP server: good path, resume, restarts, mismatches, no-op reruns."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tools.download import fetch as dl

REPO = Path(__file__).resolve().parents[3]


def _load_http_server():
    spec = importlib.util.spec_from_file_location("tests_support_http_server",
                                                  REPO / "tests" / "support" / "http_server.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


LocalHTTPServer = _load_http_server().LocalHTTPServer

PAYLOAD = bytes(range(256)) * 4096 + b"tail"  # 1 MiB + 4 bytes: more than one CHUNK_BYTES read
PAYLOAD_MD5 = hashlib.md5(PAYLOAD).hexdigest()
PAYLOAD_SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("www")
    (root / "data.bin").write_bytes(PAYLOAD)
    with LocalHTTPServer(root) as srv:
        yield srv


@pytest.fixture(autouse=True)
def no_retry_pause(monkeypatch):
    monkeypatch.setattr(dl, "RETRY_PAUSE_S", 0.0)


def test_good_path_md5_writes_file_and_sidecar_and_no_part(server, tmp_path):
    out = tmp_path / "sub" / "data.bin"
    assert dl.main([server.url("data.bin"), "--output", str(out), "--md5", PAYLOAD_MD5,
                    "--size", str(len(PAYLOAD)), "--quiet"]) == 0
    assert out.read_bytes() == PAYLOAD
    assert not dl.part_path(out).exists()
    assert (tmp_path / "sub" / "data.bin.md5").read_text() == f"{PAYLOAD_MD5}  data.bin\n"
    assert server.requests == [("/data.bin", None)]


def test_good_path_sha256_with_uppercase_digest(server, tmp_path):
    out = tmp_path / "data.bin"
    dl.download(server.url("data.bin"), out, sha256=PAYLOAD_SHA256.upper(), quiet=True)
    assert hashlib.sha256(out.read_bytes()).hexdigest() == PAYLOAD_SHA256
    assert dl.sidecar_path(out, "sha256").read_text().split()[0] == PAYLOAD_SHA256


def test_connection_cut_mid_file_is_resumed_with_range(server, tmp_path):
    out = tmp_path / "data.bin"
    server.cut(after_bytes=300_000, times=2)
    dl.download(server.url("data.bin"), out, md5=PAYLOAD_MD5, size=len(PAYLOAD), quiet=True)
    assert out.read_bytes() == PAYLOAD
    assert server.requests == [("/data.bin", None), ("/data.bin", "bytes=300000-"),
                               ("/data.bin", "bytes=600000-")]


def test_part_left_by_an_interrupted_run_is_resumed(server, tmp_path):
    out = tmp_path / "data.bin"
    dl.part_path(out).write_bytes(PAYLOAD[:123_457])
    dl.download(server.url("data.bin"), out, md5=PAYLOAD_MD5, quiet=True)
    assert out.read_bytes() == PAYLOAD
    assert server.requests == [("/data.bin", "bytes=123457-")]


def test_server_ignoring_range_makes_the_download_start_over(server, tmp_path):
    out = tmp_path / "data.bin"
    dl.part_path(out).write_bytes(b"x" * 5000)  # not even a prefix: a restart must discard it
    server.mode = "ignore_range"
    dl.download(server.url("data.bin"), out, sha256=PAYLOAD_SHA256, quiet=True)
    assert out.read_bytes() == PAYLOAD
    assert server.requests == [("/data.bin", "bytes=5000-")]


def test_complete_part_is_verified_without_a_request_when_size_is_known(server, tmp_path):
    out = tmp_path / "data.bin"
    dl.part_path(out).write_bytes(PAYLOAD)
    dl.download(server.url("data.bin"), out, md5=PAYLOAD_MD5, size=len(PAYLOAD), quiet=True)
    assert out.read_bytes() == PAYLOAD
    assert server.requests == []


def test_complete_part_without_size_gets_416_and_is_kept(server, tmp_path):
    out = tmp_path / "data.bin"
    dl.part_path(out).write_bytes(PAYLOAD)
    dl.download(server.url("data.bin"), out, md5=PAYLOAD_MD5, quiet=True)
    assert out.read_bytes() == PAYLOAD
    assert server.requests == [("/data.bin", f"bytes={len(PAYLOAD)}-")]


def test_md5_mismatch_exits_1_with_one_clear_line_and_removes_the_data(server, tmp_path, capsys):
    out = tmp_path / "data.bin"
    wrong = "0" * 32
    assert dl.main([server.url("data.bin"), "--output", str(out), "--md5", wrong, "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err == (f"error: {out}: md5 mismatch (expected {wrong}, got {PAYLOAD_MD5}); "
                   "the download was removed, run again or check the mirror\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_size_mismatch_reported_by_server_fails_before_downloading(server, tmp_path, capsys):
    out = tmp_path / "data.bin"
    assert dl.main([server.url("data.bin"), "--output", str(out), "--size", "10", "--quiet"]) == 1
    assert f"the server offers {len(PAYLOAD)} bytes, expected 10" in capsys.readouterr().err
    assert not out.exists()


def test_second_run_does_no_request_and_no_hashing(server, tmp_path, monkeypatch):
    out = tmp_path / "data.bin"
    dl.download(server.url("data.bin"), out, md5=PAYLOAD_MD5, size=len(PAYLOAD), quiet=True)
    server.reset()

    def must_not_hash(*args, **kwargs):
        raise AssertionError("a verified file was hashed again")

    monkeypatch.setattr(dl, "_file_digest", must_not_hash)
    assert dl.main([server.url("data.bin"), "--output", str(out), "--md5", PAYLOAD_MD5,
                    "--size", str(len(PAYLOAD)), "--quiet"]) == 0
    assert server.requests == []


def test_existing_file_without_sidecar_is_hashed_once_then_trusted(server, tmp_path):
    out = tmp_path / "data.bin"
    out.write_bytes(PAYLOAD)  # e.g. copied by hand
    dl.download(server.url("data.bin"), out, md5=PAYLOAD_MD5, quiet=True)
    assert server.requests == []
    assert dl.sidecar_path(out, "md5").read_text() == f"{PAYLOAD_MD5}  data.bin\n"


def test_file_changed_after_verification_is_checked_again_and_replaced(server, tmp_path):
    out = tmp_path / "data.bin"
    dl.download(server.url("data.bin"), out, md5=PAYLOAD_MD5, quiet=True)
    server.reset()
    out.write_bytes(b"y" * len(PAYLOAD))  # same size, other bytes
    sidecar = dl.sidecar_path(out, "md5")
    os.utime(out, ns=(sidecar.stat().st_mtime_ns + 10**9,) * 2)
    dl.download(server.url("data.bin"), out, md5=PAYLOAD_MD5, size=len(PAYLOAD), quiet=True)
    assert out.read_bytes() == PAYLOAD
    assert server.requests == [("/data.bin", None)]


def test_existing_file_of_wrong_size_is_downloaded_again(server, tmp_path):
    out = tmp_path / "data.bin"
    out.write_bytes(b"short")
    dl.download(server.url("data.bin"), out, size=len(PAYLOAD), quiet=True)
    assert out.read_bytes() == PAYLOAD


def test_existing_file_without_a_completion_record_is_fetched_again(server, tmp_path, capsys):
    """Nothing to verify it by and no sidecar from a completed download: a half file left by another tool."""
    out = tmp_path / "data.bin"
    out.write_bytes(PAYLOAD[:1000])
    assert dl.main([server.url("data.bin"), "--output", str(out)]) == 0
    assert out.read_bytes() == PAYLOAD and server.requests == [("/data.bin", None)]
    assert f"{out}: no record that its download completed; downloading it again" in capsys.readouterr().err


def test_without_checks_the_received_sum_marks_the_download_complete(server, tmp_path, capsys):
    out = tmp_path / "data.bin"
    assert dl.main([server.url("data.bin"), "--output", str(out)]) == 0
    assert dl.sidecar_path(out, "sha256").read_text() == f"{PAYLOAD_SHA256}  data.bin\n"
    assert capsys.readouterr().err.endswith(f"{out}: downloaded, {len(PAYLOAD)} bytes (complete by the server's "
                                            "length; no --size or checksum to verify)\n")
    server.reset()
    assert dl.main([server.url("data.bin"), "--output", str(out)]) == 0
    assert server.requests == []  # trusted by its record
    out.write_bytes(PAYLOAD[:10])  # changed after the record was written: the record no longer vouches for it
    os.utime(dl.sidecar_path(out, "sha256"), ns=(0, 0))
    assert dl.main([server.url("data.bin"), "--output", str(out), "--quiet"]) == 0
    assert out.read_bytes() == PAYLOAD and server.requests == [("/data.bin", None)]


def test_a_server_without_lengths_is_refused_when_nothing_could_tell_a_cut(server, tmp_path, capsys):
    out = tmp_path / "data.bin"
    server.mode, server.cut_after = "no_length", 300_000  # closes early, and nothing says so
    url = server.url("data.bin")
    assert dl.main([url, "--output", str(out), "--quiet"]) == 1
    assert capsys.readouterr().err == (f"error: {url}: the server sends no length and no --size or checksum is "
                                       "known, so a cut transfer could not be told from a whole file; pass --size "
                                       "or a checksum\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    assert dl.main([url, "--output", str(out), "--quiet", "--size", str(len(PAYLOAD))]) == 1  # the cut shows
    assert not out.exists()
    server.cut_after = 0  # the whole file, still without a length: the checksum vouches for it
    dl.download(url, out, md5=PAYLOAD_MD5, quiet=True)
    assert out.read_bytes() == PAYLOAD


def test_a_mirror_serving_half_the_file_fails_the_checks(server, tmp_path, capsys):
    out = tmp_path / "data.bin"
    server.mode = "short_length"
    assert dl.main([server.url("data.bin"), "--output", str(out), "--md5", PAYLOAD_MD5, "--quiet"]) == 1
    half = PAYLOAD[: len(PAYLOAD) // 2]
    assert capsys.readouterr().err == (f"error: {out}: md5 mismatch (expected {PAYLOAD_MD5}, got "
                                       f"{hashlib.md5(half).hexdigest()}); the download was removed, run again or "
                                       "check the mirror\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_local_path_and_file_url_are_copied_and_verified(tmp_path):
    source = tmp_path / "ILSVRC2012_img_val.tar"
    source.write_bytes(PAYLOAD)
    by_path = dl.download(str(source), tmp_path / "a" / "val.tar", md5=PAYLOAD_MD5, quiet=True)
    by_url = dl.download(source.as_uri(), tmp_path / "b" / "val.tar", sha256=PAYLOAD_SHA256, quiet=True)
    assert by_path.read_bytes() == PAYLOAD and by_url.read_bytes() == PAYLOAD


def test_local_copy_resumes_from_part(tmp_path):
    source = tmp_path / "src.tar"
    source.write_bytes(PAYLOAD)
    out = tmp_path / "out" / "src.tar"
    out.parent.mkdir()
    dl.part_path(out).write_bytes(PAYLOAD[:1000])
    dl.download(str(source), out, md5=PAYLOAD_MD5, quiet=True)
    assert out.read_bytes() == PAYLOAD


def test_missing_local_source_is_a_usage_error(tmp_path, capsys):
    missing = tmp_path / "nope.tar"
    assert dl.main([str(missing), "--output", str(tmp_path / "x.tar")]) == 2
    expected = f"error: {missing}: no such file; pass the path of the downloaded archive\n"
    assert capsys.readouterr().err == expected


def test_bad_digest_is_a_usage_error(tmp_path, capsys):
    assert dl.main(["http://127.0.0.1:1/x", "--output", str(tmp_path / "x"), "--md5", "abc"]) == 2
    assert "--md5 'abc' is not a md5 hex digest" in capsys.readouterr().err


def test_md5_and_sha256_together_are_refused(tmp_path):
    with pytest.raises(SystemExit) as exc:
        dl.main(["http://127.0.0.1:1/x", "--output", str(tmp_path / "x"), "--md5", PAYLOAD_MD5,
                 "--sha256", PAYLOAD_SHA256])
    assert exc.value.code == 2


def test_http_404_fails_at_once(server, tmp_path, capsys):
    assert dl.main([server.url("missing.bin"), "--output", str(tmp_path / "m.bin"), "--quiet"]) == 1
    assert "HTTP 404" in capsys.readouterr().err
    assert server.requests == [("/missing.bin", None)]


def test_unreachable_server_gives_up_and_keeps_the_part_for_a_resume(server, tmp_path, capsys):
    out = tmp_path / "data.bin"
    url = server.url("data.bin")
    dl.part_path(out).write_bytes(PAYLOAD[:1000])
    server.stop()  # nothing listens any more
    assert dl.main([url, "--output", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {url}: download failed (") and "run again to resume" in err
    assert dl.part_path(out).exists() and not out.exists()


def test_command_line_module_runs_and_second_run_is_a_no_op(server, tmp_path):
    out = tmp_path / "data.bin"
    command = [sys.executable, "-m", "tools.download.fetch", server.url("data.bin"), "--output", str(out),
               "--md5", PAYLOAD_MD5, "--size", str(len(PAYLOAD))]
    first = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert first.stderr.endswith(f"{out}: downloaded, {len(PAYLOAD)} bytes (verified)\n")
    second = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert second.returncode == 0
    assert second.stderr == f"{out}: already there (verified)\n"
    assert len(server.requests) == 1
