"""COCO download_dataset.sh / verify_dataset.sh (shared by both SSDs) against a local mirror of stand-ins."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from common.registry import get_benchmark

COVERS = ("vision/ssd_mobilenet/download_dataset.sh", "vision/ssd_mobilenet/verify_dataset.sh",
          "vision/ssd_resnet34/download_dataset.sh", "vision/ssd_resnet34/verify_dataset.sh",
          "vision/coco/download_dataset.sh", "vision/coco/verify_dataset.sh")  # the SSDs' scripts exec these
SSD_FOLDERS = ["vision/ssd_mobilenet", "vision/ssd_resnet34"]
VAL_PATH = "zips/val2017.zip"  # below MLPERF_COCO_BASE_URL, as on images.cocodataset.org
ANN_PATH = "annotations/annotations_trainval2017.zip"


def _zip_folder(root: Path, folders: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for folder in folders:
            for path in sorted((root / folder).rglob("*")):
                archive.write(path, str(path.relative_to(root)))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def sample_coco(tmp_path_factory) -> Path:
    """The embedded COCO sample folder (make-samples), the content of the stand-in archives."""
    return get_benchmark("ssd-mobilenet").make_samples(tmp_path_factory.mktemp("samples"))


@pytest.fixture(scope="module")
def archives(sample_coco) -> dict[str, bytes]:
    return {VAL_PATH: _zip_folder(sample_coco, ["val2017"]), ANN_PATH: _zip_folder(sample_coco, ["annotations"])}


@pytest.fixture
def mirror(server, www, archives):
    for relative, data in archives.items():
        (www / relative).parent.mkdir(parents=True, exist_ok=True)
        (www / relative).write_bytes(data)
    return server


def _env(server, archives, val_md5: str | None = None) -> dict[str, str]:
    val, ann = archives[VAL_PATH], archives[ANN_PATH]
    return {"MLPERF_COCO_BASE_URL": server.base_url,
            "COCO_VAL_ZIP_SIZE": str(len(val)), "COCO_VAL_ZIP_MD5": val_md5 or hashlib.md5(val).hexdigest(),
            "COCO_ANN_ZIP_SIZE": str(len(ann)), "COCO_ANN_ZIP_MD5": hashlib.md5(ann).hexdigest()}


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("folder", SSD_FOLDERS)
def test_good_path_extracts_images_and_annotations_then_verifies(run_script, folder, mirror, archives, sample_coco,
                                                                 tmp_path):
    out = tmp_path / "coco"
    result = run_script(f"{folder}/download_dataset.sh", "-o", str(out), env=_env(mirror, archives))
    assert result.returncode == 0, result.stderr
    expected = {k: v for k, v in _tree(sample_coco).items() if k.startswith(("val2017/", "annotations/"))}
    assert _tree(out) == expected  # archives removed, nothing half-extracted left behind
    verify = run_script(f"{folder}/verify_dataset.sh", "-d", str(out), "--any-count", "--decode")
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_keep_option_keeps_the_archives_with_their_checksum_sidecars(run_script, mirror, archives, tmp_path):
    out = tmp_path / "coco"
    result = run_script("vision/ssd_resnet34/download_dataset.sh", "-k", "-o", str(out), env=_env(mirror, archives))
    assert result.returncode == 0, result.stderr
    assert (out / "val2017.zip").read_bytes() == archives[VAL_PATH]
    assert (out / "val2017.zip.md5").read_text() == f"{hashlib.md5(archives[VAL_PATH]).hexdigest()}  val2017.zip\n"


def test_truncated_download_is_resumed(run_script, mirror, archives, tmp_path):
    out = tmp_path / "coco"
    out.mkdir()
    val = archives[VAL_PATH]
    (out / "val2017.zip.part").write_bytes(val[:10_000])  # left by an interrupted run
    mirror.cut(after_bytes=20_000)  # and the connection drops once in this run
    result = run_script("vision/ssd_mobilenet/download_dataset.sh", "-o", str(out), env=_env(mirror, archives))
    assert result.returncode == 0, result.stderr
    assert mirror.requests[:2] == [(f"/{VAL_PATH}", "bytes=10000-"), (f"/{VAL_PATH}", "bytes=30000-")]
    assert (out / "annotations" / "instances_val2017.json").is_file()


def test_checksum_mismatch_fails_clearly_and_leaves_nothing_that_looks_complete(run_script, mirror, archives,
                                                                                 tmp_path):
    out = tmp_path / "coco"
    wrong = "3" * 32
    result = run_script("vision/ssd_mobilenet/download_dataset.sh", "-o", str(out),
                        env=_env(mirror, archives, val_md5=wrong))
    assert result.returncode == 1
    got = hashlib.md5(archives[VAL_PATH]).hexdigest()
    assert (f"error: {out / 'val2017.zip'}: md5 mismatch (expected {wrong}, got {got}); the download was "
            "removed, run again or check the mirror") in result.stderr
    assert sorted(p.name for p in out.iterdir()) == []
    assert mirror.requests == [(f"/{VAL_PATH}", None)]  # stopped before the annotations


def test_second_run_does_nothing(run_script, mirror, archives, tmp_path):
    out = tmp_path / "coco"
    assert run_script("vision/ssd_mobilenet/download_dataset.sh", "-o", str(out),
                      env=_env(mirror, archives)).returncode == 0
    mirror.reset()
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    second = run_script("vision/ssd_resnet34/download_dataset.sh", "-o", str(out), env=_env(mirror, archives))
    assert second.returncode == 0 and "already extracted" in second.stdout
    assert mirror.requests == []
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before


def test_annotations_archive_without_instances_file_is_refused(run_script, mirror, www, archives, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("annotations/captions_val2017.json", "{}")
    (www / ANN_PATH).write_bytes(buffer.getvalue())
    env = {**_env(mirror, archives), "COCO_ANN_ZIP_SIZE": str(len(buffer.getvalue())),
           "COCO_ANN_ZIP_MD5": hashlib.md5(buffer.getvalue()).hexdigest()}
    out = tmp_path / "coco"
    result = run_script("vision/ssd_mobilenet/download_dataset.sh", "-o", str(out), env=env)
    assert result.returncode == 1
    assert "has no annotations/instances_val2017.json" in result.stderr
    assert not (out / "annotations" / "instances_val2017.json").exists()
    assert not list(out.glob(".extract*"))


@pytest.mark.parametrize("folder", SSD_FOLDERS)
def test_verify_names_a_missing_image(run_script, folder, sample_coco, tmp_path):
    broken = tmp_path / "coco"
    for relative, data in _tree(sample_coco).items():
        (broken / relative).parent.mkdir(parents=True, exist_ok=True)
        (broken / relative).write_bytes(data)
    victim = sorted((broken / "val2017").iterdir())[1]
    victim.unlink()
    result = run_script(f"{folder}/verify_dataset.sh", "-d", str(broken), "--any-count")
    assert result.returncode == 1
    assert victim.name in result.stdout + result.stderr


def test_verify_without_any_count_wants_the_full_set(run_script, sample_coco):
    result = run_script("vision/ssd_resnet34/verify_dataset.sh", "-d", str(sample_coco))
    assert result.returncode == 1
    assert "expected 5000 and 36781" in result.stdout + result.stderr
