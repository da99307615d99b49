"""SSD-ResNet34 as a frozen TensorFlow graph with the official TF interface, from our torch weights.

Input ``image:0`` float32 [N, 3, 1200, 1200] (NCHW, as the official ``resnet34_tf.22.1.pb``); outputs
``detection_bboxes:0`` [N, 200, 4] (ymin, xmin, ymax, xmax), ``detection_classes:0`` (labels 1..80) and
``detection_scores:0`` (best first, zero-score padding), plus ``locs:0`` and ``confs:0`` for
cross-checks. Post-processing: the reference's decoding and TF's combined NMS with its thresholds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from common.atomic import atomic_write_bytes
from vision.classification.tf_ops import batch_norm, conv2d, import_tensorflow
from vision.ssd_resnet34.anchors import default_boxes_xywh
from vision.ssd_resnet34.decode import (
    CANDIDATES_PER_LABEL,
    IOU_THRESHOLD,
    MAX_DETECTIONS,
    SCALE_WH,
    SCALE_XY,
    SCORE_THRESHOLD,
)
from vision.ssd_resnet34.model import BasicBlock, SSDResNet34


def _conv(tf: Any, x: Any, conv: nn.Conv2d, name: str) -> Any:
    return conv2d(tf, x, conv, "FIXED", name)  # explicit symmetric padding, as torch


def _block(tf: Any, x: Any, block: BasicBlock, name: str) -> Any:
    shortcut = x
    if block.downsample is not None:
        shortcut = batch_norm(
            tf,
            _conv(tf, x, block.downsample[0], f"{name}/downsample"),
            block.downsample[1],
            f"{name}/downsample/bn",
        )
    y = tf.nn.relu(batch_norm(tf, _conv(tf, x, block.conv1, f"{name}/conv1"), block.bn1, f"{name}/bn1"))
    y = batch_norm(tf, _conv(tf, y, block.conv2, f"{name}/conv2"), block.bn2, f"{name}/bn2")
    return tf.nn.relu(y + shortcut)


def _feature_maps(tf: Any, x: Any, model: SSDResNet34) -> list[Any]:
    net = model.backbone
    y = tf.nn.relu(batch_norm(tf, _conv(tf, x, net.conv1, "conv1"), net.bn1, "bn1"))
    y = tf.nn.max_pool2d(tf.pad(y, [[0, 0], [1, 1], [1, 1], [0, 0]]), 3, 2, "VALID")  # >= 0 after ReLU
    for layer_name in ("layer1", "layer2", "layer3"):
        for index, block in enumerate(getattr(net, layer_name)):
            y = _block(tf, y, block, f"{layer_name}/{index}")
    maps = [y]
    for index, extra in enumerate(model.extras):
        y = tf.nn.relu(_conv(tf, y, extra.reduce, f"extras/{index}/reduce"))
        maps.append(tf.nn.relu(_conv(tf, y, extra.expand, f"extras/{index}/expand")))
        y = maps[-1]
    return maps


def _head(tf: Any, fmap: Any, conv: nn.Conv2d, rows: int, name: str) -> Any:
    """Head output as the torch model's ``view(N, rows, -1)`` of the NCHW map."""
    y = tf.transpose(_conv(tf, fmap, conv, name), [0, 3, 1, 2])
    return tf.reshape(y, [tf.shape(y)[0], rows, -1])


def build_graph_def(model: SSDResNet34) -> Any:
    """The frozen GraphDef of ``model`` with the official TF tensor names."""
    tf = import_tensorflow()
    model = model.eval()
    graph = tf.Graph()
    with graph.as_default():
        image = tf.compat.v1.placeholder(tf.float32, [None, 3, 1200, 1200], name="image")
        maps = _feature_maps(tf, tf.transpose(image, [0, 2, 3, 1]), model)
        pairs = list(enumerate(zip(maps, model.loc, model.conf, strict=True)))
        locs = tf.concat([_head(tf, m, loc, 4, f"loc/{i}") for i, (m, loc, _) in pairs], 2)
        confs = tf.concat([_head(tf, m, conf, model.num_labels, f"conf/{i}") for i, (m, _, conf) in pairs], 2)
        locs, confs = tf.identity(locs, name="locs"), tf.identity(confs, name="confs")
        dboxes = default_boxes_xywh().astype(np.float32)
        codes = tf.transpose(locs, [0, 2, 1])
        cxcy = (np.float32(SCALE_XY) * codes[..., :2]) * dboxes[:, 2:] + dboxes[:, :2]
        wh = tf.math.exp(np.float32(SCALE_WH) * codes[..., 2:]) * dboxes[:, 2:]
        boxes = tf.concat([cxcy[..., ::-1] - 0.5 * wh[..., ::-1], cxcy[..., ::-1] + 0.5 * wh[..., ::-1]], -1)
        scores = tf.nn.softmax(tf.transpose(confs, [0, 2, 1]), axis=-1)[:, :, 1:]  # label 0 is background
        nms = tf.image.combined_non_max_suppression(
            boxes[:, :, None, :],
            scores,
            CANDIDATES_PER_LABEL,
            MAX_DETECTIONS,
            iou_threshold=IOU_THRESHOLD,
            score_threshold=SCORE_THRESHOLD,
            clip_boxes=False,
        )
        tf.identity(nms.nmsed_boxes, name="detection_bboxes")  # (ymin, xmin, ymax, xmax)
        tf.identity(nms.nmsed_classes + 1.0, name="detection_classes")
        tf.identity(nms.nmsed_scores, name="detection_scores")
    return graph.as_graph_def()


def export_frozen_graph(model: SSDResNet34, output: Path) -> Path:
    atomic_write_bytes(Path(output), build_graph_def(model).SerializeToString())
    return Path(output)
