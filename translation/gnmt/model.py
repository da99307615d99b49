"""GNMT v2 as the official TF1 checkpoint defines it (tensorflow/nmt ``gnmt_model.py``), in plain torch.

4 layers, 1024 units, embeddings 1024. Encoder: one bidirectional LSTM layer, then 3 unidirectional
layers with residual connections on the top 2. Decoder: 4 LSTM layers with residual connections on the top
2; normed Bahdanau attention computed from the bottom layer's new output and concatenated to the input of
every upper layer (``gnmt_v2``); output projection without bias. Parameters keep the TF layouts where the
layout is TF's own (the LSTM kernels with their i, j, f, o gate order), so loading is a renaming.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import torch
from torch import nn

from translation.gnmt.beam_search import BeamSearchConfig, beam_search, max_decode_steps

NUM_UNITS = 1024  # wmt16_gnmt_4_layer.json "num_units" (embedding size = hidden size)
NUM_LAYERS = 4  # "num_encoder_layers" = "num_decoder_layers"
NUM_RESIDUAL_LAYERS = 2  # nmt.py: gnmt encoder residual layers = layers - 2; decoder the same
FORGET_BIAS = 1.0  # "forget_bias"
SOS_ID = 1  # "<s>": second token after nmt check_vocab
EOS_ID = 2  # "</s>": third token after nmt check_vocab

LSTMState = tuple[torch.Tensor, torch.Tensor]  # (c, h), as TF's LSTMStateTuple


@dataclass(frozen=True)
class GNMTConfig:
    """The sizes of one GNMT model; the official one is ``GNMTConfig(V_src, V_tgt)``."""

    src_vocab_size: int
    tgt_vocab_size: int
    num_units: int = NUM_UNITS
    num_layers: int = NUM_LAYERS
    num_residual_layers: int = NUM_RESIDUAL_LAYERS
    forget_bias: float = FORGET_BIAS
    search: BeamSearchConfig = field(default_factory=lambda: BeamSearchConfig(sos_id=SOS_ID, eos_id=EOS_ID))


class LSTMCell(nn.Module):
    """TF1 ``BasicLSTMCell``: kernel [input + units, 4 x units], gates i, j, f, o, ``forget_bias`` added to f."""

    def __init__(self, input_size: int, units: int, forget_bias: float = FORGET_BIAS) -> None:
        super().__init__()
        self.input_size = input_size
        self.units = units
        self.forget_bias = forget_bias
        self.kernel = nn.Parameter(torch.empty(input_size + units, 4 * units))
        self.bias = nn.Parameter(torch.empty(4 * units))

    def gates_from_input(self, inputs: torch.Tensor) -> torch.Tensor:
        """The input part of the gates plus the bias, for many time steps at once."""
        return torch.matmul(inputs, self.kernel[: self.input_size]) + self.bias

    def step(self, input_gates: torch.Tensor, state: LSTMState) -> LSTMState:
        """One step given the precomputed input part of the gates; returns (new_c, new_h)."""
        c, h = state
        gates = input_gates + torch.matmul(h, self.kernel[self.input_size:])
        return self._update(gates, c)

    def forward(self, inputs: torch.Tensor, state: LSTMState) -> LSTMState:
        c, h = state
        gates = torch.addmm(self.bias, torch.cat([inputs, h], dim=1), self.kernel)
        return self._update(gates, c)

    def _update(self, gates: torch.Tensor, c: torch.Tensor) -> LSTMState:
        return lstm_update(gates, c, self.forget_bias)


def lstm_update(gates: torch.Tensor, c: torch.Tensor, forget_bias: float) -> LSTMState:
    """The new (c, h) from the gates [N, 4 x units] in TF's i, j, f, o order."""
    i, j, f, o = gates.chunk(4, dim=1)
    new_c = c * torch.sigmoid(f + forget_bias) + torch.sigmoid(i) * torch.tanh(j)
    new_h = torch.tanh(new_c) * torch.sigmoid(o)
    return new_c, new_h


class RecurrentCell(Protocol):
    """What ``run_layer`` needs of a cell: the fp32 ``LSTMCell`` and its int8 form (quantize.py) alike."""

    units: int

    def gates_from_input(self, inputs: torch.Tensor) -> torch.Tensor: ...

    def step(self, input_gates: torch.Tensor, state: LSTMState) -> LSTMState: ...


def run_layer(cell: RecurrentCell, inputs: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, LSTMState]:
    """``tf.nn.dynamic_rnn`` over [N, T, I] inputs: outputs are zero and the state is kept past each length."""
    n, steps, _ = inputs.shape
    input_gates = cell.gates_from_input(inputs)
    c = inputs.new_zeros(n, cell.units)
    h = inputs.new_zeros(n, cell.units)
    outputs = inputs.new_zeros(n, steps, cell.units)
    for t in range(steps):
        new_c, new_h = cell.step(input_gates[:, t], (c, h))
        valid = (t < lengths)[:, None]
        c = torch.where(valid, new_c, c)
        h = torch.where(valid, new_h, h)
        outputs[:, t] = torch.where(valid, new_h, 0.0)
    return outputs, (c, h)


