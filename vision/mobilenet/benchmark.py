"""MobileNet-v1 1.0 224: the facts of the v0.5 benchmark and its model."""

from __future__ import annotations

from typing import Any, ClassVar

import cv2
from torch import nn

from common.benchmark import BenchmarkInfo, QualityTarget
from vision.classification.benchmark import ImageNetClassifier
from vision.classification.outputs import SOFTMAX
from vision.imagenet.preprocess import Preprocessing, scale_to_unit_range
from vision.imagenet.val_map import VAL_IMAGES
from vision.mobilenet import tf_graph
from vision.mobilenet.model import mobilenet_v1

PREDICTIONS = "MobilenetV1/Predictions/Reshape_1:0"  # official graph: softmax [N, 1001]

INFO = BenchmarkInfo(
    name="mobilenet",
    submission_model="mobilenet",  # the v0.5 submission's model name
    title="MobileNet-v1",
    dataset="ImageNet 2012 val (224x224)",
    quality=QualityTarget("top-1", 71.68, 0.98),  # v0.5 rules: 98% of FP32 71.68%
    backends=("onnxruntime", "pytorch", "tensorflow"),
    model_files={"onnxruntime": "mobilenet_v1_1.0_224.onnx", "pytorch": "mobilenet_v1_1.0_224.onnx",
                 "tensorflow": "mobilenet_v1_1.0_224_frozen.pb"},
    quick_count=64,  # about 7x fewer operations per image than ResNet50: more samples in the same time
    dataset_size=VAL_IMAGES,
)


class MobileNetBenchmark(ImageNetClassifier):
    info: ClassVar[BenchmarkInfo] = INFO
    # v0.5 pre_process_mobilenet: INTER_LINEAR resize, x/255, -0.5, x2
    preprocessing: ClassVar[Preprocessing] = Preprocessing(cv2.INTER_LINEAR, scale_to_unit_range)
    input_name: ClassVar[str] = "input:0"
    run_outputs: ClassVar[tuple[str, ...]] = (PREDICTIONS,)  # v0.5 profile mobilenet-*
    export_outputs: ClassVar[dict[str, str]] = {PREDICTIONS: SOFTMAX}

    def build_model(self) -> nn.Module:
        return mobilenet_v1()

    def build_graph_def(self, model: nn.Module) -> Any:
        return tf_graph.build_graph_def(model)
