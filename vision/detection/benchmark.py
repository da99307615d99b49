"""What SSD-MobileNet and SSD-ResNet34 share as benchmarks: COCO mAP, the samples, official weights."""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import ClassVar

from torch import nn

from common.accuracy.coco_map import coco_map
from common.accuracy.options import ScoreOptions
from common.accuracy.payloads import DETECTION
from common.benchmark import AccuracyReport, Benchmark, Dataset, DatasetOptions
from vision.coco.annotations import annotations_path
from vision.coco.calibration_lists import CALIBRATION_LISTS
from vision.coco.dataset import CocoDataset, Recipe, open_calibration_images
from vision.coco.samples import make_coco_samples
from vision.detection.whole_model import load_weights


def reference_names(state_dict_json: Path) -> list[str]:
    """The official model's state-dict names, in order, from our ``reference_state_dict.json``."""
    return [n for n, _, _ in json.loads(state_dict_json.read_text(encoding="utf-8"))["state_dict"]]


class CocoDetector(Benchmark):
    """A COCO 2017 val detector; subclasses give the model, its task, its input recipe and its export."""

    payload_kind = DETECTION
    reference_state_dict: ClassVar[Path]  # the official ``.pytorch`` file's tensor names and shapes

    @abstractmethod
    def build_model(self) -> nn.Module:
        """Our plain-torch model, with the official state dict's tensors in the reference's order."""

    @abstractmethod
    def recipe(self, options: DatasetOptions) -> Recipe:
        """How an image becomes this model's input for ``options.backend`` (cached part, load-time part)."""

    def open_dataset(self, path: Path, options: DatasetOptions) -> Dataset:
        return CocoDataset(Path(path), self.recipe(options), options)

    def calibration_lists(self) -> Mapping[str, Path]:
        return CALIBRATION_LISTS

    def open_calibration(self, path: Path, names: Sequence[str], options: DatasetOptions) -> Dataset:
        return open_calibration_images(Path(path), names, self.recipe(options), options)

    def score(self, results: Mapping[int, bytes], dataset_path: Path,
              options: ScoreOptions | None = None) -> AccuracyReport:
        return coco_map(results, annotations_path(Path(dataset_path)), options=options)

    def make_samples(self, output: Path) -> Path:
        return make_coco_samples(Path(output) / "coco")

    def load_torch_model(self, model_path: Path) -> nn.Module:
        """Our model with weights from our state dict or the official whole-model ``.pytorch`` pickle."""
        return load_weights(Path(model_path), self.build_model(), reference_names(self.reference_state_dict))
