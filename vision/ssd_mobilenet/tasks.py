"""SSD-MobileNet tasks per backend: the official graph interface (onnxruntime, tensorflow) or our
plain-torch model's raw heads with the PyTorch port's post-processing (pytorch)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from common.benchmark import ModelIO
from vision.detection.task import Detections, DetectionTask, batched, ltrb_to_yxyx
from vision.ssd_mobilenet.anchors import ssd_anchors
from vision.ssd_mobilenet.decode import postprocess
from vision.ssd_mobilenet.official_graph import INPUT, OUTPUTS

OFFICIAL_IO = ModelIO(inputs=(INPUT,), outputs=OUTPUTS, layout="NHWC")
TORCH_IO = ModelIO(inputs=("image",), outputs=("class_logits", "box_codes"), layout="NCHW")


def decode_official(outputs: Sequence[np.ndarray]) -> list[Detections]:
    """``num_detections``, ``detection_boxes`` (ymin, xmin, ymax, xmax), ``detection_scores``,
    ``detection_classes`` (COCO ids): the first ``num_detections`` rows of each image, as v0.5."""
    num, boxes, scores, classes = batched(outputs, (1, 3, 2, 2))
    result = []
    for i in range(len(num)):
        k = int(num[i])
        result.append((boxes[i, :k], scores[i, :k], classes[i, :k]))
    return result


class TorchDecoder:
    """The PyTorch port's decoding + NMS on the raw heads (labels are COCO ids already)."""

    def __init__(self) -> None:
        self.anchors = torch.from_numpy(ssd_anchors())

    def __call__(self, outputs: Sequence[np.ndarray]) -> list[Detections]:
        logits, codes = (torch.from_numpy(np.asarray(o)) for o in outputs)
        return [(ltrb_to_yxyx(b), s, c) for b, c, s in postprocess(logits, codes, self.anchors)]


def make_task(backend: str) -> DetectionTask:
    """The task for ``backend``: onnxruntime and tensorflow share the official graph's interface."""
    if backend == "pytorch":
        return DetectionTask(TORCH_IO, TorchDecoder())
    return DetectionTask(OFFICIAL_IO, decode_official)
