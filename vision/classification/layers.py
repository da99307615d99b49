"""Layers that make plain torch compute what TensorFlow's graphs compute.

TensorFlow's ``padding='SAME'`` pads ``max(0, (ceil(n/s)-1)*s + k - n)`` pixels in total and puts the odd
pixel at the bottom/right; PyTorch pads symmetrically. For a stride-2 3x3 window over an even size (the
max pool of ResNet50, the stride-2 convolutions of MobileNet) the two differ by one pixel, and a model
with the official weights would compute another function. These layers pad the TensorFlow way.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def tf_same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """(before, after) padding of TensorFlow's 'SAME' for one spatial axis; the odd pixel goes after."""
    total = max(0, (math.ceil(size / stride) - 1) * stride + kernel - size)
    return total // 2, total - total // 2


def pad_tf_same(x: torch.Tensor, kernel: int, stride: int, value: float = 0.0) -> torch.Tensor:
    """Pad an NCHW tensor the way TensorFlow's 'SAME' does for a ``kernel``/``stride`` window."""
    top, bottom = tf_same_pads(int(x.shape[2]), kernel, stride)
    left, right = tf_same_pads(int(x.shape[3]), kernel, stride)
    if not (top or bottom or left or right):
        return x
    return F.pad(x, (left, right, top, bottom), value=value)


class Conv2dSame(nn.Conv2d):
    """nn.Conv2d with TensorFlow's 'SAME' padding (asymmetric where TensorFlow's is)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 groups: int = 1, bias: bool = False) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding=0, groups=groups, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(pad_tf_same(x, self.kernel_size[0], self.stride[0]))


class MaxPool2dSame(nn.Module):
    """Max pooling with TensorFlow's 'SAME' padding: padded cells never win (they hold -inf)."""

    def __init__(self, kernel_size: int, stride: int) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = pad_tf_same(x, self.kernel_size, self.stride, value=float("-inf"))
        return F.max_pool2d(x, self.kernel_size, self.stride)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding=TF-SAME"


# A layer whose weights the ONNX loader fills: the conv (or linear) and the batch norm after it, if any.
WeightUnit = tuple[nn.Conv2d | nn.Linear, nn.BatchNorm2d | None]
