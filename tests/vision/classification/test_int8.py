"""int8 for the classifiers: calibrate on the sample data's own list, the file it writes (record, interface,
what is quantized), its outputs against fp32, every scenario with --precision int8, and bad input."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from common.benchmark import DatasetOptions
from common.calibration_record import read_record
from common.runner import RunConfig, run_benchmark
from common.samples import RANDOM_WEIGHTS_SUFFIX, SAMPLE_CALIBRATION_LIST, SYNTHETIC_MARKER
from tools.calibration.quantize import interface, quantized_ops
from tools.cli import main
from vision.imagenet.samples import calibration_names

# Outputs of int8 against fp32 on the 20 sample images, random weights. Random logits carry no class
# structure, so top-1 against labels says nothing; what int8 must keep is the function itself. The cosine
# similarity of the centred log-probabilities (the logits up to their per-image constant) measures the
# logit vector's relative error whatever its scale; its median over the images, because calibrating on 8
# other pictures leaves a few images outside the calibrated ranges (ResNet50: one image at 0.63, the rest
# 0.90-0.999). Top-1 agreement shows how often the error moves the arg-max, which near-tied random logits
# make a harsh measure (MobileNet's logits have a standard deviation of 0.76, ResNet50's 7.3). Measured
# here (onnxruntime 1.32, minmax): median cosine 0.965 / 0.995, agreement 0.75 / 0.95 with only the convolutions
# quantized; 0.984 / 0.998 and 0.75 / 1.0 with the activations, adds and pools between them too; calibrating
# MobileNet on the 20 evaluated images themselves gives the same 0.968, so its error is 8-bit resolution,
# not range coverage. The bounds leave room for CPUs where weights get 7 bits (no VNNI, see quantize.py).
MIN_MEDIAN_COSINE = {"mobilenet": 0.93, "resnet50": 0.97}
MIN_TOP1_AGREEMENT = {"mobilenet": 0.5, "resnet50": 0.85}
SOFTMAX = {"mobilenet": "MobilenetV1/Predictions/Reshape_1:0", "resnet50": "softmax_tensor:0"}
SCENARIOS = ["SingleStream", "MultiStream", "Server", "Offline"]
COUNT = 4


@pytest.fixture(scope="module")
def calibrated(bench, onnx_file: Path, samples: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The int8 file calibrate writes from the export, on the sample data's own list, and its cache."""
    folder = tmp_path_factory.mktemp(f"{bench.info.name}-int8")
    files = {"int8": folder / f"{bench.info.name}-int8.onnx", "cache": folder / "cache"}
    assert main(["calibrate", bench.info.name, "--model", str(onnx_file), "--dataset-path", str(samples),
                 "--calibration-list", str(samples / SAMPLE_CALIBRATION_LIST), "--backend", "onnxruntime",
                 "--output", str(files["int8"]), "--cache-dir", str(files["cache"])]) == 0
    return files


def test_the_file_carries_its_record_and_keeps_the_interface(bench, onnx_file, samples, calibrated) -> None:
    record = read_record(calibrated["int8"])
    assert record is not None
    assert (record.benchmark, record.calibration_list, record.images, record.method, record.official) == (
        bench.info.name, SAMPLE_CALIBRATION_LIST, len(calibration_names()), "minmax", False)
    listed = (samples / SAMPLE_CALIBRATION_LIST).read_bytes()
    assert record.calibration_list_sha256 == hashlib.sha256(listed).hexdigest()
    assert "not valid for submission" in record.note and "QDQ" in record.quantization
    assert set(record.tools) >= {"onnxruntime", "onnx"}
    fp32, int8 = onnx.load(str(onnx_file)), onnx.load(str(calibrated["int8"]))
    assert interface(int8) == interface(fp32) == ([bench.input_name], list(bench.export_outputs))
    # the convolutions and what lies between them (ResNet50's residual adds and max pool); the last layer
    # (ResNet50's Gemm, MobileNet's 1x1 conv) stays fp32
    assert quantized_ops(int8) == {"resnet50": {"Conv", "Add", "MaxPool"}, "mobilenet": {"Conv"}}[bench.info.name]
    last = [n for n in int8.graph.node if n.op_type in ("Gemm", "Conv")][-1]
    assert not any(n.op_type == "DequantizeLinear" and n.output[0] == last.input[1] for n in int8.graph.node)
    assert sum(n.op_type == "QuantizeLinear" for n in int8.graph.node) > 10


