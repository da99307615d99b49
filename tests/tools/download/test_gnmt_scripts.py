"""GNMT download_dataset.sh, verify_dataset.sh and download_model.sh against a local mirror of stand-ins."""

from __future__ import annotations

import hashlib
import io
import shutil
import time
import zipfile
from pathlib import Path

import pytest

COVERS = ("translation/gnmt/download_dataset.sh", "translation/gnmt/verify_dataset.sh",
          "translation/gnmt/download_model.sh")
DATA_ZIP = "record/3437893/files/gnmt_inference_data.zip"
MODEL_ZIP = "record/2530924/files/gnmt_model.zip"
EN = "".join(f"sentence@@ {i} in English .\n" for i in range(7))
DATA_FILES = {
    "newstest2014.tok.bpe.32000.en": EN,
    "newstest2014.tok.bpe.32000.de": "".join(f"Satz {i} auf Deutsch .\n" for i in range(7)),
    "vocab.bpe.32000.en": "<unk>\n<s>\n</s>\nsentence@@\n",
    "vocab.bpe.32000.de": "<unk>\n<s>\n</s>\nSatz\n",
    "bpe.32000": "#version: 0.2\ns e\n",
}
CHECKPOINT = {"translate.ckpt.index": b"index" * 100, "translate.ckpt.data-00000-of-00001": bytes(range(256)) * 800,
              "translate.ckpt.meta": b"meta"}


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


DATA_ZIP_BYTES = _zip({f"gnmt_inference_data/{name}": text.encode() for name, text in DATA_FILES.items()})
MODEL_ZIP_BYTES = _zip({f"ende_gnmt_model_4_layer/{name}": data for name, data in CHECKPOINT.items()})


@pytest.fixture
def mirror(server, www):
    for relative, data in ((DATA_ZIP, DATA_ZIP_BYTES), (MODEL_ZIP, MODEL_ZIP_BYTES)):
        (www / relative).parent.mkdir(parents=True, exist_ok=True)
        (www / relative).write_bytes(data)
    return server


@pytest.fixture(scope="module")
def downloaded(tmp_path_factory, run_script, http_server_class) -> Path:
    """One stand-in download, copied by the tests that only check or change the result."""
    www = tmp_path_factory.mktemp("www")
    (www / DATA_ZIP).parent.mkdir(parents=True)
    (www / DATA_ZIP).write_bytes(DATA_ZIP_BYTES)
    out = tmp_path_factory.mktemp("downloaded") / "wmt16"
    with http_server_class(www) as srv:
        result = run_script("translation/gnmt/download_dataset.sh", "-o", str(out), env=_env(srv))
    assert result.returncode == 0, result.stderr
    return out


def _copy(folder: Path, target: Path) -> Path:
    shutil.copytree(folder, target)
    return target


def _env(server) -> dict[str, str]:
    return {"MLPERF_ZENODO_BASE_URL": f"{server.base_url}/record"}


def _expected_table(tmp_path: Path, files: dict[str, str], large_lines: int) -> Path:
    """A GNMT_EXPECTED table for the stand-in files (the built-in one holds the v0.5 sums)."""
    lines = [f"{name} {hashlib.md5(text.encode()).hexdigest()} {text.count(chr(10))}" for name, text in files.items()
             if name != "bpe.32000"]
    lines.append(f"newstest2014.tok.bpe.32000.en.large - {large_lines}")
    table = tmp_path / "expected.txt"
    table.write_text("\n".join(lines) + "\n")
    return table


def test_dataset_good_path_then_verify(run_script, mirror, tmp_path):
    out = tmp_path / "wmt16"
    result = run_script("translation/gnmt/download_dataset.sh", "-o", str(out), env=_env(mirror))
    assert result.returncode == 0, result.stderr
    for name, text in DATA_FILES.items():
        assert (out / name).read_text() == text
    assert (out / "newstest2014.tok.bpe.32000.en.large").read_text() == EN * 1300  # v0.5: 1,300 copies
    assert not (out / "gnmt_inference_data.zip").exists() and not list(out.glob(".unpacked*"))
    verify = run_script("translation/gnmt/verify_dataset.sh", "-d", str(out),
                        env={"GNMT_EXPECTED": str(_expected_table(tmp_path, DATA_FILES, 7 * 1300))})
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert verify.stdout.count("OK ") == 5


