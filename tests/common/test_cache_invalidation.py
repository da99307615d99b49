"""The preprocessing cache never trusts changed data: an entry is keyed by its source file's size, mtime and
ctime (ns), and an entry that does not read back whole is computed again."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from common.benchmark import DatasetOptions
from common.cache import cache_folder, entry_path, load_cached, read_entry, source_stamp
from vision.coco.dataset import CocoDataset, Recipe
from vision.coco.preprocess import mobilenet_uint8_nhwc, read_bgr
from vision.coco.samples import make_coco_samples
from vision.imagenet.dataset import ImageNetDataset
from vision.imagenet.preprocess import Preprocessing, crop_file, subtract_means
from vision.imagenet.samples import write_samples
from vision.imagenet.val_map import read_val_map

ROOT = Path(__file__).resolve().parents[2]
RESNET = Preprocessing(cv2.INTER_AREA, subtract_means)


def options(cache: Path, count: int | None = None) -> DatasetOptions:
    return DatasetOptions(backend="onnxruntime", layout="NHWC", cache_dir=cache, workers=2, count=count,
                          progress=False)


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_samples(tmp_path_factory.mktemp("samples"))


@pytest.fixture
def imagenet(samples: Path, tmp_path: Path) -> Path:
    return shutil.copytree(samples, tmp_path / "imagenet")


def crops(folder: Path, cache: Path, indices: list[int], count: int = 6) -> tuple[ImageNetDataset, np.ndarray]:
    dataset = ImageNetDataset(folder, RESNET, options(cache, count))
    return dataset, dataset.crops(indices)


def test_a_replaced_image_is_cropped_again_and_the_others_are_not(imagenet: Path, tmp_path: Path) -> None:
    names = read_val_map(imagenet).names
    _, before = crops(imagenet, tmp_path / "cache", [0, 1, 2])
    shutil.copyfile(imagenet / names[5], imagenet / names[1])  # another valid image in its place
    dataset = ImageNetDataset(imagenet, RESNET, options(tmp_path / "cache", 6))
    assert dataset.preprocess([0, 1, 2]) == 1  # only the replaced one
    after = dataset.crops([0, 1, 2])
    np.testing.assert_array_equal(after[1], crop_file(names[5], imagenet, cv2.INTER_AREA))
    assert not np.array_equal(after[1], before[1])
    np.testing.assert_array_equal(after[[0, 2]], before[[0, 2]])


def test_same_size_same_mtime_other_bytes_is_noticed_by_the_change_time(imagenet: Path, tmp_path: Path) -> None:
    """As 'cp -p' of a file of the same size over it: size and mtime match, the inode's change time does not."""
    names = read_val_map(imagenet).names
    target = imagenet / names[2]
    _, before = crops(imagenet, tmp_path / "cache", [2])
    stat = target.stat()
    data = bytearray(target.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 32] = bytes(32)  # other entropy-coded bytes: still a whole JPEG, other pixels
    time.sleep(0.01)  # a later change time even on a coarse clock
    target.write_bytes(bytes(data))
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert target.stat().st_size == stat.st_size and target.stat().st_mtime_ns == stat.st_mtime_ns
    _, after = crops(imagenet, tmp_path / "cache", [2])
    np.testing.assert_array_equal(after[0], crop_file(names[2], imagenet, cv2.INTER_AREA))
    assert not np.array_equal(after[0], before[0])


@pytest.mark.parametrize("damage", ["truncated", "bad header", "bytes appended", "stamp of another file",
                                    "older format without a stamp", "empty"])
