"""Seeded random-weight SSD-ResNet34 files: ONNX and TF graphs with the official interface, state dicts.

Random weights give meaningless detections; they exist to test loading, the tensor interface, the
backends against each other and the harness.
"""

from __future__ import annotations

from pathlib import Path

import torch

from vision.detection.export import export_by_suffix, export_onnx_file
from vision.ssd_resnet34.decode import default_boxes
from vision.ssd_resnet34.model import SSDResNet34
from vision.ssd_resnet34.official_graph import INPUT, OUTPUTS, RAW_OUTPUTS, OfficialInterface

RANDOM_CONF_GAIN = 1.5  # spreads the random class logits so that some softmax scores pass 0.05


def random_model(seed: int = 0) -> SSDResNet34:
    """Our model with weights drawn from ``seed``: He-normal convs, BN statistics near identity."""
    generator = torch.Generator().manual_seed(seed)
    model = SSDResNet34()
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name.endswith("num_batches_tracked"):
                continue
            if tensor.dim() > 1:
                fan_in = tensor[0].numel()
                tensor.copy_(torch.randn(tensor.shape, generator=generator) * (2.0 / fan_in) ** 0.5)
            elif name.endswith("running_var"):
                tensor.copy_(1.0 + 0.1 * torch.rand(tensor.shape, generator=generator))
            elif name.endswith("weight"):  # BN gamma: keeps residual sums from growing with depth
                tensor.copy_(0.5 + 0.1 * torch.rand(tensor.shape, generator=generator))
            else:
                tensor.copy_(0.05 * torch.randn(tensor.shape, generator=generator))
        for head in model.conf:
            head.weight.mul_(RANDOM_CONF_GAIN)
    return model.eval()


def export_onnx(model: SSDResNet34, output: Path) -> Path:
    """One self-contained ONNX file: official interface plus the raw heads (dynamic batch)."""
    wrapper = OfficialInterface(model, default_boxes()).eval()
    example = torch.zeros(1, 3, 1200, 1200)
    return export_onnx_file(wrapper, example, output, INPUT, [*OUTPUTS, *RAW_OUTPUTS])


def export_frozen_graph(model: SSDResNet34, output: Path) -> Path:
    """The TF frozen graph (TensorFlow is imported only when one is asked for)."""
    from vision.ssd_resnet34.tf_graph import export_frozen_graph as write_graph

    return write_graph(model, output)


def export_model(output: Path, seed: int = 0) -> Path:
    """Write ``output`` by its suffix: ``.onnx``, ``.pb`` (TF frozen graph) or ``.pt`` (our state dict)."""
    return export_by_suffix(output, seed, random_model, export_onnx, export_frozen_graph)