def test_dataset_truncated_download_is_resumed(run_script, mirror, tmp_path):
    out = tmp_path / "wmt16"
    out.mkdir()
    (out / "gnmt_inference_data.zip.part").write_bytes(DATA_ZIP_BYTES[:300])
    mirror.cut(after_bytes=200)
    result = run_script("translation/gnmt/download_dataset.sh", "-o", str(out), env=_env(mirror))
    assert result.returncode == 0, result.stderr
    assert mirror.requests == [(f"/{DATA_ZIP}", "bytes=300-"), (f"/{DATA_ZIP}", "bytes=500-")]
    assert (out / "newstest2014.tok.bpe.32000.de").read_text() == DATA_FILES["newstest2014.tok.bpe.32000.de"]


def test_dataset_second_run_does_nothing(run_script, mirror, tmp_path):
    out = tmp_path / "wmt16"
    assert run_script("translation/gnmt/download_dataset.sh", "-o", str(out), env=_env(mirror)).returncode == 0
    mirror.reset()
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    second = run_script("translation/gnmt/download_dataset.sh", "-o", str(out), env=_env(mirror))
    assert second.returncode == 0, second.stderr
    assert mirror.requests == []
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


def test_verify_names_a_changed_and_a_missing_file_and_exits_1(run_script, downloaded, tmp_path):
    out = _copy(downloaded, tmp_path / "wmt16")
    (out / "newstest2014.tok.bpe.32000.de").write_text("changed\n")
    (out / "vocab.bpe.32000.en").unlink()
    result = run_script("translation/gnmt/verify_dataset.sh", "-d", str(out),
                        env={"GNMT_EXPECTED": str(_expected_table(tmp_path, DATA_FILES, 7 * 1300))})
    assert result.returncode == 1
    changed_md5 = hashlib.md5(b"changed\n").hexdigest()
    assert (f"ERROR    newstest2014.tok.bpe.32000.de: md5 {changed_md5} (expected "
            f"{hashlib.md5(DATA_FILES['newstest2014.tok.bpe.32000.de'].encode()).hexdigest()}) 1 lines "
            "(expected 7)") in result.stdout
    assert "MISSING  vocab.bpe.32000.en" in result.stdout
    assert result.stderr == (f"error: 2 file(s) in {out} missing or different; run download_dataset.sh -o {out} "
                             "again\n")


def test_verify_with_the_built_in_v05_sums_rejects_stand_in_data(run_script, downloaded):
    out = downloaded
    result = run_script("translation/gnmt/verify_dataset.sh", "-d", str(out))
    assert result.returncode == 1
    assert "ERROR    newstest2014.tok.bpe.32000.en: md5" in result.stdout
    assert "(expected cb014e2509f86cd81d5a87c240c07464)" in result.stdout  # the v0.5 sum


def test_dataset_zip_without_the_files_fails_clearly(run_script, mirror, www, tmp_path):
    (www / DATA_ZIP).write_bytes(_zip({"readme.txt": b"nothing here"}))
    out = tmp_path / "wmt16"
    result = run_script("translation/gnmt/download_dataset.sh", "-o", str(out), env=_env(mirror))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith(
        "error: newstest2014.tok.bpe.32000.en is not in gnmt_inference_data.zip")
    assert not (out / "newstest2014.tok.bpe.32000.en.large").exists()


def test_model_good_path_resume_and_second_run(run_script, mirror, tmp_path):
    out = tmp_path / "models"
    out.mkdir()
    (out / "gnmt_model.zip.part").write_bytes(MODEL_ZIP_BYTES[:1000])
    result = run_script("translation/gnmt/download_model.sh", "-o", str(out), env=_env(mirror))
    assert result.returncode == 0, result.stderr
    assert mirror.requests == [(f"/{MODEL_ZIP}", "bytes=1000-")]
    for name, data in CHECKPOINT.items():
        assert (out / "ende_gnmt_model_4_layer" / name).read_bytes() == data
    assert sorted(p.name for p in out.iterdir()) == ["ende_gnmt_model_4_layer"]
    mirror.reset()
    second = run_script("translation/gnmt/download_model.sh", "-o", str(out), env=_env(mirror))
    assert second.returncode == 0 and "already there" in second.stdout
    assert mirror.requests == []


