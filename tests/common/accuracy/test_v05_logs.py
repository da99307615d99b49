"""'mlperf-ref accuracy' on excerpts of published v0.5 accuracy logs (other SUTs, 2019's LoadGen; origin in
data/v05/README.md): every option of the official scripts, and the figures those scripts print.

The official figures below were printed by the v0.5 scripts themselves (mlcommons/inference a2753110,
v0.5/classification_and_detection/tools/accuracy-imagenet.py and accuracy-coco.py, and
v0.5/translation/gnmt/tensorflow/process_accuracy.py), run from a scratch copy on these same excerpts with
this project's numpy and pycocotools; each test also recomputes its figure without our scorer.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sacrebleu
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from tools.cli import main
from translation.gnmt.dataset import REFERENCE

DATA = Path(__file__).parent / "data" / "v05"
ROOT = Path(__file__).resolve().parents[3]
IMAGENET = ROOT / "vision" / "imagenet"  # the shipped val_map.txt (the 50,000 labels)
COCO_DIR = DATA / "coco"  # synthetic annotations for the 20 images of the ssd-small excerpts


def accuracy(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, list[str], str]:
    code = main(["accuracy", *argv])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def records(name: str) -> list[dict]:
    return json.loads((DATA / name).read_text())


def top1_by_hand(name: str, dtype: str) -> str:
    """accuracy-imagenet.py's line, recomputed here: the first ``dtype`` value of each payload (first record
    of each qsl index) against val_map.txt."""
    labels = [int(line.split()[1]) for line in (IMAGENET / "val_map.txt").read_text().splitlines()]
    first: dict[int, bytes] = {}
    for record in records(name):
        first.setdefault(record["qsl_idx"], bytes.fromhex(record["data"]))
    good = sum(int(np.frombuffer(data, dtype)[0]) == labels[index] for index, data in first.items())
    return f"accuracy={100 * good / len(first):.3f}%, good={good}, total={len(first)}"


@pytest.mark.parametrize(("log", "bench", "official", "dtype", "note"), [
    # NVIDIA T4x8 ResNet50 Offline: int32 labels (official: --dtype int32)
    ("resnet50_int32_nvidia_t4x8_offline.json", "resnet50", "accuracy=79.500%, good=159, total=200", "int32",
     "labels read as int32, decided from the payloads (4 bytes per sample; labels -1..1000 in float32 0.0% of "
     "samples); --dtype overrides"),
    # Tencent ResNet50 Offline: int64 (official: --dtype int64; --dtype int32 prints the same)
    ("resnet50_int64_tencent_offline.json", "resnet50", "accuracy=72.000%, good=144, total=200", "int64",
     "labels read as int64, decided from the payloads (8 bytes per sample; int32 reads the same labels; labels "
     "-1..1000 in float32 0.0% of samples); --dtype overrides"),
    # Intel MobileNet SingleStream: an int32 label, then 4 bytes of garbage (official: --dtype int32; with
    # --dtype int64 it prints accuracy=0.000%, good=0, total=200)
    ("mobilenet_int32_and_4_bytes_intel_singlestream.json", "mobilenet", "accuracy=67.500%, good=135, total=200",
     "int32", "labels read as int32, decided from the payloads (8 bytes per sample: the label, then 4 more bytes "
     "(ignored, as the official script does); labels -1..1000 in float32 0.0%, int64 0.0% of samples); "
     "--dtype overrides"),
    # Habana Goya ResNet50 Offline: float32 (official: the default --dtype float32)
    ("resnet50_float32_habana_offline.json", "resnet50", "accuracy=71.500%, good=143, total=200", "float32",
     "labels read as float32, decided from the payloads (4 bytes per sample; labels -1..1000 in int32 0.0% of "
     "samples); --dtype overrides"),
])
def test_every_label_dtype_is_read_as_accuracy_imagenet_reads_it(capsys, log, bench, official, dtype, note) -> None:
    assert top1_by_hand(log, dtype) == official
    code, out, err = accuracy(capsys, bench, "--log", str(DATA / log), "--dataset-path", str(IMAGENET))
    passed = float(official.split("=")[1].split("%")[0]) >= {"resnet50": 75.6954, "mobilenet": 70.2464}[bench]
    assert (code, out[:2], err) == (0 if passed else 1, [official, note], "")
    code, out, err = accuracy(capsys, bench, "--log", str(DATA / log), "--dataset-path", str(IMAGENET),
                              "--dtype", dtype)
    assert out[:2] == [official, f"labels read as {dtype} (--dtype; {note.split('(', 1)[1].split(';')[0]})"]


def test_a_given_dtype_reads_as_the_official_script_even_where_it_reads_garbage(capsys) -> None:
    # accuracy-imagenet.py --dtype float32 (its default) on NVIDIA's int32 log: accuracy=0.000%, good=0, total=200
    log = str(DATA / "resnet50_int32_nvidia_t4x8_offline.json")
    code, out, _ = accuracy(capsys, "resnet50", "--log", log, "--dataset-path", str(IMAGENET), "--dtype", "float32")
    assert code == 1 and out[0] == "accuracy=0.000%, good=0, total=200" == top1_by_hand(Path(log).name, "float32")
    # int64 on 4-byte payloads: numpy (and so the official script) cannot read them; one line, exit 2
    code, out, err = accuracy(capsys, "resnet50", "--log", log, "--dataset-path", str(IMAGENET), "--dtype", "int64")
    assert (code, out) == (2, [])
    assert err == ("error: --dtype int64: the payloads are 4 bytes per sample, not whole int64 values (8 bytes "
                   "each); accuracy-imagenet.py cannot read them either\n")


def test_where_the_payloads_do_not_tell_the_dtype_one_line_asks_for_it(capsys, tmp_path: Path) -> None:
    log = records("resnet50_int32_nvidia_t4x8_offline.json")
    log[5]["data"] = np.int32(5000).tobytes().hex()  # one label out of every range: no dtype is certain
    path = tmp_path / "mlperf_log_accuracy.json"
    path.write_text(json.dumps(log))
    code, out, err = accuracy(capsys, "resnet50", "--log", str(path), "--dataset-path", str(IMAGENET))
    assert (code, out) == (2, [])
    assert err == (f"error: --log {path}: the payloads are 4 bytes per sample; no dtype reads every sample as a "
                   "label -1..1000 (as labels: float32 0.0%, int32 99.5% of samples), so which one the "
                   "SUT wrote is not certain: pass --dtype float32|int32|int64 to score it as accuracy-imagenet.py "
                   "would\n")
    code, out, _ = accuracy(capsys, "resnet50", "--log", str(path), "--dataset-path", str(IMAGENET), "--dtype", "int32")
    assert code == 0 and out[0] == "accuracy=79.000%, good=158, total=200"  # the changed sample was right


def test_an_option_of_another_script_is_refused(capsys) -> None:
    code, out, err = accuracy(capsys, "resnet50", "--log", str(DATA / "resnet50_float32_habana_offline.json"),
                              "--dataset-path", str(IMAGENET), "--use-inv-map")
    assert (code, out) == (2, [])
    assert err == ("error: --use-inv-map is an option of accuracy-coco.py (ssd-mobilenet, ssd-resnet34), not of "
                   "resnet50's scorer; drop it\n")


def coco_map_by_hand(log: str) -> float:
    """accuracy-coco.py's computation, done here with pycocotools: qsl i is image i of the annotation file."""
    with contextlib.redirect_stdout(io.StringIO()):
        ground_truth = COCO(str(COCO_DIR / "annotations" / "instances_val2017.json"))
        images = ground_truth.dataset["images"]
        found, image_ids = [], set()
        for record in records(log):
            image = images[record["qsl_idx"]]
            image_ids.add(image["id"])
            rows = np.frombuffer(bytes.fromhex(record["data"]), np.float32).reshape(-1, 7).astype(np.float64)
            for _, ymin, xmin, ymax, xmax, score, label in rows:
                found.append({"image_id": image["id"], "category_id": int(label), "score": float(score),
                              "bbox": [xmin * image["width"], ymin * image["height"], (xmax - xmin) * image["width"],
                                       (ymax - ymin) * image["height"]]})
        evaluator = COCOeval(ground_truth, ground_truth.loadRes(found), iouType="bbox")
        evaluator.params.imgIds = sorted(image_ids)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return 100 * evaluator.stats[0]


