"""SSD-ResNet34 tasks per backend: the official ONNX (``image`` -> ``bboxes``, ``labels``, ``scores``)
and TF (``image:0`` -> ``detection_bboxes:0`` ...) interfaces, or our torch model's raw heads with the
reference's post-processing (pytorch). Labels 1..80 become COCO ids through ``[0] + sorted ids``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from common.benchmark import ModelIO
from vision.detection.task import Detections, DetectionTask, batched, ltrb_to_yxyx
from vision.ssd_resnet34.decode import SCORE_THRESHOLD, default_boxes, postprocess
from vision.ssd_resnet34.official_graph import INPUT, OUTPUTS

ONNX_IO = ModelIO(inputs=(INPUT,), outputs=OUTPUTS, layout="NCHW")
TF_IO = ModelIO(
    inputs=("image:0",),
    outputs=("detection_bboxes:0", "detection_classes:0", "detection_scores:0"),
    layout="NCHW",
)
TORCH_IO = ModelIO(inputs=("image",), outputs=("locs", "confs"), layout="NCHW")


class GraphDecoder:
    """Official graph outputs: keep every row scoring >= 0.05, in either score order.

    The v0.5 post-processors stop at the first score below the threshold, which drops everything when
    the scores come in ascending order (the PyTorch decoder's order, kept by the ONNX conversion).
    """

    def __init__(self, label_map: np.ndarray, boxes_are_ltrb: bool) -> None:
        self.label_map = label_map
        self.boxes_are_ltrb = boxes_are_ltrb  # ONNX: (xmin, ymin, xmax, ymax); TF: (ymin, xmin, ymax, xmax)

    def __call__(self, outputs: Sequence[np.ndarray]) -> list[Detections]:
        boxes, labels, scores = batched(outputs, (3, 2, 2))
        result = []
        for i in range(len(scores)):
            keep = scores[i] >= SCORE_THRESHOLD
            image_boxes = ltrb_to_yxyx(boxes[i][keep]) if self.boxes_are_ltrb else boxes[i][keep]
            result.append((image_boxes, scores[i][keep], self.label_map[labels[i][keep].astype(np.int64)]))
        return result


class TorchDecoder:
    """The reference's decoding + NMS (quirks kept) on the raw heads."""

    def __init__(self, label_map: np.ndarray) -> None:
        self.label_map = label_map
        self.dboxes = default_boxes()

    def __call__(self, outputs: Sequence[np.ndarray]) -> list[Detections]:
        locs, confs = (torch.from_numpy(np.asarray(o)) for o in outputs)
        return [(ltrb_to_yxyx(b), s, self.label_map[c]) for b, c, s in postprocess(locs, confs, self.dboxes)]


def make_task(backend: str, label_map: np.ndarray) -> DetectionTask:
    """The task for ``backend`` (onnxruntime, tensorflow or pytorch)."""
    if backend == "pytorch":
        return DetectionTask(TORCH_IO, TorchDecoder(label_map))
    if backend == "tensorflow":
        return DetectionTask(TF_IO, GraphDecoder(label_map, boxes_are_ltrb=False))
    return DetectionTask(ONNX_IO, GraphDecoder(label_map, boxes_are_ltrb=True))