def test_int8_outputs_follow_fp32(bench, onnx_file, samples, calibrated, tmp_path) -> None:
    options = DatasetOptions("onnxruntime", "NCHW", tmp_path, 1, None, False)
    batch = bench.open_dataset(samples, options).load(range(20))
    name = SOFTMAX[bench.info.name]
    outputs = []
    for model in (onnx_file, calibrated["int8"]):
        session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
        (probabilities,) = session.run([name], {bench.input_name: batch})
        logits = np.log(np.maximum(probabilities, 1e-30))
        outputs.append(logits - logits.mean(axis=1, keepdims=True))
    fp32, int8 = outputs
    cosine = np.sum(fp32 * int8, axis=1) / (np.linalg.norm(fp32, axis=1) * np.linalg.norm(int8, axis=1))
    agreement = float(np.mean(fp32.argmax(1) == int8.argmax(1)))
    print(f"{bench.info.name}: cosine median {np.median(cosine):.4f} min {cosine.min():.4f}, top-1 agreement "
          f"{agreement}")
    assert np.median(cosine) >= MIN_MEDIAN_COSINE[bench.info.name]
    assert agreement >= MIN_TOP1_AGREEMENT[bench.info.name]


def test_a_second_calibration_reuses_the_preprocessed_images(bench, onnx_file, samples, calibrated, tmp_path) -> None:
    entries = sorted(calibrated["cache"].rglob("synthetic_cal_*.npy"))
    assert len(entries) == len(calibration_names())
    stamps = [e.stat().st_mtime_ns for e in entries]
    again = tmp_path / "again.onnx"
    assert main(["calibrate", bench.info.name, "--model", str(onnx_file), "--dataset-path", str(samples),
                 "--calibration-list", str(samples / SAMPLE_CALIBRATION_LIST), "--backend", "openvino",
                 "--output", str(again), "--cache-dir", str(calibrated["cache"])]) == 0
    assert [e.stat().st_mtime_ns for e in entries] == stamps
    assert again.read_bytes() == calibrated["int8"].read_bytes()  # one quantizer for both engines


def run(bench, backend: str, scenario: str, mode: str, model: Path, samples: Path, output: Path) -> dict:
    return run_benchmark(RunConfig(bench.info.name, backend, scenario, mode=mode, model=model, dataset_path=samples,
                                   output=output, quick=True, count=COUNT, max_batchsize=2, precision="int8",
                                   progress=False, cache_dir=output / "cache")).to_dict()


@pytest.mark.parametrize("bench", ["mobilenet"], indirect=True)
@pytest.mark.parametrize("backend", ["onnxruntime", "openvino"])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_scenario_runs_int8(bench, backend, scenario, samples, calibrated, tmp_path, capsys) -> None:
    mode = "both" if scenario == "Offline" else "performance"
    results = run(bench, backend, scenario, mode, calibrated["int8"], samples, tmp_path)
    engine = results["engine"]
    assert engine["precision"] == "int8" and engine["calibration"]["list"] == SAMPLE_CALIBRATION_LIST
    assert engine["calibration"]["official"] is False
    assert results["performance"]["loadgen"]["metric_value"] > 0
    assert results["verdict"]["submittable"] is False
    assert any("not an official v0.5 calibration list" in note for note in results["verdict"]["notes"])
    if mode == "both":
        assert results["accuracy"]["accuracy"]["count"] == COUNT
    summary = capsys.readouterr().out
    assert f"{backend} int8 on cpu" in summary
    assert "int8 calibration" in summary and "NOT an official v0.5 list" in summary
    assert json.loads((tmp_path / "results.json").read_text())["engine"]["calibration"]["images"] == 8


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")
    return err[0]


@pytest.mark.parametrize("bench", ["mobilenet"], indirect=True)
def test_bad_input_to_calibrate(bench, onnx_file, samples, calibrated, tmp_path, capsys) -> None:
    def calibrate(*extra: str, model: Path = onnx_file, dataset: Path = samples) -> int:
        return main(["calibrate", "mobilenet", "--model", str(model), "--dataset-path", str(dataset),
                     "--backend", "onnxruntime", "--output", str(tmp_path / "out.onnx"), *extra])

    text = tmp_path / "model.onnx"
    text.write_text("not a model")
    assert calibrate(model=text) == 2
    assert "not an ONNX file" in one_error_line(capsys)
    assert calibrate(model=calibrated["int8"]) == 2
    assert f"--model {calibrated['int8']}: already quantized" in one_error_line(capsys)
    assert calibrate("--method", "kl") == 2
    assert "argument --method: invalid choice: 'kl'" in one_error_line(capsys)
    assert calibrate("--backend", "tensorflow") == 2
    assert "--backend tensorflow: calibrate writes int8 ONNX files, which onnxruntime, openvino run" in \
        one_error_line(capsys)
    assert calibrate() == 2  # the official list on the sample data: none of its images are there
    assert f"--calibration-list {samples / SAMPLE_CALIBRATION_LIST}" in one_error_line(capsys)
    listed = tmp_path / "list.txt"
    listed.write_text(f"{calibration_names()[0]}\nnot_there.JPEG\n")
    assert calibrate("--calibration-list", str(listed)) == 2
    assert "1 of the 2 calibration images are missing (not_there.JPEG)" in one_error_line(capsys)
    assert not (tmp_path / "out.onnx").exists()


