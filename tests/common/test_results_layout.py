"""results.json and the printed summary keep the layout the run wrote before its results became types.

The files under data/results_before/ were written by ``mlperf-ref run`` (and the MultiStream search) at
the commit before that change, on the embedded sample data; the same commands run here again and every
key, its order and the kind of every value must agree, as must the summary's lines but for the figures.
Deliberate changes since: the verdict's ``problems`` (the settings that make a run not submittable, from
common/effective_settings.py) replaced the QUICK note, in results.json and in the summary; results.json
records the model file's checksum (``model_sha256``, absent without a model file: the null runs) for the
audits and the submission to match runs by.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from recorded import BEFORE, recorded_text

from common.registry import get_benchmark
from common.samples import export_random_model, make_all_samples
from tools.cli import main

SCENARIOS = ("Offline", "Server", "SingleStream", "MultiStream")


def _kind(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return repr(value) if value is None else "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


# Keys results.json gained since the recordings, the only change allowed: the LoadGen settings the user gave
# (issue 20: the submission writer reads them instead of re-parsing the command line), after "started".
ADDED = {"results": ["user_conf", "target_qps", "samples_per_query"]}


def assert_same_layout(before: Any, after: Any, where: str = "results") -> None:
    """The same keys in the same order at every level (but for the ADDED ones), and values of the same kind."""
    assert _kind(before) == _kind(after), f"{where}: {before!r} then, {after!r} now"
    if isinstance(before, dict):
        added = [key for key in ADDED.get(where, []) if key not in before and "started" in before]
        if added:
            at = list(after).index(added[0])
            assert list(after)[at:at + len(added)] == added and list(after)[at - 1] == "started", list(after)
            after = {key: value for key, value in after.items() if key not in added}
        assert list(before) == list(after), f"{where}: keys {list(before)} then, {list(after)} now"
        for key in before:
            assert_same_layout(before[key], after[key], f"{where}.{key}")
    elif isinstance(before, list) and before and after:
        assert_same_layout(before[0], after[0], f"{where}[0]")


def summary_shape(text: str) -> list[str]:
    """The summary's lines with figures, paths and padding taken out; the 'not submittable:' lines as one
    (how many there are follows what LoadGen logged, e.g. a logger warning that some runs have)."""
    shape = []
    for line in text.strip().splitlines():
        if line.startswith("  not submittable:"):
            if shape and shape[-1] == "not submittable: ...":
                continue
            line = "not submittable: ..."
        line = re.sub(r"/\S+", "PATH", line)
        line = re.sub(r"\d[\d,]*(\.\d+)?", "N", line)
        shape.append(re.sub(r"=+", "=", re.sub(r" +", " ", line)))
    return shape


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("samples")
    make_all_samples(folder, ["mobilenet"])
    return folder


def _run(args: list[str], capsys: pytest.CaptureFixture[str], exit_codes: tuple[int, ...] = (0,)) -> str:
    capsys.readouterr()
    assert main(args) in exit_codes
    return capsys.readouterr().out


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_null_run_keeps_its_layout(samples: Path, tmp_path: Path, scenario: str, capsys) -> None:
    out = tmp_path / "out"
    printed = _run(["run", "resnet50", "--backend", "null", "--scenario", scenario, "--both", "--quick",
                    "--dataset-path", str(samples / "imagenet"), "--output", str(out),
                    "--cache-dir", str(tmp_path / "cache")], capsys)
    before = json.loads((BEFORE / f"null-{scenario}.json").read_text())
    assert_same_layout(before, json.loads((out / "results.json").read_text()))
    summary = BEFORE / f"null-{scenario}.summary.txt"
    if summary.exists():
        assert summary_shape(printed) == summary_shape(recorded_text(summary, tmp_path))


def test_scored_run_keeps_its_layout(samples: Path, tmp_path: Path, capsys) -> None:
    """A classifier through onnxruntime, accuracy and performance (written with ResNet50 then)."""
    model = export_random_model(get_benchmark("mobilenet"), tmp_path / "mobilenet.onnx")
    out = tmp_path / "out"
    printed = _run(["run", "mobilenet", "--backend", "onnxruntime", "--scenario", "Offline", "--both", "--quick",
                    "--model", str(model), "--dataset-path", str(samples / "imagenet"), "--output", str(out),
                    "--cache-dir", str(tmp_path / "cache")], capsys)
    before = json.loads((BEFORE / "ort-r50.json").read_text())
    after = json.loads((out / "results.json").read_text())
    assert after.pop("model_sha256") == hashlib.sha256(model.read_bytes()).hexdigest()
    assert_same_layout(before, after)
    then = summary_shape(recorded_text(BEFORE / "ort-r50.summary.txt", tmp_path))
    now = summary_shape(printed)
    assert now[2:] == then[2:]  # all but the title line, whose model name differs


def test_multistream_search_keeps_its_layout(samples: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "search"
    user = tmp_path / "user.conf"
    user.write_text("*.MultiStream.target_latency = 5\n")  # a 5 ms bound keeps the search to a few trials
    _run(["run", "resnet50", "--backend", "null", "--scenario", "MultiStream", "--find-samples-per-query",
          "--quick", "--dataset-path", str(samples / "imagenet"), "--output", str(out), "--user-conf", str(user),
          "--cache-dir", str(tmp_path / "cache")], capsys, exit_codes=(0, 1))  # 1: a busy machine misses 5 ms
    before = json.loads((BEFORE / "multistream_search.json").read_text())
    assert_same_layout(before, json.loads((out / "multistream_search.json").read_text()))


@pytest.mark.parametrize("name", ["null-Server", "ort-r50", "gnmt-run", "ort-ssdm"])
def test_results_json_reads_back_to_the_same_dict(name: str) -> None:
    """RunResults.from_dict(results.json) serialises to the very same dict (docker's summaries read it)."""
    from common.results import RunResults

    data = json.loads((BEFORE / f"{name}.json").read_text())
    written = RunResults.from_dict(data).to_dict()
    assert {key: written[key] for key in ADDED["results"]} == dict.fromkeys(ADDED["results"])  # not recorded then
    assert {key: value for key, value in written.items() if key not in ADDED["results"]} == data
