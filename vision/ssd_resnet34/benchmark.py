"""SSD-ResNet34 1200x1200 on COCO 2017 val: the benchmark description the harness runs."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path

import torch

from common.accuracy.coco_map import coco_map
from common.benchmark import (
    AccuracyReport,
    Benchmark,
    BenchmarkInfo,
    Dataset,
    DatasetOptions,
    QualityTarget,
    Task,
)
from common.errors import UsageError
from vision.coco.annotations import annotations_path
from vision.coco.dataset import CocoDataset, Recipe, keep_source
from vision.coco.detection_task import label_to_category
from vision.coco.preprocess import resnet34_float_nchw
from vision.coco.samples import make_coco_samples
from vision.coco.whole_model import load_weights
from vision.ssd_resnet34 import export, tasks
from vision.ssd_resnet34.model import SSDResNet34

IMAGE_SIZE = 1200
REFERENCE_STATE_DICT = Path(__file__).with_name("reference_state_dict.json")


def reference_names() -> list[str]:
    """The official ``resnet34-ssd1200.pytorch`` state-dict names, in order."""
    return [n for n, _, _ in json.loads(REFERENCE_STATE_DICT.read_text(encoding="utf-8"))["state_dict"]]


class SSDResNet34Benchmark(Benchmark):
    info = BenchmarkInfo(
        name="ssd-resnet34",
        title="SSD-ResNet34 1200x1200",
        dataset="COCO 2017 val (1200x1200)",
        quality=QualityTarget(metric="mAP", reference=20.0, fraction=0.99),
        server_latency_ms=100,
        multistream_latency_ms=66,
        latency_percentile=99,
        performance_sample_count=64,
        backends=("onnxruntime", "pytorch", "tensorflow", "null"),
        model_files={
            "onnxruntime": "resnet34-ssd1200.onnx",
            "pytorch": "resnet34-ssd1200.pytorch",
            "tensorflow": "resnet34_tf.22.1.pb",
        },
        quick_count=2,  # ~216 GMACs per image: seconds per image on 2 CPU cores
    )

    def make_task(self, backend: str, dataset_path: Path) -> Task:
        if backend not in self.info.backends:
            raise UsageError(f"--backend {backend}: ssd-resnet34 runs on {', '.join(self.info.backends)}")
        return tasks.make_task(backend, label_to_category(dataset_path))

    def open_dataset(self, path: Path, options: DatasetOptions) -> Dataset:
        # The 1200x1200 float32 input is 17.3 MB (86 GB for 5,000 images) and rounding it would change
        # it: the cache keeps the decoded source image (exact, ~0.9 MB) and the QSL resizes and
        # normalizes it when it loads the sample, outside the timed part.
        recipe = Recipe(
            "coco-source",
            keep_source,
            functools.partial(resnet34_float_nchw, size=IMAGE_SIZE),
            key={"decoded": "cv2.imread BGR uint8"},
        )
        return CocoDataset(Path(path), recipe, options)

    def score(self, results: Mapping[int, bytes], dataset_path: Path) -> AccuracyReport:
        return coco_map(results, annotations_path(Path(dataset_path)))

    def make_samples(self, output: Path) -> Path:
        return make_coco_samples(Path(output) / "coco")

    def export_model(self, output: Path, seed: int = 0) -> Path:
        return export.export_model(Path(output), seed)

    def load_torch_model(self, model_path: Path) -> torch.nn.Module:
        return load_weights(Path(model_path), SSDResNet34(), reference_names())