def test_model_download_that_fails_leaves_no_checkpoint(run_script, mirror, www, tmp_path):
    (www / MODEL_ZIP).unlink()
    out = tmp_path / "models"
    result = run_script("translation/gnmt/download_model.sh", "-o", str(out), env=_env(mirror))
    assert result.returncode == 1
    assert "HTTP 404" in result.stderr and "error: download of gnmt_model.zip failed" in result.stderr
    assert not (out / "ende_gnmt_model_4_layer").exists()


def test_model_zip_without_a_checkpoint_is_refused(run_script, mirror, www, tmp_path):
    (www / MODEL_ZIP).write_bytes(_zip({"other/file.txt": b"x"}))
    out = tmp_path / "models"
    result = run_script("translation/gnmt/download_model.sh", "-o", str(out), env=_env(mirror))
    assert result.returncode == 1
    assert "gnmt_model.zip holds no translate.ckpt.index" in result.stderr
    assert not (out / "ende_gnmt_model_4_layer").exists()


def test_dataset_rerun_does_not_trust_a_half_zip_left_behind(run_script, mirror, tmp_path):
    out = tmp_path / "wmt16"
    out.mkdir()
    (out / "gnmt_inference_data.zip").write_bytes(DATA_ZIP_BYTES[: len(DATA_ZIP_BYTES) // 2])
    started = time.monotonic()
    result = run_script("translation/gnmt/download_dataset.sh", "-o", str(out), env=_env(mirror))
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 30
    assert f"{out}/gnmt_inference_data.zip: not a whole zip" in result.stdout
    assert mirror.requests == [(f"/{DATA_ZIP}", None)]  # fetched afresh, not resumed from the half zip
    for name, text in DATA_FILES.items():
        assert (out / name).read_text() == text
    assert not (out / "gnmt_inference_data.zip").exists()


def test_dataset_zip_with_wrong_bytes_is_removed_and_a_rerun_fetches_it_again(run_script, mirror, www, tmp_path):
    damaged = bytearray(DATA_ZIP_BYTES)
    member = DATA_ZIP_BYTES.index(b"gnmt_inference_data/newstest2014.tok.bpe.32000.de") + 60
    damaged[member:member + 8] = bytes(8)  # inside the deflated data: the zip still opens, the CRC fails
    (www / DATA_ZIP).write_bytes(bytes(damaged))
    out = tmp_path / "wmt16"
    started = time.monotonic()
    result = run_script("translation/gnmt/download_dataset.sh", "-o", str(out), env=_env(mirror))
    assert result.returncode == 1
    assert time.monotonic() - started < 30
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: gnmt_inference_data.zip from {mirror.base_url}/{DATA_ZIP} is not a whole zip (the "
                      "transfer ended early or the mirror sent other bytes); it was removed: run "
                      "download_dataset.sh again, or check the mirror"]
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in out.iterdir()) == []  # nothing half-written, no zip to trust next time
    (www / DATA_ZIP).write_bytes(DATA_ZIP_BYTES)
    mirror.reset()
    again = run_script("translation/gnmt/download_dataset.sh", "-o", str(out), env=_env(mirror))
    assert again.returncode == 0, again.stderr
    assert mirror.requests == [(f"/{DATA_ZIP}", None)]
    assert (out / "newstest2014.tok.bpe.32000.de").read_text() == DATA_FILES["newstest2014.tok.bpe.32000.de"]


def test_verify_fails_a_large_file_that_is_not_utf8_naming_the_line(run_script, downloaded, tmp_path):
    out = _copy(downloaded, tmp_path / "wmt16")
    large = out / "newstest2014.tok.bpe.32000.en.large"
    lines = large.read_bytes().splitlines(keepends=True)
    lines[9] = b"sentence@@ \xff broken .\n"  # line 10: same line count, not UTF-8
    large.write_bytes(b"".join(lines))
    started = time.monotonic()
    result = run_script("translation/gnmt/verify_dataset.sh", "-d", str(out),
                        env={"GNMT_EXPECTED": str(_expected_table(tmp_path, DATA_FILES, 7 * 1300))})
    assert result.returncode == 1
    assert time.monotonic() - started < 30
    assert ("ERROR    newstest2014.tok.bpe.32000.en.large: line 10 is not UTF-8 text (byte 0xff)"
            in result.stdout.splitlines())
    assert result.stdout.count("OK ") == 4
    assert result.stderr == f"error: 1 file(s) in {out} missing or different; run download_dataset.sh -o {out} again\n"
