"""'mlperf-ref accuracy' refuses another benchmark's log: the payloads tell which benchmark wrote it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from common.accuracy.payloads import CLASSIFICATION, DETECTION, TRANSLATION, payload_kind, require_kind
from common.errors import UsageError
from vision.classification.task import label_payloads
from vision.detection.payload import pack_detections
from vision.imagenet.samples import write_samples

ROOT = Path(__file__).resolve().parents[3]


def classification() -> dict[int, bytes]:
    """What a ResNet50/MobileNet run writes: argmax - 1 as one float32 (0 and 1001 map to -1 and 1000)."""
    return dict(enumerate(label_payloads(np.array([0, 1, 65, 1001, 500]))))


def detection() -> dict[int, bytes]:
    """What an SSD run writes: 7 float32 per detection, the first the qsl index; none is an empty payload."""
    boxes = np.array([[0.1, 0.2, 0.5, 0.6], [0.3, 0.3, 0.9, 0.8]], np.float32)
    return {index: pack_detections(index, boxes[:count], np.full(count, 0.9), np.full(count, 18.0))
            for index, count in ((0, 2), (1, 0), (2, 1), (7, 2))}


def translation() -> dict[int, bytes]:
    return {0: b"Das ist ein Test .", 1: b"", 2: "Grüße aus Köln".encode(), 3: b"Ja"}


def test_each_benchmark_payload_is_told_apart() -> None:
    assert payload_kind(classification()) == CLASSIFICATION
    assert payload_kind(detection()) == DETECTION
    assert payload_kind(translation()) == TRANSLATION
    assert payload_kind({0: b"", 1: b""}) is None  # nothing answered: nothing to tell
    assert payload_kind({0: b"\xff\xfe\xfd"}) is None  # no benchmark's form
    # A detection row whose first field is not the sample's index is still a detection payload: some v0.5
    # SUTs wrote garbage there and accuracy-coco.py goes by LoadGen's qsl_idx.
    shifted = {index + 1: payload for index, payload in detection().items() if payload}
    assert payload_kind(shifted) == DETECTION
    # A score outside 0..1 or a class that is no whole number is no detection.
    row = np.array([[0, 0.1, 0.1, 0.5, 0.5, 1.5, 3]], np.float32)
    assert payload_kind({0: row.tobytes()}) is None
    row[0, 5:] = 0.5, 3.5
    assert payload_kind({0: row.tobytes()}) is None
    # A float32 label that is not a whole number in -1..1000 is no classification payload.
    assert payload_kind({0: np.float32(0.5).tobytes()}) != CLASSIFICATION
    assert payload_kind({0: np.float32(1001).tobytes()}) != CLASSIFICATION


@pytest.mark.parametrize(("expected", "results", "looks_like"), [
    (CLASSIFICATION, translation(), "GNMT (UTF-8 text)"),
    (CLASSIFICATION, detection(), "SSD-MobileNet or SSD-ResNet34 (7 float32 per detection)"),
    (TRANSLATION, classification(), "ResNet50 or MobileNet (one float32, int32 or int64 label per sample)"),
    (DETECTION, translation(), "GNMT (UTF-8 text)"),
])
def test_another_benchmarks_log_is_refused_naming_the_log_and_its_writer(expected, results, looks_like) -> None:
    with pytest.raises(UsageError) as refused:
        require_kind(results, expected, Path("log.json"), "the-benchmark")
    assert str(refused.value) == (f"--log log.json: not a the-benchmark accuracy log: it looks like one of "
                                  f"{looks_like}; score it with that benchmark, or pass this benchmark's log")


def test_its_own_log_and_an_unanswered_one_pass() -> None:
    for expected, results in ((CLASSIFICATION, classification()), (DETECTION, detection()),
                              (TRANSLATION, translation()), (CLASSIFICATION, {0: b""})):
        require_kind(results, expected, Path("log.json"), "b")
    require_kind(translation(), None, Path("log.json"), "b")  # a benchmark that declares no form


def write_log(path: Path, results: dict[int, bytes]) -> Path:
    path.write_text(json.dumps([{"seq_id": n, "qsl_idx": index, "data": payload.hex()}
                                for n, (index, payload) in enumerate(results.items())]))
    return path


def accuracy(log: Path, dataset: Path) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "tools.cli", "accuracy", "resnet50", "--log", str(log),
                           "--dataset-path", str(dataset)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    return done, time.monotonic() - started


def test_the_command_line_refuses_a_gnmt_log_and_a_json_object(tmp_path: Path) -> None:
    imagenet = write_samples(tmp_path / "samples")
    log = write_log(tmp_path / "mlperf_log_accuracy.json", translation())
    done, seconds = accuracy(log, imagenet)
    assert done.returncode == 2 and seconds < 60 and done.stdout == ""
    assert done.stderr.splitlines() == [
        f"error: --log {log}: not a resnet50 accuracy log: it looks like one of GNMT (UTF-8 text); score it with "
        "that benchmark, or pass this benchmark's log"]
    log.write_text('{"qsl_idx": 0, "data": "00000000"}')
    done, seconds = accuracy(log, imagenet)
    assert done.returncode == 2 and seconds < 60
    assert done.stderr.splitlines() == [f"error: --log {log}: not a LoadGen accuracy log (a JSON list of records "
                                        "expected, found a dict)"]
    write_log(log, classification())  # its own kind is scored (5 labels against val_map.txt's first 5)
    done, _ = accuracy(log, imagenet)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stdout.splitlines()[0].startswith("accuracy=") and "total=5" in done.stdout
