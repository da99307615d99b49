"""The checker's rules on hand-made folders: accuracy lines and targets, file lists, system fields."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from compliance.definitions import required_audits
from tools.submission import official_rules as official
from tools.submission.check import _accuracy_target
from tools.submission.layout import ACCURACY_FILES, performance_sample_counts, v05_model_names
from tools.submission.system_desc import FIELDS, REQUIRED_FIELDS


@pytest.mark.parametrize(("benchmark", "line", "value", "passes"), [
    ("resnet50", "accuracy=75.695%, good=37848, total=50000", 75.695, False),  # target 76.46 * 0.99 = 75.6954
    ("resnet50", "accuracy=75.696%, good=37848, total=50000", 75.696, True),
    ("mobilenet", "accuracy=70.246%, good=35123, total=50000", 70.246, False),  # 71.68 * 0.98 = 70.2464
    ("ssd-mobilenet", "mAP=21.780%", 21.78, True),  # 22 * 0.99
    ("ssd-resnet34", "mAP=19.799%", 19.799, False),  # 20 * 0.99 = 19.8
    ("gnmt", "BLEU: 23.66", 23.66, False),  # 23.9 * 0.99 = 23.661
    ("gnmt", "BLEU: 23.661", 23.661, True),
])
def test_accuracy_line_against_the_target(benchmark: str, line: str, value: float, passes: bool,
                                          tmp_path: Path) -> None:
    (tmp_path / "accuracy.txt").write_text(f" Average Precision  (AP) @[ IoU=0.50:0.95 ] = 0.5\n{line}\n")
    assert official.accuracy_value(tmp_path) == pytest.approx(value)
    problems = _accuracy_target(official.accuracy_value(tmp_path), benchmark)
    assert (problems == []) is passes
    if not passes:
        assert problems[0].startswith(f"accuracy {value:g}") and "is below the quality target" in problems[0]


def test_file_list_names_missing_and_unexpected(tmp_path: Path) -> None:
    for name in (*ACCURACY_FILES[1:], "results.json", "mlperf_log_trace.json", "notes.txt"):
        (tmp_path / name).write_text("")
    assert official.file_list_problem(tmp_path, ACCURACY_FILES) == \
        "missing mlperf_log_accuracy.json; unexpected notes.txt"
    assert official.file_list_problem(tmp_path / "none", ACCURACY_FILES) == "folder missing"


def test_system_fields(tmp_path: Path) -> None:
    desc = {name: "x" for name in REQUIRED_FIELDS} | {"submitter": "Org", "division": "closed"}
    path = tmp_path / "box.json"
    path.write_text(json.dumps(desc))
    assert official.system_problems(path, "Org", "closed") == []
    path.write_text(json.dumps({**desc, "framework": None, "gpu": "big", "submitter": "Else"}))
    assert official.system_problems(path, "Org", "closed") == [
        "field framework missing", "unknown field gpu", "submitter is 'Else', the folder says 'Org'"]
    assert official.system_problems(path, "Org", "mixed") == ["division 'mixed' is neither of closed, open"]
    assert len(FIELDS) == 32 and len(REQUIRED_FIELDS) == 16  # the v0.5 template: 32 fields, 16 "required"


def test_v05_names_and_audits() -> None:
    """The names and counts each benchmark's definition and mlperf.conf give are the r0.5 checker's table
    (mlcommons/inference v0.5/tools/submission/submission-checker.py, MODELS and their performance counts)."""
    assert v05_model_names() == {"resnet50": "resnet", "mobilenet": "mobilenet", "ssd-mobilenet": "ssd-small",
                                 "ssd-resnet34": "ssd-large", "gnmt": "gnmt"}
    assert performance_sample_counts() == {"mobilenet": 1024, "resnet": 1024, "ssd-small": 256, "ssd-large": 64,
                                           "gnmt": 3903900}
    assert required_audits("gnmt") == ("TEST01", "TEST05")
    assert required_audits("resnet50") == ("TEST01", "TEST04-A", "TEST04-B", "TEST05")


def test_cpuinfo_sockets_and_cores() -> None:
    from tools.submission.system_desc import _cpuinfo

    block = "processor\t: {n}\nmodel name\t: Intel(R) Xeon(R) Platinum 8280 CPU @ 2.70GHz\nphysical id\t: {s}\n" \
            "cpu cores\t: 28\n\n"
    text = "".join(block.format(n=n, s=n // 56) for n in range(112))  # 2 sockets x 28 cores x 2 threads
    assert _cpuinfo(text) == {"model": "Intel(R) Xeon(R) Platinum 8280 CPU @ 2.70GHz", "sockets": 2, "cores": 28}


def test_description_precedence_and_refusals() -> None:
    from common.errors import UsageError
    from tools.submission.system_desc import _storage_type, build_desc

    identity = {"division": "closed", "submitter": "Org", "system_id": "box"}
    told = set(REQUIRED_FIELDS) - {"submitter", "status", "system_name", "framework", "other_software_stack"}
    machine = {name: "machine" for name in told} | {"host_memory_capacity": None}
    desc = build_desc(identity, machine, {"framework": "onnxruntime 1.32.0", "other_software_stack": "Python"},
                      {"status": "available", "host_memory_capacity": "64 GB", "cooling": "air"})
    assert (desc["submitter"], desc["division"], desc["system_name"], desc["host_memory_capacity"],
            desc["framework"], desc["cooling"]) == ("Org", "closed", "box", "64 GB", "onnxruntime 1.32.0", "air")
    with pytest.raises(UsageError, match="submitter is 'Other' but the submission's is 'Org'"):
        build_desc(identity, machine, {}, {"submitter": "Other"})
    with pytest.raises(UsageError) as refused:
        build_desc(identity, {}, {}, {})  # 16 required: the submitter is known, the name defaults to the id
    message = str(refused.value)  # one line naming all 14 (a tmpfs /tmp, /proc: no storage type to tell)
    assert "\n" not in message and message.endswith(" are missing: the machine cannot tell them; set them in the "
                                                     "--system-desc file")
    assert re.findall(r"'(\w+)'", message) == [name for name in REQUIRED_FIELDS
                                               if name not in ("submitter", "system_name")]
    assert _storage_type(Path("/proc")) is None
    with pytest.raises(UsageError, match=r"^systems/box.json: required field 'status' is missing: the machine "
                                         r"cannot tell it; set it in the --system-desc file$"):
        build_desc(identity, machine, {"framework": "f", "other_software_stack": "s"}, {"host_memory_capacity": "1 GB"})
