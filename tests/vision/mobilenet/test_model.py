"""MobileNet-v1 1.0 224: the facts of the published model (parameters, compute, structure)."""

from __future__ import annotations

import torch
from torch import nn

from vision.classification.layers import Conv2dSame
from vision.mobilenet.model import mobilenet_v1


def conv_macs(model: nn.Module, size: int = 224) -> int:
    macs = []

    def count(module: nn.Conv2d, inputs, output: torch.Tensor) -> None:
        macs.append(output.numel() * module.weight[0].numel())

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, size, size))
    for hook in hooks:
        hook.remove()
    return sum(macs)


def test_parameter_counts_with_1001_classes() -> None:
    model = mobilenet_v1()
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert sum(m.weight.numel() + (m.bias.numel() if m.bias is not None else 0) for m in convs) == 4_211_113
    assert sum(m.num_features for m in norms) == 10_944
    assert sum(p.numel() for p in model.parameters()) == 4_233_001  # with batch-norm gamma and beta
    assert sum(p.numel() for p in mobilenet_v1(num_classes=1000).parameters()) == 4_231_976


def test_about_569_mmacs_at_224() -> None:
    assert round(conv_macs(mobilenet_v1()) / 1e6, 1) == 568.7


def test_structure_relu6_tf_same_padding_and_epsilon() -> None:
    model = mobilenet_v1()
    strided = [m for m in model.modules() if isinstance(m, Conv2dSame) and m.stride == (2, 2)]
    assert len(strided) == 5  # the stem and the depthwise convolutions of blocks 2, 4, 6, 12
    assert sum(isinstance(m, nn.ReLU6) for m in model.modules()) == 27
    assert all(m.eps == 1e-3 for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    depthwise = [m for m in model.modules() if isinstance(m, nn.Conv2d) and m.groups > 1]
    assert len(depthwise) == 13 and all(m.groups == m.in_channels == m.out_channels for m in depthwise)
    assert len(model.weight_units()) == 28 and model.weight_units()[-1] == (model.logits, None)
    with torch.no_grad():
        assert model.eval()(torch.zeros(2, 3, 224, 224)).shape == (2, 1001)
