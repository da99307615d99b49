"""ResNet50-v1.5: the facts of the published model (parameters, compute, structure)."""

from __future__ import annotations

import torch
from torch import nn

from vision.classification.layers import MaxPool2dSame
from vision.resnet50.model import resnet50


def conv_and_linear_macs(model: nn.Module, size: int = 224) -> int:
    macs = []

    def count(module: nn.Module, inputs, output: torch.Tensor) -> None:
        per_output = module.weight[0].numel() if isinstance(module, nn.Conv2d) else module.in_features
        macs.append(output.numel() * per_output)

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, size, size))
    for hook in hooks:
        hook.remove()
    return sum(macs)


def test_parameter_count_with_1001_classes() -> None:
    model = resnet50()
    assert sum(p.numel() for p in model.parameters()) == 25_559_081
    assert sum(p.numel() for p in resnet50(num_classes=1000).parameters()) == 25_557_032


def test_about_4_09_gmacs_at_224() -> None:
    assert round(conv_and_linear_macs(resnet50()) / 1e9, 3) == 4.089


def test_v1_5_stride_on_the_3x3_convolution_and_tf_same_max_pool() -> None:
    model = resnet50()
    for stage in (model.layer2, model.layer3, model.layer4):
        assert stage[0].conv1.stride == (1, 1) and stage[0].conv2.stride == (2, 2)
        assert stage[0].downsample[0].stride == (2, 2)
    assert model.layer1[0].conv2.stride == (1, 1)
    assert isinstance(model.maxpool, MaxPool2dSame)
    assert all(m.eps == 1e-5 for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    assert all(m.bias is None for m in model.modules() if isinstance(m, nn.Conv2d))


def test_weight_units_in_canonical_order() -> None:
    model = resnet50()
    units = model.weight_units()
    assert len(units) == 54  # 53 convolutions with batch norm, the classifier
    first_block = [module for module, _ in units[1:5]]
    block = model.layer1[0]
    assert first_block == [block.downsample[0], block.conv1, block.conv2, block.conv3]  # projection first
    assert units[-1] == (model.fc, None)
    with torch.no_grad():
        assert model.eval()(torch.zeros(2, 3, 224, 224)).shape == (2, 1001)
