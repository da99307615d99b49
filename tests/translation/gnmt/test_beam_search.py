"""Beam search: TF BeamSearchDecoder bookkeeping on toy models with known answers and an unbatched reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from translation.gnmt.beam_search import (
    BeamSearchConfig,
    beam_search,
    index_tree,
    length_penalty,
    max_decode_steps,
    top_k_first_index,
)

UNK, SOS, EOS, A, B = 0, 1, 2, 3, 4
FLOAT32_MIN = np.finfo(np.float32).min


def table_model(tables: torch.Tensor):
    """A toy decoder: logits = tables[step, previous token] (+ a per-sentence bias from the context).

    The state carries the step count per beam row, so reordering and dropping rows is exercised.
    """

    def step(tokens: torch.Tensor, state: tuple, context: torch.Tensor):
        (steps,) = state
        width = tokens.shape[0] // context.shape[0]
        t = steps.clamp(max=tables.shape[0] - 1)
        logits = tables[t, tokens] + context.repeat_interleave(width, 0)
        return logits, (steps + 1,)

    return step


def run(tables: torch.Tensor, source_lengths: list[int], config: BeamSearchConfig,
        bias: torch.Tensor | None = None) -> list[list[int]]:
    n = len(source_lengths)
    vocab = tables.shape[-1]
    context = bias if bias is not None else torch.zeros(n, vocab)
    state = (torch.zeros(n * config.beam_width, dtype=torch.int64),)
    ids, lengths = beam_search(table_model(tables), state, context, max_decode_steps(torch.tensor(source_lengths)),
                               config)
    return [ids[i, : lengths[i]].tolist() for i in range(n)]


def log_prob_rows(rows: dict[int, dict[int, float]], vocab: int = 5) -> torch.Tensor:
    """Logits whose log-softmax is the given log-probs; the rest of the mass goes to token B, UNK/SOS ~0."""
    table = torch.full((vocab, vocab), -30.0, dtype=torch.float64)
    for previous, wanted in rows.items():
        for token, value in wanted.items():
            table[previous, token] = value
        rest = 1.0 - sum(np.exp(v) for v in wanted.values()) - 2 * np.exp(-30.0)
        table[previous, B] = np.log(rest)
    return table.float()


def length_penalty_tables() -> torch.Tensor:
    # step 0 (after <s>): </s> -1.0, a -0.5; step 1: a -0.25, </s> -2.0; steps 2+: </s> -0.3, a -2.0
    t0 = log_prob_rows({SOS: {EOS: -1.0, A: -0.5}})
    t1 = log_prob_rows({A: {A: -0.25, EOS: -2.0}, B: {A: -0.25, EOS: -2.0}})
    t2 = log_prob_rows({A: {EOS: -0.3, A: -2.0}, B: {EOS: -0.3, A: -2.0}})
    return torch.stack([t0, t1, t2])


def test_length_penalty_changes_the_winner() -> None:
    # Candidates: "" (</s> at once, total -1.0) and "a a" (total -0.5 - 0.25 - 0.3 = -1.05).
    # Without a penalty "" wins. With weight 1.0, "a a </s>" scores -1.05 / ((5 + 2) / 6) = -0.9 when chosen
    # and -1.05 / (8 / 6) = -0.7875 one step later (its </s> counted from then on), against -1.0 for "".
    tables = length_penalty_tables()
    with_penalty = BeamSearchConfig(SOS, EOS, beam_width=3, length_penalty_weight=1.0)
    without = BeamSearchConfig(SOS, EOS, beam_width=3, length_penalty_weight=0.0)
    assert run(tables, [3], with_penalty) == [[A, A]]
    assert run(tables, [3], without) == [[]]
    assert reference_beam_search(tables, 3, with_penalty) == [A, A]
    assert reference_beam_search(tables, 3, without) == []


def test_stops_after_twice_the_source_length_without_end_token() -> None:
    tables = log_prob_rows({SOS: {A: -0.1}, A: {A: -0.1}, B: {A: -0.1}})[None]
    config = BeamSearchConfig(SOS, EOS, beam_width=4)
    assert run(tables, [1, 3, 0], config) == [[A] * 2, [A] * 6, []]


def test_a_certain_path_is_found() -> None:
    # After <s>: a; after a: b; after b: </s> - each with probability ~1.
    rows = {SOS: {A: -1e-6}, A: {B: -1e-6}, B: {EOS: -1e-6}}
    tables = torch.full((5, 5), -20.0)
    for previous, wanted in rows.items():
        for token, value in wanted.items():
            tables[previous, token] = value
    assert run(tables[None], [5], BeamSearchConfig(SOS, EOS)) == [[A, B]]


def test_length_penalty_formula() -> None:
    lengths = torch.tensor([0, 1, 7])
    assert length_penalty(lengths, 1.0).tolist() == pytest.approx([5 / 6, 1.0, 2.0])
    assert length_penalty(lengths, 0.0).tolist() == [1.0, 1.0, 1.0]
    assert max_decode_steps(torch.tensor([0, 1, 25])).tolist() == [0, 2, 50]


def test_top_k_breaks_ties_by_lower_index_like_tensorflow() -> None:
    import tensorflow as tf

    rng = np.random.default_rng(0)
    scores = rng.integers(-3, 3, size=(64, 40)).astype(np.float32)
    scores[rng.random(scores.shape) < 0.2] = -np.inf
    for k in (1, 5, 10):
        ours = top_k_first_index(torch.from_numpy(scores), k).numpy()
        theirs = tf.math.top_k(scores, k=k, sorted=True).indices.numpy()
        np.testing.assert_array_equal(ours, theirs)


def test_index_tree_selects_rows_of_nested_tensors() -> None:
    tree = {"a": (torch.arange(4), [torch.arange(8).view(4, 2)]), "b": 3}
    picked = index_tree(tree, torch.tensor([2, 0]))
    assert picked["a"][0].tolist() == [2, 0] and picked["a"][1][0].tolist() == [[4, 5], [0, 1]]
    assert picked["b"] == 3


@pytest.mark.parametrize("seed", range(6))
def test_batched_search_equals_an_unbatched_reference(seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    vocab, steps = 9, 6
    tables = torch.randn(steps, vocab, vocab, generator=generator) * 2.0
    tables[:, :, EOS] += 0.8  # sentences end at various steps
    lengths = [3, 1, 5, 2, 4, 0]
    bias = torch.randn(len(lengths), vocab, generator=generator)
    for width, weight in ((10, 1.0), (3, 1.0), (4, 0.0)):
        config = BeamSearchConfig(SOS, EOS, beam_width=width, length_penalty_weight=weight)
        batched = run(tables, lengths, config, bias)
        for i, length in enumerate(lengths):
            assert batched[i] == reference_beam_search(tables + bias[i], length, config)
            assert batched[i] == run(tables, [length], config, bias[i:i + 1])[0]


def reference_beam_search(tables: torch.Tensor, source_length: int, config: BeamSearchConfig) -> list[int]:
    """One sentence, written from TF 1.x ``BeamSearchDecoder`` + ``dynamic_decode`` + ``gather_tree``.

    Straight loops over numpy arrays; the log-softmax is torch's (the same rounding as the model's).
    """
    k, eos = config.beam_width, config.eos_id
    max_steps = int(round(2.0 * source_length))
    log_probs = np.array([0.0] + [-np.inf] * (k - 1), dtype=np.float32)
    finished = np.array([False] + [True] * (k - 1))
    lengths = np.zeros(k, dtype=np.int64)
    tokens = np.full(k, config.sos_id)
    ids, parents = [], []
    t = 0
    while t < max_steps and not finished.all():
        logits = tables[min(t, tables.shape[0] - 1)][torch.from_numpy(tokens)]
        step = torch.log_softmax(logits.float(), dim=-1).numpy()
        vocab = step.shape[1]
        candidates = []
        for beam in range(k):
            row = step[beam].copy()
            if finished[beam]:
                row = np.full(vocab, FLOAT32_MIN, dtype=np.float32)
                row[eos] = 0.0
            total = (log_probs[beam] + row).astype(np.float32)
            for token in range(vocab):
                grow = 0 if finished[beam] or token == eos else 1
                length = np.float32(5.0 + lengths[beam] + grow)
                penalty = np.float32(length ** config.length_penalty_weight / 6.0 ** config.length_penalty_weight)
                score = np.float32(total[token] / penalty) if config.length_penalty_weight else total[token]
                candidates.append((score, beam * vocab + token, total[token]))
        best = sorted(candidates, key=lambda c: -c[0])[:k]  # stable: equal scores keep the lower index first
        flat = np.array([c[1] for c in best])
        new_parents, new_tokens = flat // vocab, flat % vocab
        log_probs = np.array([c[2] for c in best], dtype=np.float32)
        parent_finished = finished[new_parents]
        finished = parent_finished | (new_tokens == eos)
        lengths = lengths[new_parents] + (~parent_finished)
        tokens = new_tokens
        ids.append(new_tokens)
        parents.append(new_parents)
        t += 1
    output, beam = [], 0
    for level in range(len(ids) - 1, -1, -1):
        output.append(int(ids[level][beam]))
        beam = int(parents[level][beam])
    output.reverse()
    return output[: output.index(eos)] if eos in output else output


def test_a_best_path_ending_in_a_bpe_piece_loses_that_piece() -> None:
    from translation.gnmt.dataset import GNMTTask
    from translation.gnmt.vocab import Vocabulary

    # Tokens 3 "die" and 4 "Ver@@": the certain path is die Ver@@ </s>; the payload keeps "die" only.
    tables = torch.full((5, 5), -20.0)
    tables[SOS, A] = tables[A, B] = tables[B, EOS] = -1e-6
    ids, lengths = beam_search(table_model(tables[None]), (torch.zeros(10, dtype=torch.int64),),
                               torch.zeros(1, 5), torch.tensor([4]), BeamSearchConfig(SOS, EOS))
    assert ids[0, : lengths[0]].tolist() == [A, B]
    task = GNMTTask(Vocabulary.from_tokens(["die", "Ver@@"]))
    assert task.postprocess([ids.numpy(), lengths.numpy()], [0]) == [b"die"]
