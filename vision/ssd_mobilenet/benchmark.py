"""SSD-MobileNet-v1 300x300 on COCO 2017 val: the benchmark description the harness runs."""

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
from vision.coco.dataset import CocoDataset, Recipe
from vision.coco.preprocess import mobilenet_float_nchw, mobilenet_uint8_nhwc
from vision.coco.samples import make_coco_samples
from vision.coco.whole_model import load_weights
from vision.ssd_mobilenet import export, tasks
from vision.ssd_mobilenet.model import SSDMobileNetV1

IMAGE_SIZE = 300
REFERENCE_STATE_DICT = Path(__file__).with_name("reference_state_dict.json")


def reference_names() -> list[str]:
    """The official ``ssd_mobilenet_v1.pytorch`` state-dict names, in order."""
    return [n for n, _, _ in json.loads(REFERENCE_STATE_DICT.read_text(encoding="utf-8"))["state_dict"]]


class SSDMobileNetBenchmark(Benchmark):
    info = BenchmarkInfo(
        name="ssd-mobilenet",
        title="SSD-MobileNet-v1 300x300",
        dataset="COCO 2017 val (300x300)",
        quality=QualityTarget(metric="mAP", reference=22.0, fraction=0.99),
        server_latency_ms=10,
        multistream_latency_ms=50,
        latency_percentile=99,
        performance_sample_count=256,
        backends=("onnxruntime", "pytorch", "tensorflow", "null"),
        model_files={
            "onnxruntime": "ssd_mobilenet_v1_coco_2018_01_28.onnx",
            "pytorch": "ssd_mobilenet_v1.pytorch",
            "tensorflow": "ssd_mobilenet_v1_coco_2018_01_28.pb",
        },
        quick_count=16,
    )

    def make_task(self, backend: str, dataset_path: Path) -> Task:
        if backend not in self.info.backends:
            raise UsageError(f"--backend {backend}: ssd-mobilenet runs on {', '.join(self.info.backends)}")
        return tasks.make_task(backend)

    def open_dataset(self, path: Path, options: DatasetOptions) -> Dataset:
        if options.backend == "pytorch":  # the PyTorch port: float (x - 127.5) / 127.5, NCHW (1.08 MB each)
            recipe = Recipe(
                "coco-300-pt",
                functools.partial(mobilenet_float_nchw, size=IMAGE_SIZE),
                key={"size": IMAGE_SIZE, "layout": "NCHW", "dtype": "float32", "norm": "x/127.5-1"},
            )
        else:  # the official graphs: the float resize truncated to uint8, NHWC (270 KB each)
            recipe = Recipe(
                "coco-300",
                functools.partial(mobilenet_uint8_nhwc, size=IMAGE_SIZE),
                key={"size": IMAGE_SIZE, "layout": "NHWC", "dtype": "uint8"},
            )
        return CocoDataset(Path(path), recipe, options)

    def score(self, results: Mapping[int, bytes], dataset_path: Path) -> AccuracyReport:
        return coco_map(results, annotations_path(Path(dataset_path)))

    def make_samples(self, output: Path) -> Path:
        return make_coco_samples(Path(output) / "coco")

    def export_model(self, output: Path, seed: int = 0) -> Path:
        return export.export_model(Path(output), seed)

    def load_torch_model(self, model_path: Path) -> torch.nn.Module:
        return load_weights(Path(model_path), SSDMobileNetV1(), reference_names())
