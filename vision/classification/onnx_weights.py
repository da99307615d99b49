"""Weights for our plain-torch models, read from an ONNX file with the official interface.

The initializer names of the official files are not known here, so layers are matched by position and
shape. Each weight-carrying node (Conv, Gemm, or MatMul with a constant operand) becomes one
:class:`OnnxLayer`, together with the per-channel arithmetic that directly follows it: a
BatchNormalization node, Mul/Add by constants (batch norm written out), Identity. Both forms a converter
may write are therefore read:

* convolution without bias followed by BatchNormalization (tf2onnx's FusedBatchNorm conversion, and our
  own export): the batch-norm statistics are copied as they are;
* batch norm folded into the convolution's weight and bias (``--fold_const``-style optimizers, torch's
  eval-mode export), or written as Mul/Add: the per-channel scale is folded into the weight and the shift
  becomes the batch norm's bias, with the batch norm made an identity otherwise.

Layers are put in a canonical order, independent of how a converter happened to order independent
branches: by *convolution depth* (the most weight layers on any path from the input before it), then
wider output first, then graph position. In a ResNet bottleneck with a projection this puts the
projection (4x wider, same depth as ``conv1``) first, which is also what ``weight_units()`` of our
models returns; the position alone could not tell the projection from the block's last 1x1 convolution
(same shape in ``layer1.0``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from common.errors import UsageError
from vision.classification.layers import WeightUnit

_WEIGHT_OPS = ("Conv", "Gemm", "MatMul")


@dataclass
class BatchNormParams:
    scale: np.ndarray
    shift: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    epsilon: float


@dataclass
class OnnxLayer:
    """One weight-carrying node and the per-channel arithmetic right after it."""

    name: str  # the node name (or its output name), for error messages
    op: str  # "Conv" or "Linear"
    weight: np.ndarray  # in torch layout: OIHW for Conv, [out, in] for Linear
    bias: np.ndarray | None
    stride: tuple[int, ...] | None  # Conv strides
    groups: int
    position: int  # index of the node in the graph
    depth: int = 0  # weight layers on the longest path from the input before this one
    batch_norm: BatchNormParams | None = None  # set when exactly one BatchNormalization follows
    post_ops: list[tuple[str, np.ndarray | BatchNormParams]] = field(default_factory=list)

    @property
    def out_channels(self) -> int:
        return int(self.weight.shape[0])

    def affine(self) -> tuple[np.ndarray, np.ndarray]:
        """The per-channel (scale, shift) that bias and post-ops apply to the bias-free output."""
        channels = self.out_channels
        scale = np.ones(channels, np.float64)
        shift = np.zeros(channels, np.float64) if self.bias is None else self.bias.astype(np.float64)
        for op, value in self.post_ops:
            if op == "BatchNormalization":
                assert isinstance(value, BatchNormParams)
                factor = value.scale / np.sqrt(value.var.astype(np.float64) + value.epsilon)
                scale, shift = scale * factor, (shift - value.mean) * factor + value.shift
            elif op == "Mul":
                scale, shift = scale * value, shift * value
            else:  # Add
                shift = shift + value
        return scale, shift


def _constants(graph) -> dict[str, np.ndarray]:
    """Initializers, Constant nodes and Identity copies of them, by tensor name."""
    from onnx import numpy_helper

    values = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value":
                    values[node.output[0]] = numpy_helper.to_array(attr.t)
        elif node.op_type == "Identity" and node.input[0] in values:
            values[node.output[0]] = values[node.input[0]]
    return values


def _attributes(node) -> dict:
    from onnx import helper

    return {attr.name: helper.get_attribute_value(attr) for attr in node.attribute}


def _per_channel(value: np.ndarray, channels: int, op: str) -> np.ndarray | None:
    """A constant operand as a [channels] vector if it broadcasts per output channel, else None.

    Conv outputs are NCHW, so a per-channel constant has shape [C,1,1] or [1,C,1,1] (a [C] vector would
    broadcast along W); Linear outputs are [N, C], so [C] or [1, C]. A single value broadcasts anywhere.
    """
    value = np.asarray(value, np.float64)
    if value.size == 1:
        return np.full(channels, value.reshape(-1)[0])
    wanted = ((channels, 1, 1), (1, channels, 1, 1)) if op == "Conv" else ((channels,), (1, channels))
    return value.reshape(-1) if value.shape in wanted else None


def _weight_layer(node, position: int, constants: dict[str, np.ndarray]) -> OnnxLayer | None:
    """The layer of a Conv/Gemm/MatMul node whose weight is a constant, else None."""
    attrs = _attributes(node)
    name = node.name or node.output[0]
    if node.op_type == "Conv" and node.input[1] in constants:
        bias = constants.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        strides = tuple(int(s) for s in attrs.get("strides", (1, 1)))
        return OnnxLayer(name, "Conv", constants[node.input[1]], bias, strides, int(attrs.get("group", 1)),
                         position)
    if node.op_type == "Gemm" and node.input[1] in constants:
        if attrs.get("transA", 0) or attrs.get("alpha", 1.0) != 1.0:
            raise UsageError(f"Gemm node {name}: transA/alpha are not supported in a classifier layer")
        weight = constants[node.input[1]]
        weight = weight if attrs.get("transB", 0) else weight.T
        bias = constants.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        if bias is not None:
            bias = np.asarray(bias, np.float64).reshape(-1) * attrs.get("beta", 1.0)
        return OnnxLayer(name, "Linear", weight, bias, None, 1, position)
    if node.op_type == "MatMul" and node.input[1] in constants and constants[node.input[1]].ndim == 2:
        return OnnxLayer(name, "Linear", constants[node.input[1]].T, None, None, 1, position)
    return None


def read_onnx_layers(model_path: Path) -> list[OnnxLayer]:
    """The weight layers of an ONNX file, with their post-ops, in canonical order."""
    import onnx

    try:
        graph = onnx.load(str(model_path)).graph
    except Exception as exc:  # protobuf DecodeError and friends
        raise UsageError(f"--model {model_path}: not a readable ONNX file ({exc})") from exc
    constants = _constants(graph)
    consumers: dict[str, list] = defaultdict(list)
    for node in graph.node:
        for name in node.input:
            consumers[name].append(node)

    depth: dict[str, int] = {}
    layers: list[OnnxLayer] = []
    absorbed: set[str] = set()  # outputs of the nodes taken into a layer's post-ops
    for position, node in enumerate(graph.node):
        inputs = [depth.get(name, 0) for name in node.input if name and name not in constants]
        before = max(inputs, default=0)
        layer = _weight_layer(node, position, constants) if node.op_type in _WEIGHT_OPS else None
        if layer is not None:
            layer.depth = before
            absorbed |= _absorb_post_ops(layer, node, consumers, constants)
            layers.append(layer)
        for name in node.output:
            depth[name] = before + (1 if layer is not None else 0)
    stray = [node.name or node.output[0] for node in graph.node
             if node.op_type == "BatchNormalization" and node.output[0] not in absorbed]
    if stray:
        raise UsageError(f"--model {model_path}: BatchNormalization {stray[0]} does not directly follow a "
                         "convolution; this graph layout is not supported by the pytorch loader (use onnxruntime)")
    return sorted(layers, key=lambda lay: (lay.depth, -lay.out_channels, lay.position))


def _absorb_post_ops(layer: OnnxLayer, node, consumers: dict[str, list], constants: dict) -> set[str]:
    """Follow the chain of per-channel constant arithmetic right after ``node`` into ``layer``.

    Returns the outputs of the nodes taken in.
    """
    channels = layer.out_channels
    output = node.output[0]
    taken: set[str] = set()
    while len(consumers[output]) == 1:
        nxt = consumers[output][0]
        others = [name for name in nxt.input if name != output]
        if nxt.op_type == "Identity":
            pass
        elif nxt.op_type == "BatchNormalization" and nxt.input[0] == output and all(
            name in constants for name in nxt.input[1:5]
        ):
            scale, shift, mean, var = (np.asarray(constants[n], np.float64) for n in nxt.input[1:5])
            epsilon = float(_attributes(nxt).get("epsilon", 1e-5))
            params = BatchNormParams(scale, shift, mean, var, epsilon)
            layer.post_ops.append(("BatchNormalization", params))
        elif nxt.op_type in ("Add", "Mul") and len(others) == 1 and others[0] in constants:
            value = _per_channel(constants[others[0]], channels, layer.op)
            if value is None:
                break
            layer.post_ops.append((nxt.op_type, value))
        else:
            break
        output = nxt.output[0]
        taken.add(output)
    norms = [value for op, value in layer.post_ops if op == "BatchNormalization"]
    if len(layer.post_ops) == 1 and norms:
        layer.batch_norm = norms[0]
    return taken


def _describe(module: nn.Module) -> str:
    return f"{type(module).__name__}{tuple(module.weight.shape)}"


def _check_match(index: int, unit: WeightUnit, layer: OnnxLayer, model_path: Path, model_name: str) -> None:
    module = unit[0]
    expected_op = "Conv" if isinstance(module, nn.Conv2d) else "Linear"
    stride_ok = layer.stride is None or not isinstance(module, nn.Conv2d) or layer.stride == module.stride
    if layer.op != expected_op or tuple(layer.weight.shape) != tuple(module.weight.shape) or not stride_ok:
        raise UsageError(
            f"--model {model_path}: weight layer {index} ({layer.name}: {layer.op}{tuple(layer.weight.shape)}"
            f", stride {layer.stride}) does not match {model_name}'s {_describe(module)} "
            f"(stride {getattr(module, 'stride', None)}); is this the official {model_name} ONNX file?"
        )
    if isinstance(module, nn.Conv2d) and layer.groups != module.groups:
        raise UsageError(f"--model {model_path}: weight layer {index} ({layer.name}) has {layer.groups} groups, "
                         f"{model_name} expects {module.groups}")


@torch.no_grad()
def _assign(unit: WeightUnit, layer: OnnxLayer) -> None:
    module, norm = unit
    weight = torch.from_numpy(np.array(layer.weight, np.float32))
    if norm is not None and layer.batch_norm is not None:  # exact: copy the statistics
        bn = layer.batch_norm
        mean = bn.mean - (layer.bias if layer.bias is not None else 0.0)
        module.weight.copy_(weight)
        for target, value in ((norm.weight, bn.scale), (norm.bias, bn.shift), (norm.running_mean, mean),
                              (norm.running_var, bn.var)):
            target.copy_(torch.from_numpy(np.asarray(value, np.float32)))
        norm.eps = bn.epsilon
        return
    scale, shift = layer.affine()
    view = (-1,) + (1,) * (weight.ndim - 1)
    module.weight.copy_(weight * torch.from_numpy(scale.astype(np.float32)).reshape(view))
    shift_t = torch.from_numpy(shift.astype(np.float32))
    if norm is not None:  # folded form: batch norm becomes "+ shift"
        norm.weight.fill_(1.0)
        norm.bias.copy_(shift_t)
        norm.running_mean.zero_()
        norm.running_var.fill_(1.0)
        norm.eps = 0.0
    elif module.bias is not None:
        module.bias.copy_(shift_t)
    elif np.any(shift):
        raise UsageError(f"layer {layer.name} has a bias but the model's {_describe(module)} has none")


def load_onnx_weights(units: Sequence[WeightUnit], model_path: Path, model_name: str) -> None:
    """Fill ``units`` (a model's ``weight_units()``) from the ONNX file, matched by order and shape."""
    layers = read_onnx_layers(model_path)
    if len(layers) != len(units):
        raise UsageError(
            f"--model {model_path}: the file has {len(layers)} weight layers, {model_name} has {len(units)}; "
            f"is this the official {model_name} ONNX file?"
        )
    for index, (unit, layer) in enumerate(zip(units, layers, strict=True)):
        _check_match(index, unit, layer, model_path, model_name)
    for unit, layer in zip(units, layers, strict=True):
        _assign(unit, layer)
