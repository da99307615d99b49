"""Writing models with the official interface: ONNX from torch, frozen GraphDef from TensorFlow."""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from common.atomic import atomic_write_bytes

ONNX_OPSET = 13  # any opset onnxruntime runs; the official files are opset 8 (tf2onnx --opset 8)
IMAGE_SIZE = 224


def export_onnx(module: nn.Module, output: Path, input_name: str, output_names: Sequence[str]) -> Path:
    """Export ``module`` (NCHW float32 in, ``output_names`` out) as one self-contained .onnx file.

    The batch dimension is dynamic. Batch norm stays a BatchNormalization node after each convolution,
    as in the tf2onnx conversion of the official files (an eval-mode export would fold it).
    """
    buffer = io.BytesIO()
    dummy = torch.zeros(1, 3, IMAGE_SIZE, IMAGE_SIZE)
    dynamic = {name: {0: "N"} for name in (input_name, *output_names)}
    with warnings.catch_warnings():  # tracer warnings about shape arithmetic (static H and W are meant)
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), (dummy,), buffer, dynamo=False, input_names=[input_name],
                          output_names=list(output_names), dynamic_axes=dynamic, opset_version=ONNX_OPSET,
                          training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=True)
    atomic_write_bytes(Path(output), buffer.getvalue())
    return Path(output)


def write_graph_def(graph_def: Any, output: Path) -> Path:
    """Write a frozen GraphDef (binary protobuf) atomically."""
    atomic_write_bytes(Path(output), graph_def.SerializeToString())
    return Path(output)