@pytest.mark.parametrize(("log", "options"), [
    ("ssd_mobilenet_nvidia_t4x8_offline.json", []),
    # the same detections with contiguous classes 1..80 (SSD-ResNet34's form), read back by --use-inv-map
    ("ssd_mobilenet_nvidia_t4x8_offline_contiguous_labels.json", ["--use-inv-map"]),
    # the same detections indexed as for a dataset without the images that have no annotations
    ("ssd_mobilenet_nvidia_t4x8_offline_without_empty_images.json", ["--remove-48-empty-images"]),
])
def test_the_coco_options_give_accuracy_coco_pys_figure(capsys, tmp_path: Path, log, options) -> None:
    # accuracy-coco.py printed mAP=85.320% for each of the three (with the same options)
    assert f"{coco_map_by_hand('ssd_mobilenet_nvidia_t4x8_offline.json'):.3f}" == "85.320"
    output = tmp_path / "results" / "coco-results.json"
    code, out, err = accuracy(capsys, "ssd-mobilenet", "--log", str(DATA / log), "--dataset-path", str(COCO_DIR),
                              *options, "--output-file", str(output))
    assert code == 0 and err == "" and out[12] == "mAP=85.320%"
    written = json.loads(output.read_text())
    assert len(written) == 141 and {"image_id", "category_id", "bbox", "score"} == set(written[0])
    assert f"detections written to {output} (COCO results JSON)" in out
    assert not [p for p in output.parent.iterdir() if p != output]  # no temporary file left beside it
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools reads it as a results file
        assert len(COCO(str(COCO_DIR / "annotations" / "instances_val2017.json")).loadRes(str(output)).anns) == 141


