"""SSD-ResNet34 1200x1200 on COCO 2017 val: the benchmark description the harness runs."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import ClassVar

from torch import nn

from common.benchmark import BenchmarkInfo, DatasetOptions, QualityTarget, Task
from vision.coco.dataset import Recipe, keep_source
from vision.coco.preprocess import resnet34_float_nchw
from vision.coco.verify import EXPECTED_IMAGES
from vision.detection.benchmark import CocoDetector
from vision.detection.task import label_to_category
from vision.ssd_resnet34 import export, tasks
from vision.ssd_resnet34.model import SSDResNet34

IMAGE_SIZE = 1200
REFERENCE_STATE_DICT = Path(__file__).with_name("reference_state_dict.json")  # resnet34-ssd1200.pytorch


class SSDResNet34Benchmark(CocoDetector):
    info = BenchmarkInfo(
        name="ssd-resnet34",
        submission_model="ssd-large",  # the v0.5 submission's model name
        title="SSD-ResNet34 1200x1200",
        dataset="COCO 2017 val (1200x1200)",
        quality=QualityTarget(metric="mAP", reference=20.0, fraction=0.99),
        backends=("onnxruntime", "pytorch", "tensorflow"),
        model_files={
            "onnxruntime": "resnet34-ssd1200.onnx",
            "pytorch": "resnet34-ssd1200.pytorch",
            "tensorflow": "resnet34_tf.22.1.pb",
        },
        quick_count=2,  # ~216 GMACs per image: a CPU needs seconds for each
        dataset_size=EXPECTED_IMAGES,
    )
    reference_state_dict: ClassVar[Path] = REFERENCE_STATE_DICT

    def build_model(self) -> nn.Module:
        return SSDResNet34()

    def make_task(self, backend: str, dataset_path: Path) -> Task:
        return tasks.make_task(backend, label_to_category(dataset_path))

    def recipe(self, options: DatasetOptions) -> Recipe:
        # The 1200x1200 float32 input is 17.3 MB (86 GB for 5,000 images) and rounding it would change
        # it: the cache keeps the decoded source image (exact, ~0.9 MB) and the QSL resizes and
        # normalizes it when it loads the sample, outside the timed part.
        return Recipe(
            "coco-source",
            keep_source,
            functools.partial(resnet34_float_nchw, size=IMAGE_SIZE),
            key={"decoded": "cv2.imread BGR uint8"},
        )

    def export_model(self, output: Path, seed: int = 0) -> Path:
        return export.export_model(Path(output), seed)
