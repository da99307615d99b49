"""SSD-MobileNet-v1 as a frozen TensorFlow graph with the official interface, from our torch weights.

Input ``image_tensor:0`` uint8 [N, 300, 300, 3]; outputs ``num_detections:0``, ``detection_boxes:0``
[N, 100, 4] (ymin, xmin, ymax, xmax), ``detection_scores:0``, ``detection_classes:0`` (COCO ids), as the
official ``ssd_mobilenet_v1_coco_2018_01_28.pb``, plus ``class_logits:0`` and ``box_codes:0`` for
cross-checks. Post-processing: sigmoid, the (10, 10, 5, 5) box coder and TF's combined NMS with the
TF pipeline's settings (see ``official_graph.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from common.atomic import atomic_write_bytes
from vision.classification.tf_ops import conv2d, import_tensorflow
from vision.coco.preprocess import MOBILENET_MEAN, MOBILENET_STD
from vision.ssd_mobilenet.anchors import ssd_anchors
from vision.ssd_mobilenet.decode import BOX_CODER_WEIGHTS
from vision.ssd_mobilenet.model import FrozenAffine, SSDMobileNetV1
from vision.ssd_mobilenet.official_graph import (
    GRAPH_IOU_THRESHOLD,
    GRAPH_MAX_DETECTIONS,
    GRAPH_MAX_PER_CLASS,
    GRAPH_SCORE_THRESHOLD,
)


def _affine(tf: Any, x: Any, norm: FrozenAffine, name: str) -> Any:
    if norm.with_scale:
        x = tf.math.multiply(x, norm.scale.numpy(), name=f"{name}/mul")
    return tf.math.add(x, norm.bias.numpy(), name=f"{name}/add")


def _backbone(tf: Any, x: Any, model: SSDMobileNetV1) -> list[Any]:
    stem, *blocks = model.backbone.layers
    y = tf.nn.relu6(
        _affine(tf, conv2d(tf, x, stem.conv, "SAME", "Conv2d_0"), stem.norm, "Conv2d_0/BatchNorm")
    )
    maps = []
    for index, block in enumerate(blocks, 1):
        name = f"Conv2d_{index}"
        y = conv2d(tf, y, block.depthwise, "SAME", f"{name}_depthwise")
        y = tf.nn.relu6(_affine(tf, y, block.depthwise_norm, f"{name}_depthwise/BatchNorm"))
        y = conv2d(tf, y, block.pointwise, "VALID", f"{name}_pointwise")
        y = tf.nn.relu6(_affine(tf, y, block.pointwise_norm, f"{name}_pointwise/BatchNorm"))
        if index in model.backbone.taps:
            maps.append(y)
    for index, extra in enumerate(model.extras, 2):
        y = tf.nn.relu6(conv2d(tf, y, extra.reduce, "VALID", f"Conv2d_13_pointwise_1_Conv2d_{index}_1x1"))
        y = tf.nn.relu6(conv2d(tf, y, extra.expand, "SAME", f"Conv2d_13_pointwise_2_Conv2d_{index}_3x3_s2"))
        maps.append(y)
    return maps


def _decode(tf: Any, codes: Any, anchors: np.ndarray) -> Any:
    """The box coder of ``decode.decode_boxes``; returns [ymin, xmin, ymax, xmax]."""
    wy, wx, wh, ww = BOX_CODER_WEIGHTS
    heights, widths = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
    ctr_y, ctr_x = anchors[:, 0] + 0.5 * heights, anchors[:, 1] + 0.5 * widths
    cy = codes[..., 0] / wy * heights + ctr_y
    cx = codes[..., 1] / wx * widths + ctr_x
    h = tf.math.exp(codes[..., 2] / wh) * heights
    w = tf.math.exp(codes[..., 3] / ww) * widths
    return tf.stack([cy - 0.5 * h, cx - 0.5 * w, cy + 0.5 * h, cx + 0.5 * w], axis=-1)


def build_graph_def(model: SSDMobileNetV1) -> Any:
    """The frozen GraphDef of ``model`` with the official tensor names."""
    tf = import_tensorflow()
    model = model.eval()
    graph = tf.Graph()
    with graph.as_default():
        image = tf.compat.v1.placeholder(tf.uint8, [None, 300, 300, 3], name="image_tensor")
        x = (tf.cast(image, tf.float32) - MOBILENET_MEAN) / MOBILENET_STD
        logits, codes = [], []
        for index, (head, fmap) in enumerate(zip(model.heads, _backbone(tf, x, model), strict=True)):
            n = tf.shape(fmap)[0]
            logits.append(
                tf.reshape(
                    conv2d(tf, fmap, head.classification, "VALID", f"BoxPredictor_{index}/Class"),
                    [n, -1, head.num_classes],
                )
            )
            codes.append(
                tf.reshape(
                    conv2d(tf, fmap, head.regression, "VALID", f"BoxPredictor_{index}/Box"), [n, -1, 4]
                )
            )
        logits = tf.identity(tf.concat(logits, axis=1), name="class_logits")
        codes = tf.identity(tf.concat(codes, axis=1), name="box_codes")
        scores = tf.math.sigmoid(logits)[:, :, 1:]  # class 0 is background
        boxes = _decode(tf, codes, ssd_anchors())
        nms = tf.image.combined_non_max_suppression(
            boxes[:, :, None, :],
            scores,
            GRAPH_MAX_PER_CLASS,
            GRAPH_MAX_DETECTIONS,
            iou_threshold=GRAPH_IOU_THRESHOLD,
            score_threshold=GRAPH_SCORE_THRESHOLD,
            clip_boxes=False,
        )
        tf.identity(tf.cast(nms.valid_detections, tf.float32), name="num_detections")
        tf.identity(nms.nmsed_boxes, name="detection_boxes")
        tf.identity(nms.nmsed_scores, name="detection_scores")
        tf.identity(nms.nmsed_classes + 1.0, name="detection_classes")
    return graph.as_graph_def()


def export_frozen_graph(model: SSDMobileNetV1, output: Path) -> Path:
    atomic_write_bytes(Path(output), build_graph_def(model).SerializeToString())
    return Path(output)
