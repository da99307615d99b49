"""The GNMT benchmark: v0.5 facts, BLEU scoring of payloads, and end-to-end runs in all four scenarios."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from common.accuracy.bleu import corpus_bleu
from common.accuracy.log import read_accuracy_log
from common.errors import UsageError
from common.registry import get_benchmark
from common.runner import RunConfig, run_benchmark
from translation.gnmt.benchmark import GNMTBenchmark
from translation.gnmt.checkpoint import load_model
from translation.gnmt.dataset import REFERENCE, WMTDataset, read_lines
from translation.gnmt.quantize import DESCRIPTION, to_dynamic_int8
from translation.gnmt.vocab import remove_bpe


def test_v05_facts() -> None:
    info = get_benchmark("gnmt").info
    assert isinstance(get_benchmark("gnmt"), GNMTBenchmark)
    assert info.quality.value == pytest.approx(23.661) and info.quality.unit == ""
    assert (info.server_latency_ms, info.multistream_latency_ms, info.latency_percentile) == (250, 100, 97)
    assert info.performance_sample_count == 3_903_900
    assert info.backends == ("pytorch",)


def test_references_themselves_score_100(wmt16: Path) -> None:
    references = read_lines(wmt16 / REFERENCE)
    payloads = {i: remove_bpe(line).encode() for i, line in enumerate(references)}
    report = GNMTBenchmark().score(payloads, wmt16)
    assert report.value == pytest.approx(100.0) and report.count == 40
    assert report.accuracy_txt == "BLEU: 100.000\n"
    assert report.extra["sacrebleu_13a"] == pytest.approx(100.0)


def test_an_empty_translation_is_one_empty_token_as_in_v05(wmt16: Path) -> None:
    # v0.5 process_accuracy.py splits "" into [""]: the sentence counts (its reference length too), it is
    # not skipped (skipping it would raise the brevity penalty of a SUT that drops hard sentences).
    references = [remove_bpe(line) for line in read_lines(wmt16 / REFERENCE)]
    payloads = {0: references[0].encode(), 1: b""}
    report = GNMTBenchmark().score(payloads, wmt16)
    expected = corpus_bleu([references[0].split(" "), references[1].split(" ")], [references[0].split(" "), [""]])
    assert report.value == pytest.approx(expected.score) and report.value < 100 and report.count == 2
    assert report.extra["empty"] == 1


def test_a_log_beyond_the_references_is_a_usage_error(wmt16: Path) -> None:
    with pytest.raises(UsageError, match="sample 40 is beyond the 40 lines"):
        GNMTBenchmark().score({40: b"x"}, wmt16)


def test_export_model_writes_a_loadable_checkpoint(tmp_path: Path) -> None:
    prefix = GNMTBenchmark().export_model(tmp_path, seed=3)
    assert prefix == tmp_path / "translate.ckpt"
    model = load_model(prefix)
    assert model.config.num_units == 128 and model.config.num_layers == 4


E2E_COUNT = 4  # sentences per end-to-end run (--count), to keep the four runs short


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, wmt16: Path, small_checkpoint: Path) -> dict[str, dict]:
    results = {}
    for scenario in ("SingleStream", "MultiStream", "Server", "Offline"):
        output = tmp_path_factory.mktemp(scenario)
        cfg = RunConfig(benchmark="gnmt", backend="pytorch", scenario=scenario, mode="both",
                        model=small_checkpoint, dataset_path=wmt16, output=output, quick=True,
                        count=E2E_COUNT, max_batchsize=4, threads=2, cache_dir=output / "cache", progress=False)
        results[scenario] = run_benchmark(cfg).to_dict()
    return results


@pytest.mark.parametrize("scenario", ["SingleStream", "MultiStream", "Server", "Offline"])
def test_end_to_end_scenarios(runs: dict[str, dict], scenario: str) -> None:
    result = runs[scenario]
    assert result["performance"]["loadgen"]["metric_value"] > 0
    assert result["performance"]["dataset"]["source"] == "newstest2014.tok.bpe.32000.en.large"
    assert result["accuracy"]["accuracy"]["samples"] == E2E_COUNT
    assert result["random_weights"] is False  # the test checkpoint carries no marker file
    bound = {"Server": 250.0, "MultiStream": 100.0}.get(scenario)
    if bound is not None:  # v0.5 mlperf.conf: gnmt bounds at the 97th percentile
        assert result["performance"]["latency_bound_ms"] == pytest.approx(bound)
        assert result["performance"]["latency_percentile"] == 97.0


def test_accuracy_log_holds_the_models_translations(runs: dict[str, dict], wmt16: Path,
                                                    small_checkpoint: Path) -> None:
    bench = GNMTBenchmark()
    model = load_model(small_checkpoint)
    task = bench.make_task("pytorch", wmt16)
    samples = WMTDataset(wmt16, "accuracy").load(range(E2E_COUNT))
    feeds = task.collate(samples)
    with torch.inference_mode():
        ids, lengths = model(torch.from_numpy(feeds["source"]), torch.from_numpy(feeds["source_length"]))
    expected = task.postprocess([ids.numpy(), lengths.numpy()], list(range(len(samples))))
    assert any(expected) and len(set(expected)) > 1
    for scenario, result in runs.items():
        payloads = read_accuracy_log(Path(result["accuracy"]["log_dir"]) / "mlperf_log_accuracy.json")
        assert [payloads[i] for i in range(len(samples))] == expected, scenario
        score = result["accuracy"]["accuracy"]
        assert score["value"] == pytest.approx(bench.score(payloads, wmt16).value)
        assert (Path(result["accuracy"]["log_dir"]) / "accuracy.txt").read_text().startswith("BLEU: ")
    assert np.all(lengths.numpy() <= 2 * feeds["source_length"])


def test_null_backend_runs_without_a_model(tmp_path: Path, wmt16: Path) -> None:
    cfg = RunConfig(benchmark="gnmt", backend="null", scenario="Offline", mode="performance",
                    dataset_path=wmt16, output=tmp_path, quick=True, cache_dir=tmp_path / "cache", progress=False)
    assert run_benchmark(cfg).performance.loadgen.valid


def test_int8_run_answers_the_int8_models_translations(tmp_path: Path, wmt16: Path, small_checkpoint: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """--precision int8: the dynamic int8 model translates, results.json and the summary say how."""
    cfg = RunConfig(benchmark="gnmt", backend="pytorch", scenario="SingleStream", mode="both", precision="int8",
                    model=small_checkpoint, dataset_path=wmt16, output=tmp_path, quick=True, count=E2E_COUNT,
                    threads=2, cache_dir=tmp_path / "cache", progress=False)
    result = run_benchmark(cfg).to_dict()
    assert result["precision"] == "int8" and result["engine"]["precision"] == "int8"
    assert result["engine"]["quantization"] == DESCRIPTION
    assert f"quantization                    : {DESCRIPTION}" in capsys.readouterr().out
    assert result["performance"]["loadgen"]["metric_value"] > 0
    model = to_dynamic_int8(load_model(small_checkpoint))
    task = GNMTBenchmark().make_task("pytorch", wmt16)
    expected = []
    with torch.inference_mode():  # SingleStream: one sentence a query (an int8 batch shares activation ranges)
        for sample in WMTDataset(wmt16, "accuracy").load(range(E2E_COUNT)):
            feeds = task.collate([sample])
            ids, lengths = model(torch.from_numpy(feeds["source"]), torch.from_numpy(feeds["source_length"]))
            expected += task.postprocess([ids.numpy(), lengths.numpy()], [0])
    payloads = read_accuracy_log(Path(result["accuracy"]["log_dir"]) / "mlperf_log_accuracy.json")
    assert [payloads[i] for i in range(E2E_COUNT)] == expected and any(expected)