def reverse_padded(inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each sequence within its length (``tf.reverse_sequence``); padding stays in place."""
    steps = inputs.shape[1]
    positions = torch.arange(steps, device=inputs.device)[None, :]
    index = torch.where(positions < lengths[:, None], lengths[:, None] - 1 - positions, positions)
    return inputs.gather(1, index[..., None].expand_as(inputs))


class GNMTEncoder(nn.Module):
    """Embedding, one bidirectional layer, then unidirectional layers (residual on the top ones)."""

    def __init__(self, vocab_size: int, units: int, num_layers: int, num_residual_layers: int,
                 forget_bias: float) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, units)
        self.forward_cell = LSTMCell(units, units, forget_bias)
        self.backward_cell = LSTMCell(units, units, forget_bias)
        num_uni = num_layers - 1
        self.cells = nn.ModuleList(
            LSTMCell(2 * units if i == 0 else units, units, forget_bias) for i in range(num_uni))
        self.residual_from = num_uni - num_residual_layers  # uni layers at or above this index add their input

    def forward(self, source: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, list[LSTMState]]:
        """Top-layer outputs [N, T, units] (zero past each length) and the states the decoder starts from."""
        embedded = self.embedding(source)
        fw_out, _ = run_layer(self.forward_cell, embedded, lengths)
        bw_out, bw_state = run_layer(self.backward_cell, reverse_padded(embedded, lengths), lengths)
        outputs = torch.cat([fw_out, reverse_padded(bw_out, lengths)], dim=2)
        states = [bw_state]  # the decoder's bottom layer starts from the backward state
        for index, cell in enumerate(self.cells):
            layer_out, state = run_layer(cell, outputs, lengths)
            outputs = layer_out + outputs if index >= self.residual_from else layer_out
            states.append(state)
        return outputs, states


class NormedBahdanauAttention(nn.Module):
    """score_j = sum(g * v / |v| * tanh(keys_j + query W_query + b)), keys = memory W_memory; softmax."""

    def __init__(self, units: int) -> None:
        super().__init__()
        self.memory_layer = nn.Linear(units, units, bias=False)
        self.query_layer = nn.Linear(units, units, bias=False)
        self.attention_v = nn.Parameter(torch.empty(units))
        self.attention_g = nn.Parameter(torch.empty(()))
        self.attention_b = nn.Parameter(torch.empty(units))

    def keys(self, memory: torch.Tensor) -> torch.Tensor:
        return self.memory_layer(memory)

    def forward(self, query: torch.Tensor, keys: torch.Tensor, memory: torch.Tensor,
                mask: torch.Tensor) -> torch.Tensor:
        """Context vectors [A*K, units] for queries [A*K, units] of A sentences with K beams each."""
        count, steps, units = memory.shape
        processed = self.query_layer(query).view(count, -1, 1, units)
        normed_v = self.attention_g * self.attention_v * torch.rsqrt(torch.sum(self.attention_v ** 2))
        energy = torch.tanh(keys[:, None] + processed + self.attention_b)
        score = torch.sum(normed_v * energy, dim=3)  # [A, K, T]
        score = score.masked_fill(~mask[:, None, :], float("-inf"))
        alignments = torch.softmax(score, dim=2)
        return torch.matmul(alignments, memory).view(-1, units)


class GNMTDecoder(nn.Module):
    """The gnmt_v2 decoder cell stack with its attention and output projection; ``step`` runs one step."""

    def __init__(self, vocab_size: int, units: int, num_layers: int, num_residual_layers: int,
                 forget_bias: float) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, units)
        self.cells = nn.ModuleList(LSTMCell(2 * units, units, forget_bias) for _ in range(num_layers))
        self.attention = NormedBahdanauAttention(units)
        self.projection = nn.Linear(units, vocab_size, bias=False)
        self.residual_from = num_layers - num_residual_layers

    def step(self, tokens: torch.Tensor, state: tuple, context: tuple) -> tuple[torch.Tensor, tuple]:
        """Logits [A*K, V] for the previous tokens; state = (attention, (c, h) per layer)."""
        attention, layer_states = state
        memory, keys, mask = context
        bottom = self.cells[0](torch.cat([self.embedding(tokens), attention], dim=1), layer_states[0])
        new_attention = self.attention(bottom[1], keys, memory, mask)
        new_states = [bottom]
        output = bottom[1]
        for index in range(1, len(self.cells)):
            c, h = self.cells[index](torch.cat([output, new_attention], dim=1), layer_states[index])
            new_states.append((c, h))
            # gnmt_residual_fn: only the previous layer's output part of the input is added
            output = h + output if index >= self.residual_from else h
        return self.projection(output), (new_attention, tuple(new_states))


class GNMT(nn.Module):
    """Encoder + batched beam search: ``forward(source, source_length) -> (token ids [N, L], lengths [N])``."""

    def __init__(self, config: GNMTConfig) -> None:
        super().__init__()
        self.config = config
        layers = (config.num_units, config.num_layers, config.num_residual_layers, config.forget_bias)
        self.encoder = GNMTEncoder(config.src_vocab_size, *layers)
        self.decoder = GNMTDecoder(config.tgt_vocab_size, *layers)

    def forward(self, source: torch.Tensor, source_length: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        width = self.config.search.beam_width
        memory, states = self.encoder(source, source_length)
        mask = torch.arange(source.shape[1], device=source.device)[None, :] < source_length[:, None]
        context = (memory, self.decoder.attention.keys(memory), mask)
        tiled = tuple((c.repeat_interleave(width, 0), h.repeat_interleave(width, 0)) for c, h in states)
        attention = memory.new_zeros(source.shape[0] * width, self.config.num_units)
        return beam_search(self.decoder.step, (attention, tiled), context, max_decode_steps(source_length),
                           self.config.search)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
