"""TensorFlow 'SAME' padding in torch: where it differs from PyTorch's symmetric padding (quirk pinned)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from vision.classification.layers import Conv2dSame, MaxPool2dSame, tf_same_pads


@pytest.mark.parametrize(("size", "kernel", "stride", "pads"), [
    (112, 3, 2, (0, 1)),  # ResNet50's max pool, MobileNet's stride-2 convolutions: odd pixel after
    (224, 3, 2, (0, 1)),
    (113, 3, 2, (1, 1)),
    (224, 7, 2, (2, 3)),
    (7, 3, 1, (1, 1)),
    (14, 1, 1, (0, 0)),
    (2, 3, 2, (0, 1)),
])
def test_tf_same_pads(size: int, kernel: int, stride: int, pads: tuple[int, int]) -> None:
    assert tf_same_pads(size, kernel, stride) == pads


def test_max_pool_same_differs_from_pytorch_padding() -> None:
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    # TF 'SAME' windows: rows/cols {0,1,2} and {2,3,pad}; PyTorch padding=1: {pad,0,1} and {1,2,3}.
    assert MaxPool2dSame(3, 2)(x).reshape(-1).tolist() == [10.0, 11.0, 14.0, 15.0]
    assert nn.MaxPool2d(3, 2, padding=1)(x).reshape(-1).tolist() == [5.0, 7.0, 13.0, 15.0]
    # Padded cells never win, even over negative values:
    assert MaxPool2dSame(3, 2)(-x).reshape(-1).tolist() == [0.0, -2.0, -8.0, -10.0]


def test_conv_same_pads_bottom_right_for_stride_2() -> None:
    torch.manual_seed(0)
    conv = Conv2dSame(2, 3, 3, stride=2, bias=True)
    x = torch.randn(1, 2, 8, 8)
    expected = F.conv2d(F.pad(x, (0, 1, 0, 1)), conv.weight, conv.bias, stride=2)
    torch.testing.assert_close(conv(x), expected)
    symmetric = F.conv2d(x, conv.weight, conv.bias, stride=2, padding=1)
    assert not torch.allclose(conv(x), symmetric)
    depthwise = Conv2dSame(4, 4, 3, stride=1, groups=4)
    y = torch.randn(1, 4, 5, 5)
    torch.testing.assert_close(depthwise(y), F.conv2d(y, depthwise.weight, None, padding=1, groups=4))
