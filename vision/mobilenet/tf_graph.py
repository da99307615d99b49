"""MobileNet-v1 as a frozen TensorFlow graph with the official interface, built from our torch weights.

Same function and tensor names as the official ``mobilenet_v1_1.0_224_frozen.pb``: input ``input:0``
float32 [N,224,224,3] (NHWC), output ``MobilenetV1/Predictions/Reshape_1:0`` softmax [N,1001]. All
convolutions use TensorFlow's 'SAME' padding, as TF-slim's MobileNet does.
"""

from __future__ import annotations

from typing import Any

from vision.classification.tf_ops import batch_norm, conv2d, import_tensorflow
from vision.mobilenet.model import ConvBNReLU6, MobileNetV1

INPUT = "input"  # official graph: the input placeholder
SCOPE = "MobilenetV1"  # official graph: TF-slim's variable scope


def _conv_bn_relu6(tf: Any, x: Any, layer: ConvBNReLU6, name: str) -> Any:
    conv, norm = layer.weight_unit()
    y = batch_norm(tf, conv2d(tf, x, conv, "SAME", name), norm, f"{name}/BatchNorm")
    return tf.nn.relu6(y, name=f"{name}/Relu6")


def build_graph_def(model: MobileNetV1) -> Any:
    """The frozen GraphDef of ``model`` (eval mode) with the official tensor names."""
    tf = import_tensorflow()
    model = model.eval()
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 224, 224, 3], name=INPUT)
        y = _conv_bn_relu6(tf, x, model.stem, f"{SCOPE}/{SCOPE}/Conv2d_0")
        for index, block in enumerate(model.blocks, 1):
            y = _conv_bn_relu6(tf, y, block.depthwise, f"{SCOPE}/{SCOPE}/Conv2d_{index}_depthwise")
            y = _conv_bn_relu6(tf, y, block.pointwise, f"{SCOPE}/{SCOPE}/Conv2d_{index}_pointwise")
        y = tf.nn.avg_pool2d(y, 7, 1, "VALID", name=f"{SCOPE}/Logits/AvgPool_1a/AvgPool")
        y = conv2d(tf, y, model.logits, "VALID", f"{SCOPE}/Logits/Conv2d_1c_1x1")
        logits = tf.squeeze(y, [1, 2], name=f"{SCOPE}/Logits/SpatialSqueeze")
        with tf.compat.v1.name_scope(f"{SCOPE}/Predictions/"):  # slim.softmax: reshape, softmax, reshape
            flat = tf.reshape(logits, [-1, logits.shape[-1]], name="Reshape")
            probabilities = tf.nn.softmax(flat, name="Softmax")
            tf.reshape(probabilities, tf.shape(logits), name="Reshape_1")
    return graph.as_graph_def()
