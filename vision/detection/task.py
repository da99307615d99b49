"""The detection task shared by the SSDs: stack samples, decode the backend's outputs, pack payloads."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from common.benchmark import ModelIO, Task
from vision.coco.annotations import ANNOTATIONS_FILE, coco_categories, load_index
from vision.detection.payload import pack_detections

# one image's detections: boxes [K, 4] as (ymin, xmin, ymax, xmax) normalized, scores [K], COCO ids [K]
Detections = tuple[np.ndarray, np.ndarray, np.ndarray]
Decoder = Callable[[Sequence[np.ndarray]], list[Detections]]


class DetectionTask(Task):
    """Pre-stacked samples in, v0.5 detection payloads out; ``decode`` turns outputs into detections."""

    def __init__(self, io: ModelIO, decode: Decoder) -> None:
        self.io = io
        self.decode = decode

    def collate(self, samples: Sequence[np.ndarray] | np.ndarray) -> dict[str, np.ndarray]:
        """The batch: the QSL's view of consecutive rows as it is, else the samples stacked."""
        return {self.io.inputs[0]: samples if isinstance(samples, np.ndarray) else np.stack(samples)}

    def postprocess(self, outputs: Sequence[np.ndarray], indices: Sequence[int]) -> list[bytes]:
        detections = self.decode(outputs)
        return [pack_detections(i, *d) for i, d in zip(indices, detections, strict=True)]


def ltrb_to_yxyx(boxes: np.ndarray) -> np.ndarray:
    """[xmin, ymin, xmax, ymax] -> [ymin, xmin, ymax, xmax]."""
    return np.asarray(boxes).reshape(-1, 4)[:, [1, 0, 3, 2]]


def label_to_category(dataset_path: Path | None) -> np.ndarray:
    """``[0] + sorted category ids`` (v0.5 ``inv_map``): contiguous label 1..80 -> COCO category id."""
    if dataset_path is not None and (Path(dataset_path) / ANNOTATIONS_FILE).is_file():
        ids = sorted(load_index(Path(dataset_path)).category_ids)
    else:
        ids = sorted(c["id"] for c in coco_categories())
    return np.array([0, *ids], dtype=np.int64)


def batched(outputs: Sequence[np.ndarray], dims: Sequence[int]) -> list[np.ndarray]:
    """Add a batch axis to outputs given without one (e.g. a model exported for batch 1)."""
    return [o if np.ndim(o) == d else np.asarray(o)[None] for o, d in zip(outputs, dims, strict=True)]