def test_a_damaged_entry_is_recomputed_never_trusted(imagenet: Path, tmp_path: Path, damage: str) -> None:
    dataset, fresh = crops(imagenet, tmp_path / "cache", [3])
    entry = entry_path(dataset.cache_dir, dataset.names[3])
    data = entry.read_bytes()
    if damage == "truncated":
        entry.write_bytes(data[: len(data) // 2])
    elif damage == "bad header":
        entry.write_bytes(b"\x93NUMPY\x09\x00" + data[8:])
    elif damage == "bytes appended":
        entry.write_bytes(data + b"\0" * 16)
    elif damage == "stamp of another file":
        with entry.open("wb") as handle:
            np.lib.format.write_array(handle, fresh[0])
            np.lib.format.write_array(handle, source_stamp(imagenet / dataset.names[0]))
    elif damage == "older format without a stamp":
        np.save(entry, fresh[0])
    else:
        entry.write_bytes(b"")
    again = ImageNetDataset(imagenet, RESNET, options(tmp_path / "cache", 6))
    assert again.preprocess([3]) == 1
    np.testing.assert_array_equal(again.crops([3])[0], fresh[0])
    np.testing.assert_array_equal(np.load(entry), fresh[0])  # the entry is whole again: np.load reads it
    assert read_entry(entry, source_stamp(imagenet / dataset.names[3])) is not None


def test_unchanged_sources_are_hits_read_back_exactly(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    for name in "abc":
        (sources / name).write_text(name * 3)
    computed: list[str] = []

    def compute(name: str) -> np.ndarray:
        computed.append(name)
        return np.frombuffer((sources / name).read_bytes(), np.uint8)

    folder = cache_folder(tmp_path / "cache", "t", {})
    load = functools.partial(load_cached, folder, ["a", "b", "c", "a"], compute, workers=1, show_progress=False,
                             source=sources.joinpath)
    first = load()
    assert computed == ["a", "b", "c"] and [bytes(a) for a in first] == [b"aaa", b"bbb", b"ccc", b"aaa"]
    assert [bytes(a) for a in load()] == [b"aaa", b"bbb", b"ccc", b"aaa"] and computed == ["a", "b", "c"]
    (sources / "b").write_text("bbbb")
    assert [bytes(a) for a in load()][1] == b"bbbb" and computed == ["a", "b", "c", "b"]


def test_a_replaced_coco_image_is_read_again(tmp_path: Path) -> None:
    coco = make_coco_samples(tmp_path / "coco")
    recipe = Recipe("coco-32", functools.partial(mobilenet_uint8_nhwc, size=32))
    dataset = CocoDataset(coco, recipe, options(tmp_path / "cache", 3))
    first, second = dataset.images[0].file_name, dataset.images[1].file_name
    before = dataset.load([0, 1])
    shutil.copyfile(coco / "val2017" / second, coco / "val2017" / first)
    again = CocoDataset(coco, recipe, options(tmp_path / "cache", 3)).load([0, 1])
    np.testing.assert_array_equal(again[0], mobilenet_uint8_nhwc(read_bgr(coco / "val2017" / second), size=32))
    assert not np.array_equal(again[0], before[0])
    np.testing.assert_array_equal(again[1], before[1])


def cli_run(dataset: Path, out: Path, cache: Path) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "tools.cli", "run", "resnet50", "--backend", "null",
                           "--scenario", "Offline", "--quick", "--accuracy", "--dataset-path", str(dataset),
                           "--output", str(out), "--cache-dir", str(cache)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    return done, time.monotonic() - started


def test_after_a_good_run_changed_images_fail_the_next_run_naming_the_file(imagenet: Path, tmp_path: Path) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    first, _ = cli_run(imagenet, out, cache)
    assert first.returncode == 0, first.stderr
    assert (out / "results.json").is_file()
    names = read_val_map(imagenet).names
    (imagenet / names[7]).write_text("this is text, not an image\n")  # cached before: must not be trusted
    second, seconds = cli_run(imagenet, out, cache)
    assert second.returncode == 1 and seconds < 60
    assert "Traceback" not in second.stderr and "terminate called" not in second.stderr
    errors = [line for line in second.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: loading samples failed: BadImage: {imagenet}/{names[7]}: does not decode as an "
                      "image; run verify_dataset.sh, and download_dataset.sh again to restore it"]
    assert not (out / "results.json").exists()  # the first run's result is not left to pass for this one
    (imagenet / names[3]).write_bytes(b"")  # emptied: refused when the dataset is opened, before LoadGen
    third, seconds = cli_run(imagenet, out, cache)
    assert third.returncode == 2 and seconds < 60
    assert third.stderr.splitlines() == [
        f"error: --dataset-path {imagenet}: 1 of the 20 images listed in val_map.txt are empty (0 bytes) "
        f"({names[3]}); run verify_dataset.sh, and download_dataset.sh again to restore them"]
    assert not (out / "results.json").exists()
