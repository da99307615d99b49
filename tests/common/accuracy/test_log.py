"""Reading LoadGen's mlperf_log_accuracy.json: payloads by qsl index, and one clear line for what is not one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from common.accuracy.log import read_accuracy_log
from common.errors import UsageError


def test_payloads_by_index_first_record_wins(tmp_path: Path) -> None:
    log = tmp_path / "mlperf_log_accuracy.json"
    log.write_text(json.dumps([{"seq_id": 0, "qsl_idx": 3, "data": "0000803F"},
                               {"seq_id": 1, "qsl_idx": 1, "data": ""},
                               {"seq_id": 2, "qsl_idx": 3, "data": "00000040"}]))
    assert read_accuracy_log(log) == {3: bytes.fromhex("0000803F"), 1: b""}


@pytest.mark.parametrize(("text", "message"), [
    ('{"qsl_idx": 1}', "a JSON list of records expected, found a dict"),
    ('[{"qsl_idx": 1}]', "record 0 is not a LoadGen accuracy record"),
    ('[{"qsl_idx": 1, "data": "zz"}]', "record 0 is not a LoadGen accuracy record"),
    ("[1, 2]", "record 0 is not a LoadGen accuracy record"),
    ("[{", "not a LoadGen accuracy log"),
])
def test_what_is_not_an_accuracy_log_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    log = tmp_path / "log.json"
    log.write_text(text)
    with pytest.raises(UsageError, match=rf"--log {log}: .*{message}"):
        read_accuracy_log(log)
