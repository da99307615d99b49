"""SSD-MobileNet-v1 300x300 on COCO 2017 val: the benchmark description the harness runs."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import ClassVar

from torch import nn

from common.benchmark import BenchmarkInfo, DatasetOptions, QualityTarget, Task
from vision.coco.dataset import Recipe
from vision.coco.preprocess import mobilenet_float_nchw, mobilenet_uint8_nhwc
from vision.coco.verify import EXPECTED_IMAGES
from vision.detection.benchmark import CocoDetector
from vision.ssd_mobilenet import export, tasks
from vision.ssd_mobilenet.model import SSDMobileNetV1

IMAGE_SIZE = 300
REFERENCE_STATE_DICT = Path(__file__).with_name("reference_state_dict.json")  # ssd_mobilenet_v1.pytorch


class SSDMobileNetBenchmark(CocoDetector):
    info = BenchmarkInfo(
        name="ssd-mobilenet",
        submission_model="ssd-small",  # the v0.5 submission's model name
        title="SSD-MobileNet-v1 300x300",
        dataset="COCO 2017 val (300x300)",
        quality=QualityTarget(metric="mAP", reference=22.0, fraction=0.99),
        backends=("onnxruntime", "pytorch", "tensorflow"),
        model_files={
            "onnxruntime": "ssd_mobilenet_v1_coco_2018_01_28.onnx",
            "pytorch": "ssd_mobilenet_v1.pytorch",
            "tensorflow": "ssd_mobilenet_v1_coco_2018_01_28.pb",
        },
        quick_count=16,
        dataset_size=EXPECTED_IMAGES,
    )
    reference_state_dict: ClassVar[Path] = REFERENCE_STATE_DICT

    def build_model(self) -> nn.Module:
        return SSDMobileNetV1()

    def make_task(self, backend: str, dataset_path: Path) -> Task:
        return tasks.make_task(backend)

    def recipe(self, options: DatasetOptions) -> Recipe:
        if options.backend == "pytorch":  # the PyTorch port: float (x - 127.5) / 127.5, NCHW (1.08 MB each)
            return Recipe(
                "coco-300-pt",
                functools.partial(mobilenet_float_nchw, size=IMAGE_SIZE),
                key={"size": IMAGE_SIZE, "layout": "NCHW", "dtype": "float32", "norm": "x/127.5-1"},
            )
        # the official graphs: the float resize truncated to uint8, NHWC (270 KB each)
        return Recipe(
            "coco-300",
            functools.partial(mobilenet_uint8_nhwc, size=IMAGE_SIZE),
            key={"size": IMAGE_SIZE, "layout": "NHWC", "dtype": "uint8"},
        )

    def export_model(self, output: Path, seed: int = 0) -> Path:
        return export.export_model(Path(output), seed)
