"""What ResNet50 and MobileNet share as benchmarks: ImageNet, top-1, the three backends, export."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from common.accuracy.options import ScoreOptions
from common.accuracy.payloads import CLASSIFICATION
from common.accuracy.top1 import score_top1
from common.benchmark import AccuracyReport, Benchmark, Dataset, DatasetOptions, ModelIO, Task
from common.errors import UsageError
from vision.classification.export import IMAGE_SIZE, export_onnx, write_graph_def
from vision.classification.onnx_weights import load_onnx_weights
from vision.classification.outputs import ClassifierOutputs
from vision.classification.random_weights import randomize
from vision.classification.task import ClassificationTask
from vision.imagenet.calibration_lists import CALIBRATION_LISTS
from vision.imagenet.dataset import ImageNetDataset, open_calibration_images
from vision.imagenet.preprocess import Preprocessing
from vision.imagenet.samples import write_samples
from vision.imagenet.val_map import read_val_map

CALIBRATION_IMAGES = 4  # random images that set the batch-norm statistics of random weights


class ImageNetClassifier(Benchmark):
    """An ImageNet classifier with 1001 outputs; subclasses give the model and its official interface."""

    payload_kind = CLASSIFICATION
    preprocessing: ClassVar[Preprocessing]
    input_name: ClassVar[str]  # the official input tensor, NCHW in ONNX, NHWC in the TF graph
    run_outputs: ClassVar[tuple[str, ...]]  # the outputs a run fetches (the first gives the class)
    export_outputs: ClassVar[dict[str, str]]  # every official output: tensor name -> ARGMAX / SOFTMAX

    @abstractmethod
    def build_model(self) -> nn.Module:
        """The plain-torch model (logits out) with a ``weight_units()`` method."""

    @abstractmethod
    def build_graph_def(self, model: nn.Module) -> Any:
        """The frozen TensorFlow GraphDef computing ``model`` with the official tensor names."""

    def model_io(self, backend: str) -> ModelIO:
        layout = "NHWC" if backend == "tensorflow" else "NCHW"
        return ModelIO((self.input_name,), self.run_outputs, layout)

    def make_task(self, backend: str, dataset_path: Path) -> Task:
        return ClassificationTask(self.model_io(backend))

    def open_dataset(self, path: Path, options: DatasetOptions) -> Dataset:
        return ImageNetDataset(path, self.preprocessing, options)

    def calibration_lists(self) -> Mapping[str, Path]:
        return CALIBRATION_LISTS

    def open_calibration(self, path: Path, names: Sequence[str], options: DatasetOptions) -> Dataset:
        return open_calibration_images(path, names, self.preprocessing, options)

    def score(self, results: Mapping[int, bytes], dataset_path: Path,
              options: ScoreOptions | None = None) -> AccuracyReport:
        return score_top1(results, read_val_map(dataset_path).labels, (options or ScoreOptions()).dtype)

    def make_samples(self, output: Path) -> Path:
        return write_samples(output)

    def calibration_batch(self, seed: int) -> torch.Tensor:
        """Random uint8 images, normalized as this model's inputs, NCHW."""
        rng = np.random.default_rng(seed)
        images = rng.integers(0, 256, (CALIBRATION_IMAGES, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
        return torch.from_numpy(self.preprocessing.to_model_input(images, "NCHW"))

    def random_model(self, seed: int = 0) -> nn.Module:
        """The model with seeded random weights (meaningless predictions; for tests and the quick start)."""
        model = self.build_model()
        randomize(model, model.weight_units(), seed, self.calibration_batch(seed))
        return model

    def export_model(self, output: Path, seed: int = 0) -> Path:
        output = Path(output)
        if output.suffix not in (".onnx", ".pb"):
            raise UsageError(f"--output {output}: name a .onnx (onnxruntime, pytorch) or .pb (tensorflow) file")
        model = self.random_model(seed)
        if output.suffix == ".pb":
            return write_graph_def(self.build_graph_def(model), output)
        names = tuple(self.export_outputs)
        return export_onnx(ClassifierOutputs(model, names, self.export_outputs), output, self.input_name, names)

    def load_torch_model(self, model_path: Path) -> nn.Module:
        """Our model with weights from an official-interface .onnx file or a .pt/.pth state dict of it."""
        model_path = Path(model_path)
        model = self.build_model()
        if model_path.suffix == ".onnx":
            load_onnx_weights(model.weight_units(), model_path, self.info.title)
        elif model_path.suffix in (".pt", ".pth"):
            load_state_dict_file(model, model_path)
        else:
            raise UsageError(f"--model {model_path}: the pytorch backend reads a .onnx file with the official "
                             "interface or a .pt/.pth state dict of our model")
        return ClassifierOutputs(model.eval(), self.run_outputs, self.export_outputs)


def load_state_dict_file(model: nn.Module, path: Path) -> None:
    """Load a state dict saved from ``model`` (or from its ClassifierOutputs wrapper)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle and zip errors
        raise UsageError(f"--model {path}: not a torch state dict ({exc})") from exc
    if not isinstance(state, dict):
        raise UsageError(f"--model {path}: holds a {type(state).__name__}, not a state dict")
    state = {key.removeprefix("model."): value for key, value in state.items()}
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # shape mismatches
        raise UsageError(f"--model {path}: not a state dict of this model ({exc})".splitlines()[0]) from exc
    if result.missing_keys or result.unexpected_keys:
        raise UsageError(f"--model {path}: not a state dict of this model (missing {result.missing_keys[:3]}, "
                         f"unexpected {result.unexpected_keys[:3]})")
