"""Seeded random-weight SSD-MobileNet files: ONNX and TF graphs with the official interface, state dicts.

Random weights give meaningless detections; they exist to test loading, the tensor interface, the
backends against each other and the harness. The class biases start low (RANDOM_CLASS_BIAS) so that a
random model returns some, not all, boxes above the score threshold.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import torch

from common.atomic import atomic_open
from common.errors import UsageError
from vision.ssd_mobilenet.anchors import ssd_anchors
from vision.ssd_mobilenet.model import SSDMobileNetV1
from vision.ssd_mobilenet.official_graph import INPUT, OUTPUTS, RAW_OUTPUTS, OfficialInterface

RANDOM_CLASS_BIAS = -2.5  # random logits have std ~0.5: a few dozen of 172,530 scores pass 0.3
ONNX_OPSET = 17


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
    names = [*OUTPUTS, *RAW_OUTPUTS]
    with atomic_open(output, "wb") as handle, torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)  # fixed 300x300 shapes are intended
        torch.onnx.export(
            wrapper,
            (example,),
            handle,
            input_names=[INPUT],
            output_names=names,
            opset_version=ONNX_OPSET,
            dynamo=False,
            dynamic_axes={INPUT: {0: "batch"}, **{n: {0: "batch"} for n in names}},
        )
    return output


def export_model(output: Path, seed: int = 0) -> Path:
    """Write ``output`` by its suffix: ``.onnx``, ``.pb`` (TF frozen graph) or ``.pt`` (our state dict)."""
    output = Path(output)
    if output.suffix not in (".onnx", ".pb", ".pt", ".pth"):
        raise UsageError(f"--output {output}: choose a .onnx, .pb or .pt file name")
    model = random_model(seed)
    if output.suffix == ".onnx":
        return export_onnx(model, output)
    if output.suffix == ".pb":
        from vision.ssd_mobilenet.tf_graph import export_frozen_graph

        return export_frozen_graph(model, output)
    with atomic_open(output, "wb") as handle:  # .pt / .pth
        torch.save(model.state_dict(), handle)
    return output