@pytest.mark.parametrize("bench", ["mobilenet"], indirect=True)
def test_an_image_outside_the_official_lists_is_refused_on_real_data(bench, onnx_file, samples, tmp_path,
                                                                     capsys) -> None:
    real = shutil.copytree(samples, tmp_path / "imagenet")
    (real / SYNTHETIC_MARKER).unlink()  # as a real dataset folder
    listed = tmp_path / "list.txt"
    listed.write_text("ILSVRC2012_val_00027145.JPEG\nILSVRC2012_val_00000001.JPEG\n")
    assert main(["calibrate", "mobilenet", "--model", str(onnx_file), "--dataset-path", str(real), "--backend",
                 "openvino", "--calibration-list", str(listed), "--output", str(tmp_path / "o.onnx")]) == 2
    assert ("ILSVRC2012_val_00000001.JPEG is not in the official calibration list option_1" in
            one_error_line(capsys))


@pytest.mark.parametrize("bench", ["mobilenet"], indirect=True)
@pytest.mark.parametrize(("backend", "needle"), [
    ("tensorflow", "--precision int8: the tensorflow backend"),
    ("pytorch", "--precision int8: this benchmark's pytorch model has no dynamic int8 form; int8 for the image "
                "models runs on onnxruntime with a model that 'mlperf-ref calibrate' writes"),
    ("onnxruntime", "is no int8 model from 'mlperf-ref calibrate'; make one first: mlperf-ref calibrate mobilenet"),
    ("openvino", "is no int8 model from 'mlperf-ref calibrate'; make one first: mlperf-ref calibrate mobilenet"),
])
def test_int8_runs_that_cannot_be(bench, onnx_file, samples, tmp_path, capsys, backend, needle) -> None:
    assert main(["run", "mobilenet", "--backend", backend, "--precision", "int8", "--model", str(onnx_file),
                 "--dataset-path", str(samples), "--output", str(tmp_path), "--quick"]) == 2
    assert needle in one_error_line(capsys)


@pytest.mark.parametrize("bench", ["mobilenet"], indirect=True)
@pytest.mark.parametrize("backend", ["onnxruntime", "openvino"])
def test_an_int8_file_run_as_fp32_is_refused(bench, samples, calibrated, tmp_path, capsys, backend) -> None:
    assert main(["run", "mobilenet", "--backend", backend, "--model", str(calibrated["int8"]),
                 "--dataset-path", str(samples), "--output", str(tmp_path), "--quick"]) == 2
    assert "is an int8 model (calibrated on calibration_list.txt); run it with --precision int8" in \
        one_error_line(capsys)


@pytest.mark.parametrize("bench", ["mobilenet"], indirect=True)
def test_calibrate_keeps_the_random_weights_mark(bench, onnx_file, samples, calibrated, tmp_path) -> None:
    """The int8 file made from a random-weights export is marked as its source was (beside it and in its
    record, so a copy of the file alone keeps it), and its runs say random_weights: true."""
    source = tmp_path / "mobilenet_v1_1.0_224.onnx"
    shutil.copy2(onnx_file, source)
    Path(f"{source}{RANDOM_WEIGHTS_SUFFIX}").write_text("seeded random weights (export-model)\n")
    int8 = tmp_path / "int8.onnx"
    assert main(["calibrate", "mobilenet", "--model", str(source), "--dataset-path", str(samples),
                 "--calibration-list", str(samples / SAMPLE_CALIBRATION_LIST), "--backend", "onnxruntime",
                 "--output", str(int8), "--cache-dir", str(calibrated["cache"])]) == 0
    record = read_record(int8)
    assert record.random_weights is True and record.synthetic_data is True
    assert Path(f"{int8}{RANDOM_WEIGHTS_SUFFIX}").is_file()
    assert read_record(calibrated["int8"]).random_weights is False  # its source carries no mark
    alone = tmp_path / "copied" / "int8.onnx"
    alone.parent.mkdir()
    shutil.copy2(int8, alone)  # without the file beside it: the record still says so
    for model in (int8, alone):
        results = run(bench, "onnxruntime", "Offline", "performance", model, samples, tmp_path / model.parent.name)
        assert results["random_weights"] is True, model


@pytest.mark.parametrize("bench", ["mobilenet"], indirect=True)
@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_a_quantized_graph_without_its_record_is_int8(bench, samples, calibrated, tmp_path, capsys, precision) -> None:
    """Metadata stripped, the QDQ graph still says int8: never run and reported as fp32."""
    model = onnx.load(str(calibrated["int8"]))
    del model.metadata_props[:]
    stripped = tmp_path / "stripped.onnx"
    onnx.save(model, str(stripped))
    assert read_record(stripped) is None
    assert main(["run", "mobilenet", "--backend", "onnxruntime", "--model", str(stripped), "--precision", precision,
                 "--dataset-path", str(samples), "--output", str(tmp_path / "out"), "--quick"]) == 2
    line = one_error_line(capsys)
    assert f"--precision {precision}: --model {stripped} is an int8 model by its graph (DequantizeLinear, " \
           f"QuantizeLinear nodes) but carries no record from 'mlperf-ref calibrate'" in line, line
    assert not (tmp_path / "out" / "results.json").exists()
