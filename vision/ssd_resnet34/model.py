"""SSD-ResNet34 in plain torch: the v0.5 reference ``SSD_R34(label_num=81)`` at 1200x1200.

ResNet34 stem and layer1..layer3 (layer3's first block at stride 1, so the backbone stride is 8), five
extra blocks, and 3x3 heads that all run at stride 3. The forward returns the raw heads
``locs [N, 4, 15130]`` and ``confs [N, 81, 15130]``; decoding and NMS live in ``decode.py``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

NUM_LABELS = 81  # v0.5 SSD_R34(label_num=81): background + 80 COCO categories
BACKBONE_CHANNELS = 256  # ResNet34 layer3 output
# v0.5 ssd_r34.py _build_additional_features: (in, mid, out, stride, padding) of the 3x3 conv
EXTRA_BLOCKS = (
    (256, 256, 512, 2, 1),
    (512, 256, 512, 2, 1),
    (512, 128, 256, 2, 1),
    (256, 128, 256, 2, 0),
    (256, 128, 256, 1, 0),
)
HEAD_CHANNELS = (256, 512, 512, 256, 256, 256)  # v0.5 SSD_R34.out_chan
BOXES_PER_LOCATION = (4, 6, 6, 6, 4, 4)  # v0.5 SSD_R34.num_defaults
# v0.5 SSD_R34 builds every loc head with strides[0] and every conf head with strides[1] of
# strides=[3, 3, 2, 2, 2, 2], so all six heads run at stride 3 (150, 75, 38, 19, 9, 7 -> 50, 25, 13, 7, 3, 3)
HEAD_STRIDE = 3


class BasicBlock(nn.Module):
    """ResNet basic block: two 3x3 conv + BN, identity or 1x1 conv + BN shortcut."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.downsample: nn.Module | None = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False), nn.BatchNorm2d(out_channels)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + shortcut)


def resnet_layer(in_channels: int, out_channels: int, blocks: int, stride: int) -> nn.Sequential:
    layers = [BasicBlock(in_channels, out_channels, stride)]
    layers += [BasicBlock(out_channels, out_channels, 1) for _ in range(blocks - 1)]
    return nn.Sequential(*layers)


class ResNet34Backbone(nn.Module):
    """conv1/bn1/relu/maxpool, layer1 (3 blocks), layer2 (4, stride 2), layer3 (6, stride 1: the v0.5
    ``_ModifyBlock`` change), giving 256 channels at 1/8 of the input."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.layer1 = resnet_layer(64, 64, 3, 1)
        self.layer2 = resnet_layer(64, 128, 4, 2)
        self.layer3 = resnet_layer(128, 256, 6, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        return self.layer3(self.layer2(self.layer1(x)))


class ExtraBlock(nn.Module):
    """1x1 conv + ReLU, then a 3x3 conv + ReLU (both with bias, no BN)."""

    def __init__(
        self, in_channels: int, mid_channels: int, out_channels: int, stride: int, padding: int
    ) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(in_channels, mid_channels, 1)
        self.expand = nn.Conv2d(mid_channels, out_channels, 3, stride, padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.expand(F.relu(self.reduce(x))))


class SSDResNet34(nn.Module):
    """SSD-ResNet34: image ``[N, 3, 1200, 1200]`` -> ``locs [N, 4, 15130]``, ``confs [N, 81, 15130]``.

    Head channel c is coordinate (or class) ``c // boxes`` and box slot ``c % boxes``; the flattened
    anchor order is slot-major (slot, row, col), as the reference's ``view(N, 4, -1)``.
    """

    def __init__(self, num_labels: int = NUM_LABELS) -> None:
        super().__init__()
        self.num_labels = num_labels
        self.backbone = ResNet34Backbone()
        self.extras = nn.ModuleList(ExtraBlock(*spec) for spec in EXTRA_BLOCKS)
        self.loc = nn.ModuleList(
            nn.Conv2d(c, b * 4, 3, HEAD_STRIDE, 1)
            for c, b in zip(HEAD_CHANNELS, BOXES_PER_LOCATION, strict=True)
        )
        self.conf = nn.ModuleList(
            nn.Conv2d(c, b * num_labels, 3, HEAD_STRIDE, 1)
            for c, b in zip(HEAD_CHANNELS, BOXES_PER_LOCATION, strict=True)
        )

    def feature_maps(self, image: torch.Tensor) -> list[torch.Tensor]:
        maps = [self.backbone(image)]
        for block in self.extras:
            maps.append(block(maps[-1]))
        return maps

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        maps = self.feature_maps(image)
        n = image.shape[0]
        locs = torch.cat([head(m).reshape(n, 4, -1) for head, m in zip(self.loc, maps, strict=True)], dim=2)
        confs = torch.cat(
            [head(m).reshape(n, self.num_labels, -1) for head, m in zip(self.conf, maps, strict=True)], dim=2
        )
        return locs, confs
