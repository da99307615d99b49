"""MobileNet-v1 1.0 224 in plain torch, computing the function of the official TF-slim graph.

TF-slim's ``mobilenet_v1``: a 3x3 stride-2 convolution, then 13 depthwise-separable blocks (3x3 depthwise,
1x1 pointwise), each convolution followed by batch norm (epsilon 0.001) and ReLU6, a 7x7 average pool and
a 1x1 convolution with bias to 1001 logits (0 is background). All 3x3 convolutions use TensorFlow's
'SAME' padding, which is asymmetric for the stride-2 ones (:class:`Conv2dSame`).
"""

from __future__ import annotations

import torch
from torch import nn

from vision.classification.layers import Conv2dSame, WeightUnit

NUM_CLASSES = 1001  # official graph: 1000 ImageNet classes plus background at index 0
BN_EPSILON = 1e-3  # slim mobilenet_v1_arg_scope: batch_norm_epsilon=0.001
STEM_CHANNELS = 32  # slim mobilenet_v1 Conv2d_0
# slim mobilenet_v1 MOBILENETV1_CONV_DEFS: (output channels, stride) of the 13 separable blocks
BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1),
          (512, 1), (512, 1), (1024, 2), (1024, 1))


class ConvBNReLU6(nn.Sequential):
    """Conv (TF 'SAME', no bias) -> batch norm -> ReLU6; ``groups=channels`` makes it depthwise."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 groups: int = 1) -> None:
        super().__init__(
            Conv2dSame(in_channels, out_channels, kernel_size, stride, groups=groups),
            nn.BatchNorm2d(out_channels, eps=BN_EPSILON),
            nn.ReLU6(inplace=True),
        )

    def weight_unit(self) -> WeightUnit:
        return self[0], self[1]


class DepthwiseSeparable(nn.Sequential):
    """A 3x3 depthwise convolution (carries the stride) and a 1x1 pointwise convolution."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.depthwise = ConvBNReLU6(in_channels, in_channels, 3, stride, groups=in_channels)
        self.pointwise = ConvBNReLU6(in_channels, out_channels, 1)


class MobileNetV1(nn.Module):
    """MobileNet-v1 with a width multiplier; ``forward`` returns the logits [N, num_classes]."""

    def __init__(self, width: float = 1.0, num_classes: int = NUM_CLASSES) -> None:
        super().__init__()
        channels = int(STEM_CHANNELS * width)
        self.stem = ConvBNReLU6(3, channels, 3, stride=2)
        blocks = []
        for out_channels, stride in BLOCKS:
            blocks.append(DepthwiseSeparable(channels, int(out_channels * width), stride))
            channels = int(out_channels * width)
        self.blocks = nn.Sequential(*blocks)
        self.logits = nn.Conv2d(channels, num_classes, 1, bias=True)  # slim Conv2d_1c_1x1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.stem(x))
        x = x.mean(dim=(2, 3), keepdim=True)  # AvgPool_1a: 7x7 VALID over the 7x7 map at 224
        return torch.flatten(self.logits(x), 1)

    def weight_units(self) -> list[WeightUnit]:
        """Every weight-carrying layer in forward order (a chain, so also the canonical order)."""
        units = [self.stem.weight_unit()]
        for block in self.blocks:
            units += [block.depthwise.weight_unit(), block.pointwise.weight_unit()]
        return [*units, (self.logits, None)]


def mobilenet_v1(num_classes: int = NUM_CLASSES) -> MobileNetV1:
    """MobileNet-v1 1.0 224 as in the MLPerf v0.5 reference (4,233,001 parameters with 1001 classes)."""
    return MobileNetV1(1.0, num_classes)
