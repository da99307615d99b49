"""The top-1 scorer: hand-computed logs, the v0.5 line format, each sample once, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from common.accuracy.log import read_accuracy_log
from common.accuracy.top1 import score_top1
from common.errors import UsageError


def payload(label: float, dtype: type = np.float32) -> bytes:
    return np.asarray([label], dtype=dtype).tobytes()


def test_hand_computed_score_and_v05_line() -> None:
    labels = [3, 5, 7, 9, 0]
    results = {0: payload(3), 1: payload(5), 2: payload(0), 3: payload(9), 4: payload(-1)}
    report = score_top1(results, labels)
    assert report.value == pytest.approx(60.0)
    assert report.count == 5
    assert report.accuracy_txt == "accuracy=60.000%, good=3, total=5\n"
    assert report.lines == ["accuracy=60.000%, good=3, total=5",
                            "labels read as float32, decided from the payloads (4 bytes per sample; labels -1..1000 "
                            "in int32 20.0% of samples); --dtype overrides"]  # only 0.0 reads as int32 0
    assert report.extra == {"good": 3, "total": 5, "empty": 0}


def test_three_decimals_and_other_dtypes() -> None:
    labels = [1, 2, 3]
    report = score_top1({0: payload(1, np.int64), 1: payload(0, np.int64), 2: payload(0, np.int64)}, labels,
                        dtype=np.int64)
    assert report.accuracy_txt == "accuracy=33.333%, good=1, total=3\n"


def test_each_qsl_index_counts_once_from_a_crafted_log(tmp_path: Path) -> None:
    # qsl 1 appears twice (as in an accuracy log with repeated queries): the first record wins.
    records = [
        {"seq_id": 0, "qsl_idx": 1, "data": payload(7).hex()},
        {"seq_id": 1, "qsl_idx": 0, "data": payload(4).hex()},
        {"seq_id": 2, "qsl_idx": 1, "data": payload(8).hex()},
        {"seq_id": 3, "qsl_idx": 2, "data": payload(2).hex()},
    ]
    log = tmp_path / "mlperf_log_accuracy.json"
    log.write_text(json.dumps(records))
    report = score_top1(read_accuracy_log(log), [4, 7, 1])
    assert report.accuracy_txt == "accuracy=66.667%, good=2, total=3\n"


def test_empty_payloads_count_as_wrong_and_are_reported() -> None:
    report = score_top1({0: payload(1), 1: b""}, [1, 1])
    assert report.value == pytest.approx(50.0)
    assert report.extra["empty"] == 1
    assert report.lines[2] == "1 of 2 samples have no prediction in the log (counted as wrong)"


def test_a_non_number_payload_is_wrong_not_a_crash() -> None:
    results = {0: payload(np.nan), 1: payload(np.inf), 2: payload(2)}
    report = score_top1(results, [0, 1, 2], "float32")
    assert report.accuracy_txt == "accuracy=33.333%, good=1, total=3\n"
    assert report.lines[-1] == "2 of 3 samples read as no label -1..1000 in float32 (counted as wrong)"
    with pytest.raises(UsageError, match="not certain: pass --dtype"):  # no reading fits every sample
        score_top1(results, [0, 1, 2])


def test_index_beyond_the_labels_names_the_fix() -> None:
    with pytest.raises(UsageError, match="qsl index 5 but the label list has 3 entries"):
        score_top1({0: payload(1), 5: payload(1)}, [1, 2, 3])


def test_empty_log_is_an_error() -> None:
    with pytest.raises(UsageError, match="no samples"):
        score_top1({}, [1])
