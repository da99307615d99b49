"""ResNet50 and MobileNet end to end through the harness and LoadGen: four scenarios, three backends, the scorer."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from common.accuracy.log import read_accuracy_log
from common.benchmark import DatasetOptions
from common.errors import UsageError
from common.runner import RunConfig, run_benchmark
from common.samples import RANDOM_WEIGHTS_SUFFIX
from tools.cli import main
from vision.imagenet.val_map import read_val_map

COUNT = 4  # samples per end-to-end run: enough for batches of 2 and a known score
SCENARIOS = ["SingleStream", "MultiStream", "Server", "Offline"]
TARGETS = {"resnet50": 75.6954, "mobilenet": 70.2464}  # top-1 targets: 99% of 76.46, 98% of 71.68
PASSES_AT_75 = {"resnet50": False, "mobilenet": True}  # 3 of 4 right against those targets
CRAFTED_LOGS = [  # (model, off-by-one labels of 20, first line, exit code): just under and at the target
    ("resnet50", 5, "accuracy=75.000%, good=15, total=20", 1),  # below 75.6954
    ("resnet50", 4, "accuracy=80.000%, good=16, total=20", 0),
    ("mobilenet", 6, "accuracy=70.000%, good=14, total=20", 1),  # below 70.2464
    ("mobilenet", 5, "accuracy=75.000%, good=15, total=20", 0),
]


def marked(model: Path, folder: Path) -> Path:
    """The model file linked into ``folder`` with export-model's random-weights marker beside it."""
    link = folder / model.name
    link.symlink_to(model)
    Path(f"{link}{RANDOM_WEIGHTS_SUFFIX}").write_text("seeded random weights\n")
    return link


@pytest.fixture(scope="module")
def models(bench, onnx_file: Path, pb_file: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp(f"{bench.info.name}-models")
    onnx_link, pb_link = marked(onnx_file, folder), marked(pb_file, folder)
    return {"onnxruntime": onnx_link, "pytorch": onnx_link, "tensorflow": pb_link}


@pytest.fixture(scope="module")
def predicted(bench, samples: Path, onnx_file: Path, tmp_path_factory) -> list[float]:
    """The labels (argmax - 1) onnxruntime gives the first COUNT images, computed outside the harness."""
    options = DatasetOptions("onnxruntime", "NCHW", tmp_path_factory.mktemp("cache"), 1, COUNT, False)
    batch = np.stack(bench.open_dataset(samples, options).load(range(COUNT)))
    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    (output,) = session.run(list(bench.run_outputs), {bench.input_name: batch})
    classes = output if output.ndim == 1 else output.argmax(1)  # ResNet50 gives ArgMax:0, MobileNet softmax
    return [float(i - 1) for i in classes]


@pytest.fixture(scope="module")
def known_answer(samples: Path, predicted: list[float], tmp_path_factory) -> Path:
    """A copy of the samples whose labels match the model's predictions for 3 of the first 4 images."""
    folder = shutil.copytree(samples, tmp_path_factory.mktemp("known") / "imagenet")
    val_map = read_val_map(folder)
    labels = [int(p) for p in predicted[:3]] + [(int(predicted[3]) + 1) % 1000]
    labels += val_map.labels[COUNT:].tolist()
    (folder / "val_map.txt").write_text("".join(f"{n} {v}\n" for n, v in zip(val_map.names, labels, strict=True)))
    return folder


def run(bench, backend: str, scenario: str, mode: str, models, dataset: Path, output: Path) -> dict:
    return run_benchmark(RunConfig(bench.info.name, backend, scenario, mode=mode, model=models[backend],
                                   dataset_path=dataset, output=output, quick=True, count=COUNT, max_batchsize=2,
                                   progress=False, cache_dir=output / "cache")).to_dict()


def labels_in_log(output: Path) -> dict[int, float]:
    payloads = read_accuracy_log(output / "accuracy" / "mlperf_log_accuracy.json")
    assert all(len(p) == 4 for p in payloads.values())  # one float32 per sample (v0.5)
    return {index: float(np.frombuffer(p, np.float32)[0]) for index, p in payloads.items()}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_scenario_with_accuracy(bench, scenario, models, known_answer, predicted, tmp_path) -> None:
    results = run(bench, "onnxruntime", scenario, "both", models, known_answer, tmp_path)
    assert results["synthetic_data"] is True and results["random_weights"] is True
    assert labels_in_log(tmp_path) == dict(enumerate(predicted))
    accuracy = results["accuracy"]["accuracy"]
    target = TARGETS[bench.info.name]
    assert accuracy["value"] == 75.0 and accuracy["target"] == pytest.approx(target)
    assert bool(accuracy["passed"]) is PASSES_AT_75[bench.info.name]
    assert (tmp_path / "accuracy" / "accuracy.txt").read_text() == "accuracy=75.000%, good=3, total=4\n"
    loadgen = results["performance"]["loadgen"]
    assert loadgen["metric_value"] > 0
    saved = json.loads((tmp_path / "results.json").read_text())
    # v0.5's performance sample count is the one in force, also above the COUNT samples (LoadGen loads each once)
    assert saved["scenario"] == scenario
    assert saved["performance"]["performance_sample_count"] == bench.info.performance_sample_count == 1024


@pytest.mark.parametrize("backend", ["pytorch", "tensorflow"])
def test_other_backends_write_the_same_log(bench, backend, models, samples, predicted, tmp_path) -> None:
    run(bench, backend, "Offline", "accuracy", models, samples, tmp_path)
    assert labels_in_log(tmp_path) == dict(enumerate(predicted))


def crafted_log(path: Path, labels: list[int], wrong: int) -> Path:
    """A LoadGen accuracy log predicting ``labels``, with the first ``wrong`` ones off by one."""
    records = [{"seq_id": i, "qsl_idx": i, "data": np.float32(v + (i < wrong)).tobytes().hex()}
               for i, v in enumerate(labels)]
    path.write_text(json.dumps(records))
    return path


@pytest.mark.parametrize(("name", "wrong", "line", "code"), CRAFTED_LOGS)
def test_accuracy_command_on_a_crafted_log(samples, tmp_path, capsys, name, wrong, line, code) -> None:
    labels = read_val_map(samples).labels.tolist()
    log = crafted_log(tmp_path / "mlperf_log_accuracy.json", labels, wrong)
    assert main(["accuracy", name, "--log", str(log), "--dataset-path", str(samples)]) == code
    out = capsys.readouterr().out.splitlines()
    assert out[0] == line
    verdict = "PASS" if code == 0 else "FAIL"
    assert out[1].startswith("labels read as float32, decided from the payloads (4 bytes per sample;")
    assert out[2].startswith(f"top-1 {line[9:15]}% vs target {TARGETS[name]}%: {verdict}")


def test_unknown_backend_is_refused(bench, samples, tmp_path) -> None:
    with pytest.raises(UsageError, match="--backend tflite"):  # the runner checks before make_task
        run_benchmark(RunConfig(bench.info.name, "tflite", "Offline", dataset_path=samples, output=tmp_path))
    with pytest.raises(UsageError, match=r"name a .onnx .* or .pb"):
        bench.export_model(samples / "model.tflite")
