"""Seeded random-weight SSD-MobileNet files: ONNX and TF graphs with the official interface, state dicts.

Random weights give meaningless detections; they exist to test loading, the tensor interface, the
backends against each other and the harness. The class biases start low (RANDOM_CLASS_BIAS) so that a
random model returns some, not all, boxes above the score threshold.
"""

from __future__ import annotations

import math
from pathlib import Path

import onnx
import torch

from vision.detection.export import export_by_suffix, export_onnx_file
from vision.detection.onnx_branch import branch_on
from vision.ssd_mobilenet.anchors import ssd_anchors
from vision.ssd_mobilenet.model import SSDMobileNetV1
from vision.ssd_mobilenet.official_graph import (
    EXACT_OUTPUTS,
    FAST_OUTPUTS,
    INPUT,
    OUTPUTS,
    RAW_OUTPUTS,
    SHORTLIST_ENOUGH,
    OfficialInterface,
)

RANDOM_CLASS_BIAS = -2.5  # random logits have std ~0.5: a few dozen of 172,530 scores pass 0.3


def random_model(seed: int = 0) -> SSDMobileNetV1:
    """Our model with weights drawn from ``seed`` (folded-BN buffers drawn near identity)."""
    generator = torch.Generator().manual_seed(seed)
    model = SSDMobileNetV1()
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name.endswith(".scale"):
                tensor.copy_(1.0 + 0.1 * torch.randn(tensor.shape, generator=generator))
            elif tensor.dim() > 1:
                fan_in = tensor[0].numel()
                tensor.copy_(torch.randn(tensor.shape, generator=generator) * math.sqrt(2.0 / fan_in))
            else:
                tensor.copy_(0.1 * torch.randn(tensor.shape, generator=generator))
        for head in model.heads:
            head.classification.bias.fill_(RANDOM_CLASS_BIAS)
    return model.eval()


def export_onnx(model: SSDMobileNetV1, output: Path, batch: int = 1) -> Path:
    """One self-contained ONNX file, official interface plus the raw heads (dynamic batch)."""
    wrapper = OfficialInterface(model, torch.from_numpy(ssd_anchors())).eval()
    example = torch.zeros(batch, 300, 300, 3, dtype=torch.uint8)
    traced = [*FAST_OUTPUTS, SHORTLIST_ENOUGH, *EXACT_OUTPUTS, *RAW_OUTPUTS]
    return export_onnx_file(wrapper, example, output, INPUT, traced, rewrite=exact_postprocessing)


def exact_postprocessing(model: onnx.ModelProto) -> onnx.ModelProto:
    """The official outputs from the shortlist's NMS where it keeps 100 boxes, else from the full NMS."""
    return branch_on(model, SHORTLIST_ENOUGH, FAST_OUTPUTS, EXACT_OUTPUTS, OUTPUTS, RAW_OUTPUTS)


def export_frozen_graph(model: SSDMobileNetV1, output: Path) -> Path:
    """The TF frozen graph (TensorFlow is imported only when one is asked for)."""
    from vision.ssd_mobilenet.tf_graph import export_frozen_graph as write_graph

    return write_graph(model, output)


def export_model(output: Path, seed: int = 0) -> Path:
    """Write ``output`` by its suffix: ``.onnx``, ``.pb`` (TF frozen graph) or ``.pt`` (our state dict)."""
    return export_by_suffix(output, seed, random_model, export_onnx, export_frozen_graph)