def test_detections_that_name_another_sample_count_for_loadgens_as_in_accuracy_coco_py(capsys) -> None:
    # Intel's Windows SUT wrote garbage (2.58e12) as the index of some detections; accuracy-coco.py prints an
    # ERROR line for each of the 145 and then mAP=55.527%
    log = "ssd_mobilenet_intel_windows_singlestream.json"
    code, out, err = accuracy(capsys, "ssd-mobilenet", "--log", str(DATA / log), "--dataset-path", str(COCO_DIR))
    assert code == 0 and err == ""
    assert out[12:14] == ["mAP=55.527%", "145 detections carry another sample index than LoadGen's qsl_idx: scored "
                          "as LoadGen's sample, as accuracy-coco.py does (it prints an ERROR line for each)"]
    assert f"{coco_map_by_hand(log):.3f}" == "55.527"


def test_gnmt_scores_as_process_accuracy_py_with_nothing_on_stderr(tmp_path: Path) -> None:
    # NVIDIA's 150 translations of newstest2014 sentences 0..149, scored against Google's translations of the
    # same sentences as the reference (the WMT reference is not here; the scoring is the same):
    # process_accuracy.py prints BLEU: 82.5. 137 of the 150 end in " .", which made sacreBLEU warn.
    reference = {r["qsl_idx"]: bytes.fromhex(r["data"]).decode() for r in records("gnmt_google_tpu_offline.json")}
    (tmp_path / REFERENCE).write_text("".join(f"{reference[i]}\n" for i in range(len(reference))), encoding="utf-8")
    log = DATA / "gnmt_nvidia_t4x8_offline.json"
    translations = {r["qsl_idx"]: bytes.fromhex(r["data"]).decode() for r in records(log.name)}
    by_sacrebleu = sacrebleu.corpus_bleu([translations[i] for i in sorted(translations)],
                                         [[reference[i] for i in sorted(translations)]],
                                         tokenize="none", smooth_method="none", force=True).score
    # a process of its own: stderr as a user sees it (pytest would capture library logging in-process)
    done = subprocess.run([sys.executable, "-m", "tools.cli", "accuracy", "gnmt", "--log", str(log),
                           "--dataset-path", str(tmp_path)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.stderr == "" and done.returncode == 0
    assert done.stdout.startswith(f"BLEU: {by_sacrebleu:.3f} (process_accuracy.py prints BLEU: 82.5;")
