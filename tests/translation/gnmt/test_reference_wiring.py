"""The whole GNMT wiring against a numpy model written from the TF nmt code, reading TF variable names.

The numpy side never sees the torch parameter names, so a wrong transpose, a swapped fw/bw layer, a
residual on the wrong layer or a decoder state taken from the wrong encoder layer shows up here.
"""

from __future__ import annotations

import numpy as np
import torch

from translation.gnmt.checkpoint import model_from_variables, random_variables
from translation.gnmt.model import SOS_ID, GNMTConfig

ENC = "dynamic_seq2seq/encoder"
DEC = "dynamic_seq2seq/decoder"
ATT = f"{DEC}/multi_rnn_cell/cell_0_attention/attention"


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def lstm(v: dict, scope: str, x: np.ndarray, state: tuple) -> tuple:
    """TF1 BasicLSTMCell (forget_bias 1.0) with the variables under ``scope``."""
    c, h = state
    gates = np.concatenate([x, h]) @ v[f"{scope}/basic_lstm_cell/kernel"] + v[f"{scope}/basic_lstm_cell/bias"]
    i, j, f, o = np.split(gates, 4)
    c = c * sigmoid(f + 1.0) + sigmoid(i) * np.tanh(j)
    return c, np.tanh(c) * sigmoid(o)


def dynamic_rnn(v: dict, scope: str, inputs: np.ndarray, units: int) -> tuple:
    state = (np.zeros(units), np.zeros(units))
    outputs = []
    for x in inputs:
        state = lstm(v, scope, x, state)
        outputs.append(state[1])
    return np.array(outputs), state


def numpy_gnmt(v: dict, source: list[int], units: int) -> tuple:
    """Encoder outputs, the decoder's initial states and the first step's logits, for one sentence."""
    embedded = v["embeddings/encoder/embedding_encoder"][source].astype(np.float64)
    fw, _ = dynamic_rnn(v, f"{ENC}/bidirectional_rnn/fw", embedded, units)
    bw, bw_state = dynamic_rnn(v, f"{ENC}/bidirectional_rnn/bw", embedded[::-1], units)
    layer_input = np.concatenate([fw, bw[::-1]], axis=1)
    states = [bw_state]
    for i in range(3):  # gnmt encoder: 3 unidirectional layers, residual on the top 2
        out, state = dynamic_rnn(v, f"{ENC}/rnn/multi_rnn_cell/cell_{i}", layer_input, units)
        layer_input = out + layer_input if i >= 1 else out
        states.append(state)
    memory = layer_input

    # Decoder step 1 (gnmt_v2): bottom layer on [<s> embedding, zero attention], attention from its output.
    x = np.concatenate([v["embeddings/decoder/embedding_decoder"][SOS_ID], np.zeros(units)])
    bottom = lstm(v, ATT, x, states[0])
    keys = memory @ v[f"{DEC}/memory_layer/kernel"]
    query = bottom[1] @ v[f"{ATT}/bahdanau_attention/query_layer/kernel"]
    att_v, g, b = (v[f"{ATT}/bahdanau_attention/attention_{n}"] for n in "vgb")
    score = np.tanh(keys + query + b) @ (g * att_v / np.linalg.norm(att_v))
    weights = np.exp(score - score.max())
    context = (weights / weights.sum()) @ memory
    output = bottom[1]
    for i in range(1, 4):  # residual on layers 2 and 3, adding only the previous output part
        _, h = lstm(v, f"{DEC}/multi_rnn_cell/cell_{i}", np.concatenate([output, context]), states[i])
        output = h + output if i >= 2 else h
    return memory, states, output @ v[f"{DEC}/output_projection/kernel"]


def test_torch_model_matches_the_numpy_reference_per_sentence_in_a_padded_batch() -> None:
    units = 12
    variables = random_variables(GNMTConfig(30, 35, num_units=units), seed=11)
    # Larger weights than the uniform(-0.1, 0.1) initializer, so every layer's contribution is visible.
    variables = {name: value * 4 for name, value in variables.items()}
    model = model_from_variables(variables)
    sources = [[5, 9, 3, 17, 22, 8], [4, 4, 29], [11]]
    lengths = torch.tensor([len(s) for s in sources])
    padded = torch.full((3, 6), 2, dtype=torch.int64)
    for row, source in enumerate(sources):
        padded[row, : len(source)] = torch.tensor(source)
    width = model.config.search.beam_width
    with torch.inference_mode():
        memory, states = model.encoder(padded, lengths)
        mask = torch.arange(6)[None, :] < lengths[:, None]
        context = (memory, model.decoder.attention.keys(memory), mask)
        tiled = tuple((c.repeat_interleave(width, 0), h.repeat_interleave(width, 0)) for c, h in states)
        tokens = torch.full((3 * width,), SOS_ID)
        logits, _ = model.decoder.step(tokens, (torch.zeros(3 * width, units), tiled), context)
    for row, source in enumerate(sources):
        want_memory, want_states, want_logits = numpy_gnmt(variables, source, units)
        np.testing.assert_allclose(memory[row, : len(source)].numpy(), want_memory, atol=2e-5)
        for layer in range(4):
            np.testing.assert_allclose(states[layer][0][row].numpy(), want_states[layer][0], atol=2e-5)
            np.testing.assert_allclose(states[layer][1][row].numpy(), want_states[layer][1], atol=2e-5)
        for beam in range(width):
            np.testing.assert_allclose(logits[row * width + beam].numpy(), want_logits, atol=5e-5)
