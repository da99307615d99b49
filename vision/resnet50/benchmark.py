"""ResNet50-v1.5: the facts of the v0.5 benchmark and its model."""

from __future__ import annotations

from typing import Any, ClassVar

import cv2
from torch import nn

from common.benchmark import BenchmarkInfo, QualityTarget
from vision.classification.benchmark import ImageNetClassifier
from vision.classification.outputs import ARGMAX, SOFTMAX
from vision.imagenet.preprocess import Preprocessing, subtract_means
from vision.imagenet.val_map import VAL_IMAGES
from vision.resnet50 import tf_graph
from vision.resnet50.model import resnet50

INFO = BenchmarkInfo(
    name="resnet50",
    submission_model="resnet",  # the v0.5 submission's model name
    title="ResNet50-v1.5",
    dataset="ImageNet 2012 val (224x224)",
    quality=QualityTarget("top-1", 76.46, 0.99),  # v0.5 rules: 99% of FP32 76.46%
    backends=("onnxruntime", "pytorch", "tensorflow"),
    model_files={"onnxruntime": "resnet50_v1.onnx", "pytorch": "resnet50_v1.onnx",
                 "tensorflow": "resnet50_v1.pb"},
    quick_count=32,  # enough for every scenario's quick queries, few enough for a short quick start
    dataset_size=VAL_IMAGES,
)


class ResNet50Benchmark(ImageNetClassifier):
    info: ClassVar[BenchmarkInfo] = INFO
    # v0.5 pre_process_vgg: INTER_AREA resize, RGB mean subtraction
    preprocessing: ClassVar[Preprocessing] = Preprocessing(cv2.INTER_AREA, subtract_means)
    input_name: ClassVar[str] = "input_tensor:0"
    run_outputs: ClassVar[tuple[str, ...]] = ("ArgMax:0",)  # v0.5 profile resnet50-*: outputs ArgMax:0
    export_outputs: ClassVar[dict[str, str]] = {"ArgMax:0": ARGMAX, "softmax_tensor:0": SOFTMAX}

    def build_model(self) -> nn.Module:
        return resnet50()

    def build_graph_def(self, model: nn.Module) -> Any:
        return tf_graph.build_graph_def(model)
