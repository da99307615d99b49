"""ResNet50-v1.5 as a frozen TensorFlow graph with the official interface, built from our torch weights.

Same function and tensor names as the official ``resnet50_v1.pb``: input ``input_tensor:0`` float32
[N,224,224,3] (NHWC), outputs ``ArgMax:0`` int64 [N] and ``softmax_tensor:0`` [N,1001]. Convolutions
pad the way official/resnet's ``conv2d_fixed_padding`` does (explicit symmetric padding when strided,
'SAME' otherwise), the max pool uses 'SAME'.
"""

from __future__ import annotations

from typing import Any

from vision.classification.tf_ops import batch_norm, conv2d, dense, import_tensorflow
from vision.resnet50.model import Bottleneck, ResNet

INPUT = "input_tensor"  # official graph: the input placeholder
ARGMAX = "ArgMax"  # official graph: tf.argmax of the logits
SOFTMAX = "softmax_tensor"  # official graph: tf.nn.softmax of the logits


def _conv_bn(tf: Any, x: Any, conv, norm, name: str, relu: bool) -> Any:
    padding = "FIXED" if conv.stride[0] > 1 else "SAME"
    y = batch_norm(tf, conv2d(tf, x, conv, padding, name), norm, f"{name}/batch_normalization")
    return tf.nn.relu(y, name=f"{name}/Relu") if relu else y


def _bottleneck(tf: Any, x: Any, block: Bottleneck, name: str) -> Any:
    shortcut = x
    if block.downsample is not None:
        shortcut = _conv_bn(tf, x, block.downsample[0], block.downsample[1], f"{name}/projection", False)
    y = _conv_bn(tf, x, block.conv1, block.bn1, f"{name}/conv1", True)
    y = _conv_bn(tf, y, block.conv2, block.bn2, f"{name}/conv2", True)
    y = _conv_bn(tf, y, block.conv3, block.bn3, f"{name}/conv3", False)
    return tf.nn.relu(tf.math.add(y, shortcut, name=f"{name}/add"), name=f"{name}/Relu")


def build_graph_def(model: ResNet) -> Any:
    """The frozen GraphDef of ``model`` (eval mode) with the official tensor names."""
    tf = import_tensorflow()
    model = model.eval()
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 224, 224, 3], name=INPUT)
        y = _conv_bn(tf, x, model.conv1, model.bn1, "resnet_model/initial_conv", True)
        y = tf.nn.max_pool2d(y, 3, 2, "SAME", name="resnet_model/initial_max_pool")
        for stage_index, stage in enumerate((model.layer1, model.layer2, model.layer3, model.layer4), 1):
            for block_index, block in enumerate(stage):
                y = _bottleneck(tf, y, block, f"resnet_model/block_layer{stage_index}/block{block_index}")
        y = tf.math.reduce_mean(y, axis=[1, 2], name="resnet_model/final_reduce_mean")
        logits = dense(tf, y, model.fc, "resnet_model/dense")
        tf.math.argmax(logits, axis=1, output_type=tf.int64, name=ARGMAX)
        tf.nn.softmax(logits, name=SOFTMAX)
    return graph.as_graph_def()
