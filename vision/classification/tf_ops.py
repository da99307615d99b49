"""TensorFlow ops built from our torch layers' weights, for frozen graphs with the official interface.

The tests build the official models' function a second time, in TensorFlow, from the same weights, so
that torch, onnxruntime and tensorflow can be checked against each other. Graphs are built in a
``tf.Graph`` (tf.compat.v1 style) with the weights as constants, so the GraphDef is already frozen.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from torch import nn


def import_tensorflow() -> Any:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    return tf


def _const(tf: Any, value: Any, name: str) -> Any:
    array = value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
    return tf.constant(np.ascontiguousarray(array, dtype=np.float32), name=name)


def conv2d(tf: Any, x: Any, conv: nn.Conv2d, padding: str, name: str) -> Any:
    """An NHWC convolution with ``conv``'s weights; ``padding`` "SAME", "VALID" or "FIXED".

    "FIXED" pads ``conv.padding`` pixels on every side, then convolves VALID (official/resnet's
    ``conv2d_fixed_padding``, symmetric like PyTorch). A depthwise ``conv`` (groups == channels) becomes
    a DepthwiseConv2dNative.
    """
    stride = conv.stride[0]
    if padding == "FIXED":
        pad = conv.padding[0]
        if pad:
            x = tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]], name=f"{name}/Pad")
        padding = "VALID"
    weight = conv.weight.detach().cpu().numpy()
    strides = [1, stride, stride, 1]
    if conv.groups == 1:
        kernel = _const(tf, weight.transpose(2, 3, 1, 0), f"{name}/kernel")  # OIHW -> HWIO
        y = tf.nn.conv2d(x, kernel, strides=strides, padding=padding, name=f"{name}/Conv2D")
    elif conv.groups == conv.in_channels == conv.out_channels:
        kernel = _const(tf, weight.transpose(2, 3, 0, 1), f"{name}/depthwise_kernel")  # [C,1,h,w] -> [h,w,C,1]
        y = tf.nn.depthwise_conv2d(x, kernel, strides=strides, padding=padding, name=f"{name}/depthwise")
    else:
        raise ValueError(f"{name}: grouped convolutions other than depthwise are not supported")
    if conv.bias is not None:
        y = tf.nn.bias_add(y, _const(tf, conv.bias, f"{name}/bias"), name=f"{name}/BiasAdd")
    return y


def batch_norm(tf: Any, x: Any, norm: nn.BatchNorm2d, name: str) -> Any:
    """Inference-mode FusedBatchNorm (NHWC) with ``norm``'s statistics."""
    y, _, _ = tf.compat.v1.nn.fused_batch_norm(
        x, _const(tf, norm.weight, f"{name}/gamma"), _const(tf, norm.bias, f"{name}/beta"),
        mean=_const(tf, norm.running_mean, f"{name}/moving_mean"),
        variance=_const(tf, norm.running_var, f"{name}/moving_variance"),
        epsilon=norm.eps, is_training=False, name=f"{name}/FusedBatchNorm",
    )
    return y


def dense(tf: Any, x: Any, linear: nn.Linear, name: str) -> Any:
    """x @ W^T + b, with the kernel stored [in, out] as TensorFlow's dense layer does."""
    kernel = _const(tf, linear.weight.detach().cpu().numpy().T, f"{name}/kernel")
    y = tf.linalg.matmul(x, kernel, name=f"{name}/MatMul")
    return tf.nn.bias_add(y, _const(tf, linear.bias, f"{name}/bias"), name=f"{name}/BiasAdd")
