"""ResNet50-v1.5 in plain torch, computing the function of the official MLPerf graph.

The official model is TensorFlow's ``official/resnet`` ResNet50 v1.5 (the MLPerf training reference):
the stride of a downsampling bottleneck sits on its 3x3 convolution (v1.5), convolutions have no bias,
batch norm has epsilon 1e-5, and the classifier has 1001 outputs (0 is background). Its stride-2 max pool
uses TensorFlow's asymmetric 'SAME' padding; every other convolution pads symmetrically there as here
(``conv2d_fixed_padding``), so only the pool needs :class:`MaxPool2dSame`.
"""

from __future__ import annotations

import torch
from torch import nn

from vision.classification.layers import MaxPool2dSame, WeightUnit

NUM_CLASSES = 1001  # official graph: 1000 ImageNet classes plus background at index 0
BN_EPSILON = 1e-5  # official/resnet resnet_model.py: _BATCH_NORM_EPSILON
LAYERS = (3, 4, 6, 3)  # ResNet50: bottleneck blocks per stage
EXPANSION = 4  # bottleneck output channels = 4 x its width


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPSILON)


class Bottleneck(nn.Module):
    """1x1 -> 3x3 (carries the stride: v1.5) -> 1x1, each with batch norm, plus the shortcut."""

    def __init__(self, in_channels: int, width: int, stride: int = 1) -> None:
        super().__init__()
        out_channels = width * EXPANSION
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = _bn(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = _bn(width)
        self.conv3 = nn.Conv2d(width, out_channels, 1, bias=False)
        self.bn3 = _bn(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample: nn.Sequential | None = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), _bn(out_channels)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + shortcut)

    def weight_units(self) -> list[WeightUnit]:
        """Layers in canonical order: by convolution depth, the wider projection before ``conv1``."""
        units: list[WeightUnit] = []
        if self.downsample is not None:
            units.append((self.downsample[0], self.downsample[1]))
        return [*units, (self.conv1, self.bn1), (self.conv2, self.bn2), (self.conv3, self.bn3)]


class ResNet(nn.Module):
    """ResNet v1.5 with bottleneck blocks; ``forward`` returns the logits [N, num_classes]."""

    def __init__(self, layers: tuple[int, ...] = LAYERS, num_classes: int = NUM_CLASSES) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = _bn(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = MaxPool2dSame(3, 2)  # TF 'SAME': pads bottom/right only on even sizes
        in_channels = 64
        stages = []
        for index, blocks in enumerate(layers):
            width = 64 * 2**index
            stride = 1 if index == 0 else 2
            stage = []
            for block in range(blocks):
                stage.append(Bottleneck(in_channels, width, stride if block == 0 else 1))
                in_channels = width * EXPANSION
            stages.append(nn.Sequential(*stage))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.fc = nn.Linear(in_channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(x.mean(dim=(2, 3)), 1))

    def weight_units(self) -> list[WeightUnit]:
        """Every weight-carrying layer in canonical order (see vision.classification.onnx_weights)."""
        units: list[WeightUnit] = [(self.conv1, self.bn1)]
        for stage in (self.layer1, self.layer2, self.layer3, self.layer4):
            for block in stage:
                units.extend(block.weight_units())
        return [*units, (self.fc, None)]


def resnet50(num_classes: int = NUM_CLASSES) -> ResNet:
    """ResNet50-v1.5 as in the MLPerf v0.5 reference (25,559,081 parameters with 1001 classes)."""
    return ResNet(LAYERS, num_classes)
