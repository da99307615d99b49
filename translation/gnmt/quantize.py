"""Dynamic int8 GNMT for the CPU: int8 weights, activations quantized per call at run time.

Dynamic quantization needs no calibration data: each int8 layer measures the range of its input on every
call. torch's ``quantize_dynamic`` converts ``nn.Linear`` and ``nn.LSTM`` modules, but GNMT's LSTM is TF's
``BasicLSTMCell`` (its own kernel layout, gate order and forget bias) and would be left in fp32, so the
conversion here puts every LSTM kernel and linear layer on the kernel ``quantize_dynamic``'s modules run
(fbgemm's ``quantized::linear_dynamic``). Embeddings, the attention vectors and the beam search stay fp32.

An input's scale is taken over the whole tensor, so in int8 a sentence's translation can depend on the other
sentences of its batch (fp32 translates each sentence the same in any batch).
"""

from __future__ import annotations

import warnings
from typing import TypeVar

import torch
from torch import nn

from translation.gnmt.model import LSTMCell, LSTMState, lstm_update

WEIGHT_LEVELS = 127  # symmetric int8 weights: q in [-127, 127], zero point 0
MIN_SCALE = 1e-12  # an all-zero weight row still needs a positive scale
DESCRIPTION = ("dynamic int8: LSTM and linear weights int8 (a scale per output channel); activations quantized "
               "per call from each input tensor's range at run time (8 bits, 7 on CPUs without AVX512-VNNI), no "
               "calibration data; embeddings, attention scores and beam search in fp32")

ModuleT = TypeVar("ModuleT", bound=nn.Module)


def full_range_activations() -> bool:
    """Whether activations may use all 8 bits: only where the CPU has AVX512-VNNI.

    Without it fbgemm adds pairs of uint8 x int8 products in int16, which 8-bit activations can overflow,
    so they are kept to 7 bits there (torch's ``reduce_range``); VNNI accumulates in int32.
    """
    return bool(torch.cpu.get_capabilities().get("avx512_vnni", False))


class Int8Linear(nn.Module):
    """``x @ weight.T + bias`` with int8 weights (one scale per output row) on fbgemm's dynamic kernel.

    The kernel quantizes ``x`` per call (one scale and zero point for the whole tensor, from its min and
    max) and returns fp32. Per-row weight scales: rows of a trained kernel differ in range, and a scale for
    the widest would flatten the others.
    """

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, reduce_range: bool) -> None:
        super().__init__()
        weight = weight.detach().float().contiguous()
        self.in_features, self.out_features = weight.shape[1], weight.shape[0]
        self.reduce_range = reduce_range
        scales = (weight.abs().amax(dim=1) / WEIGHT_LEVELS).clamp(min=MIN_SCALE).double()
        zero_points = torch.zeros(weight.shape[0], dtype=torch.int64)
        with warnings.catch_warnings():  # torch deprecates quantized tensors (see README, "int8")
            warnings.simplefilter("ignore", UserWarning)
            qweight = torch.quantize_per_channel(weight, scales, zero_points, axis=0, dtype=torch.qint8)
        bias = None if bias is None else bias.detach().float().clone()
        self._packed = torch.ops.quantized.linear_prepack(qweight, bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.quantized.linear_dynamic(x, self._packed, self.reduce_range)

    def weight(self) -> torch.Tensor:
        """The int8 weight [out, in] (a quantized tensor with its per-row scales)."""
        return torch.ops.quantized.linear_unpack(self._packed)[0]

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, reduce_range={self.reduce_range}"


def int8_linear(weight: torch.Tensor, bias: torch.Tensor | None) -> Int8Linear:
    """A dynamic int8 layer for weight [out, in], with 8-bit activations where the CPU allows it."""
    return Int8Linear(weight, bias, reduce_range=not full_range_activations())


class Int8LSTMCell(nn.Module):
    """``LSTMCell`` with its kernel as two dynamic int8 layers: the input rows (with the bias), the h rows.

    Two layers rather than one over [input, h]: each gets its own activation scale, so h (within -1..1)
    keeps its resolution beside inputs of a larger range (attention contexts, residual sums).
    """

    def __init__(self, cell: LSTMCell) -> None:
        super().__init__()
        self.input_size = cell.input_size
        self.units = cell.units
        self.forget_bias = cell.forget_bias
        kernel = cell.kernel.detach()
        self.input_layer = int8_linear(kernel[: cell.input_size].t(), cell.bias)
        self.hidden_layer = int8_linear(kernel[cell.input_size:].t(), None)

    def gates_from_input(self, inputs: torch.Tensor) -> torch.Tensor:
        """The input part of the gates plus the bias, for many time steps at once."""
        return self.input_layer(inputs)

    def step(self, input_gates: torch.Tensor, state: LSTMState) -> LSTMState:
        c, h = state
        return lstm_update(input_gates + self.hidden_layer(h), c, self.forget_bias)

    def forward(self, inputs: torch.Tensor, state: LSTMState) -> LSTMState:
        return self.step(self.gates_from_input(inputs), state)


def to_dynamic_int8(model: ModuleT) -> ModuleT:
    """``model`` (a GNMT) with every LSTM kernel and linear layer in dynamic int8, converted in place and returned.

    The interface is unchanged: ``forward(source, source_length) -> (token ids, lengths)``.
    """
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, LSTMCell):
                setattr(parent, name, Int8LSTMCell(child))
            elif isinstance(child, nn.Linear):
                setattr(parent, name, int8_linear(child.weight, child.bias))
    return model.eval()
