"""What the SSD exports share: one self-contained ONNX file, and the file format chosen by the suffix."""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import onnx
import torch
from torch import nn

from common.atomic import atomic_open
from common.errors import UsageError

ONNX_OPSET = 17
MODEL_SUFFIXES = (".onnx", ".pb", ".pt", ".pth")  # ONNX, TF frozen graph, our state dict (.pt / .pth)


def export_onnx_file(
    wrapper: nn.Module,
    example: torch.Tensor,
    output: Path,
    input_name: str,
    output_names: Sequence[str],
    rewrite: Callable[[onnx.ModelProto], onnx.ModelProto] | None = None,
) -> Path:
    """Trace ``wrapper`` on ``example`` into one self-contained ONNX file, every tensor's batch dynamic
    (``rewrite``: a change to the traced graph before it is written)."""
    names = list(output_names)
    traced = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)  # the fixed image shapes are intended
        torch.onnx.export(
            wrapper,
            (example,),
            traced,
            input_names=[input_name],
            output_names=names,
            opset_version=ONNX_OPSET,
            dynamo=False,
            dynamic_axes={input_name: {0: "batch"}, **{n: {0: "batch"} for n in names}},
        )
    data = traced.getvalue()
    if rewrite is not None:
        data = rewrite(onnx.load_from_string(data)).SerializeToString()
    with atomic_open(output, "wb") as handle:
        handle.write(data)
    return output


def export_by_suffix(
    output: Path,
    seed: int,
    random_model: Callable[[int], nn.Module],
    export_onnx: Callable[[nn.Module, Path], Path],
    export_frozen_graph: Callable[[nn.Module, Path], Path],
) -> Path:
    """Write ``output`` by its suffix: ``.onnx``, ``.pb`` (TF frozen graph) or ``.pt`` (our state dict).

    The suffix is checked before the seeded random model is built, so a bad name fails at once.
    """
    output = Path(output)
    if output.suffix not in MODEL_SUFFIXES:
        raise UsageError(f"--output {output}: choose a .onnx, .pb or .pt file name")
    model = random_model(seed)
    if output.suffix == ".onnx":
        return export_onnx(model, output)
    if output.suffix == ".pb":
        return export_frozen_graph(model, output)
    with atomic_open(output, "wb") as handle:  # .pt / .pth
        torch.save(model.state_dict(), handle)
    return output
