"""SSD-MobileNet-v1 in plain torch: the v0.5 PyTorch port of the TF object-detection model.

MobileNet-v1 with TensorFlow 'SAME' padding and ReLU6, batch norm folded into fixed scale/bias buffers
(as the TF-converted weights are), four extra blocks and 1x1 prediction heads on six maps (19, 10, 5,
3, 2, 1 at 300x300). The forward returns the raw heads; decoding and NMS live in ``decode.py``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

NUM_CLASSES = 91  # v0.5 create_mobilenetv1_ssd(91): background + COCO ids 1..90 (some unused)
ANCHORS_PER_LOCATION = (3, 6, 6, 6, 6, 6)  # TF SSD anchor generator: reduced lowest layer, then 6
# (channels, stride) of the 13 depthwise-separable blocks after the first 3x3 conv (MobileNet-v1 1.0)
SEPARABLE_BLOCKS = (
    (64, 1),
    (128, 2),
    (128, 1),
    (256, 2),
    (256, 1),
    (512, 2),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (1024, 2),
    (1024, 1),
)
TAPPED_BLOCKS = (11, 13)  # v0.5 MobileNetV1Base(return_layers=[11, 13]): 19x19x512 and 10x10x1024
EXTRA_CHANNELS = ((1024, 256, 512), (512, 128, 256), (256, 128, 256), (256, 64, 128))  # in, mid, out
HEAD_CHANNELS = (512, 1024, 512, 256, 256, 128)


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TF 'SAME' padding of one axis: (before, after), the odd pixel after (bottom/right)."""
    out = (size + stride - 1) // stride
    total = max(0, (out - 1) * stride + kernel - size)
    return total // 2, total - total // 2


class SameConv2d(nn.Conv2d):
    """A convolution with TensorFlow 'SAME' padding (asymmetric when the total padding is odd)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # int(): the export bakes the pads in as constants (the image size is fixed), as the classifiers' do
        top, bottom = same_padding(int(x.shape[-2]), self.kernel_size[0], self.stride[0])
        left, right = same_padding(int(x.shape[-1]), self.kernel_size[1], self.stride[1])
        x = F.pad(x, (left, right, top, bottom))
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class FrozenAffine(nn.Module):
    """Folded batch norm: ``x * scale + bias`` per channel, held as buffers (not trained)."""

    def __init__(self, channels: int, with_scale: bool = True) -> None:
        super().__init__()
        self.with_scale = with_scale
        if with_scale:
            self.register_buffer("scale", torch.ones(channels))
        self.register_buffer("bias", torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.with_scale:
            x = x * self.scale.view(1, -1, 1, 1)
        return x + self.bias.view(1, -1, 1, 1)


class StemConv(nn.Module):
    """3x3 stride-2 SAME convolution, folded-BN bias, ReLU6."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.conv = SameConv2d(in_channels, out_channels, 3, stride, bias=False)
        self.norm = FrozenAffine(out_channels, with_scale=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu6(self.norm(self.conv(x)))


class SeparableBlock(nn.Module):
    """Depthwise 3x3 SAME conv + folded BN + ReLU6, then pointwise 1x1 conv + folded-BN bias + ReLU6."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.depthwise = SameConv2d(in_channels, in_channels, 3, stride, groups=in_channels, bias=False)
        self.depthwise_norm = FrozenAffine(in_channels)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.pointwise_norm = FrozenAffine(out_channels, with_scale=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self.depthwise_norm(self.depthwise(x)))
        return F.relu6(self.pointwise_norm(self.pointwise(x)))


class MobileNetV1(nn.Module):
    """The backbone: a stem and 13 separable blocks; returns the maps after blocks 11 and 13."""

    def __init__(self, taps: tuple[int, ...] = TAPPED_BLOCKS) -> None:
        super().__init__()
        layers: list[nn.Module] = [StemConv(3, 32, 2)]
        channels = 32
        for out_channels, stride in SEPARABLE_BLOCKS:
            layers.append(SeparableBlock(channels, out_channels, stride))
            channels = out_channels
        self.layers = nn.ModuleList(layers)
        self.taps = taps

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        maps = []
        for index, layer in enumerate(self.layers):
            x = layer(x)
            if index in self.taps:
                maps.append(x)
        return maps


class ExtraBlock(nn.Module):
    """1x1 conv + ReLU6, then 3x3 stride-2 SAME conv + ReLU6 (both with bias)."""

    def __init__(self, in_channels: int, mid_channels: int, out_channels: int) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(in_channels, mid_channels, 1)
        self.expand = SameConv2d(mid_channels, out_channels, 3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu6(self.expand(F.relu6(self.reduce(x))))


class PredictionHead(nn.Module):
    """1x1 class and box convolutions, flattened to TF's anchor order (position-major, slot fastest)."""

    def __init__(self, in_channels: int, num_classes: int, anchors: int) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.classification = nn.Conv2d(in_channels, anchors * num_classes, 1)
        self.regression = nn.Conv2d(in_channels, anchors * 4, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n = x.shape[0]
        logits = self.classification(x).permute(0, 2, 3, 1).reshape(n, -1, self.num_classes)
        codes = self.regression(x).permute(0, 2, 3, 1).reshape(n, -1, 4)
        return logits, codes


class SSDMobileNetV1(nn.Module):
    """SSD-MobileNet-v1: image ``[N, 3, 300, 300]`` normalized to [-1, 1] -> raw heads.

    Returns ``class_logits [N, 1917, 91]`` and ``box_codes [N, 1917, 4]`` (ty, tx, th, tw).
    """

    def __init__(self, num_classes: int = NUM_CLASSES) -> None:
        super().__init__()
        self.backbone = MobileNetV1()
        self.extras = nn.ModuleList(ExtraBlock(*c) for c in EXTRA_CHANNELS)
        self.heads = nn.ModuleList(
            PredictionHead(c, num_classes, a)
            for c, a in zip(HEAD_CHANNELS, ANCHORS_PER_LOCATION, strict=True)
        )

    def feature_maps(self, image: torch.Tensor) -> list[torch.Tensor]:
        maps = self.backbone(image)
        x = maps[-1]
        for block in self.extras:
            x = block(x)
            maps.append(x)
        return maps

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        outputs = [head(m) for head, m in zip(self.heads, self.feature_maps(image), strict=True)]
        logits = torch.cat([o[0] for o in outputs], dim=1)
        codes = torch.cat([o[1] for o in outputs], dim=1)
        return logits, codes
