"""Batched beam search with the bookkeeping of TensorFlow's ``BeamSearchDecoder`` (TF 1.6-1.15).

The reference decoded with ``tf.contrib.seq2seq.BeamSearchDecoder`` (beam 10, GNMT length penalty weight
1.0, no coverage penalty). Which translation wins depends on its exact bookkeeping, reproduced here:

- start: beam log-probs [0, -inf, ...]; beam 0 unfinished, the others finished; lengths 0;
- a finished beam's log-probs become float32-min everywhere except 0 at ``</s>``;
- a candidate's length is its beam's length + 1, unless the beam is finished or the token is ``</s>``;
  its score is (beam log-prob + token log-prob) / ((5 + length) / 6) ** weight;
- the best ``beam_width`` of all beam x vocabulary candidates win (ties: the lower flat index first,
  as ``tf.nn.top_k``);
- a new beam is finished when its parent was or its token is ``</s>``; its length is the parent's + 1 when the
  parent was unfinished (quirk kept for fidelity: a beam that just ended counts its ``</s>`` from the next
  step on, so its score changes once after it ends);
- a sentence stops when all its beams are finished or after its step limit; the answer is beam 0 of the
  last step traced back through the parents (``gather_tree``), cut at the first ``</s>``.

The reference stopped the whole batch together (at the longest sentence's limit and only when every
sentence was finished). Here each sentence stops on its own, so a sentence translates the same in any batch
and exactly as the reference did at batch size 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

DEFAULT_BEAM_WIDTH = 10  # wmt16_gnmt_4_layer.json "beam_width"
DEFAULT_LENGTH_PENALTY_WEIGHT = 1.0  # wmt16_gnmt_4_layer.json "length_penalty_weight"
DECODING_LENGTH_FACTOR = 2.0  # nmt model.py: maximum_iterations = round(2.0 * source length)

# step(tokens [A*K], state, context) -> (logits [A*K, V], state): one decoder step for A sentences of K beams.
StepFn = Callable[[torch.Tensor, Any, Any], tuple[torch.Tensor, Any]]


@dataclass(frozen=True)
class BeamSearchConfig:
    """The decoder's search settings."""

    sos_id: int
    eos_id: int
    beam_width: int = DEFAULT_BEAM_WIDTH
    length_penalty_weight: float = DEFAULT_LENGTH_PENALTY_WEIGHT


def index_tree(tree: Any, index: torch.Tensor) -> Any:
    """Select rows ``index`` (dim 0) of every tensor in a nest of tuples, lists and dicts."""
    if isinstance(tree, torch.Tensor):
        return tree.index_select(0, index)
    if isinstance(tree, tuple | list):
        return type(tree)(index_tree(item, index) for item in tree)
    if isinstance(tree, dict):
        return {key: index_tree(value, index) for key, value in tree.items()}
    return tree


def max_decode_steps(source_length: torch.Tensor) -> torch.Tensor:
    """round(2.0 x source length) per sentence, as nmt's ``_get_infer_maximum_iterations``."""
    return torch.round(source_length.to(torch.float32) * DECODING_LENGTH_FACTOR).to(torch.int64)


def length_penalty(lengths: torch.Tensor, weight: float) -> torch.Tensor:
    """GNMT length penalty ((5 + length) / 6) ** weight in float32, as TF's ``_length_penalty``."""
    if weight == 0:
        return torch.ones(lengths.shape, dtype=torch.float32, device=lengths.device)
    return (5.0 + lengths.to(torch.float32)) ** weight / (6.0 ** weight)


def top_k_first_index(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Flat indices of the ``k`` largest entries per row, best first, ties to the lower index (tf.nn.top_k)."""
    values, indices = scores.topk(k, dim=1)
    kth = values[:, -1:]
    if bool(((scores == kth).sum(1) == (values == kth).sum(1)).all()):
        # No tie crosses the cut, so torch's set is tf's; order it by (score desc, index asc).
        by_index = indices.sort(dim=1).values
        order = torch.sort(scores.gather(1, by_index), dim=1, descending=True, stable=True).indices
        return by_index.gather(1, order)
    width = scores.shape[1]
    positions = torch.arange(width, device=scores.device).expand_as(scores)
    above = scores > kth
    n_above = above.sum(1, keepdim=True)
    sentinel = torch.full_like(positions, width)
    above_idx = torch.where(above, positions, sentinel).topk(k, dim=1, largest=False).values
    tied_idx = torch.where(scores == kth, positions, sentinel).topk(k, dim=1, largest=False).values
    slot = torch.arange(k, device=scores.device).expand(scores.shape[0], k)
    tied_pick = tied_idx.gather(1, (slot - n_above).clamp(min=0))
    chosen = torch.where(slot < n_above, above_idx, tied_pick)  # ascending index within equal scores
    order = torch.sort(scores.gather(1, chosen), dim=1, descending=True, stable=True).indices
    return chosen.gather(1, order)


def beam_search(step: StepFn, state: Any, context: Any, max_steps: torch.Tensor,
                config: BeamSearchConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode N sentences; return token ids [N, L] (``</s>``-padded) and lengths [N] before the first ``</s>``.

    ``state`` holds per-beam tensors (leading dim N*K, sentence-major); ``context`` per-sentence tensors
    (leading dim N, e.g. the attention memory). Finished sentences leave the batch, so later steps
    compute only what is still open.
    """
    k, eos = config.beam_width, config.eos_id
    n = int(max_steps.shape[0])
    device = max_steps.device
    horizon = int(max_steps.max()) if n else 0
    history_ids = torch.full((horizon, n, k), eos, dtype=torch.int64, device=device)
    history_parents = torch.zeros((horizon, n, k), dtype=torch.int64, device=device)
    stop_step = torch.zeros(n, dtype=torch.int64, device=device)

    active = torch.nonzero(max_steps > 0).squeeze(1)
    if active.numel() < n:
        context = index_tree(context, active)
        state = index_tree(state, _beam_rows(active, k))
    count = int(active.numel())
    log_probs = torch.full((count, k), float("-inf"), device=device)
    log_probs[:, 0] = 0.0
    finished = torch.ones((count, k), dtype=torch.bool, device=device)
    finished[:, 0] = False
    lengths = torch.zeros((count, k), dtype=torch.int64, device=device)
    tokens = torch.full((count * k,), config.sos_id, dtype=torch.int64, device=device)
    t = 0
    while count:
        logits, state = step(tokens, state, context)
        words, parents, log_probs, finished, lengths = _select_beams(
            logits.view(count, k, -1), log_probs, finished, lengths, config)
        history_ids[t, active] = words
        history_parents[t, active] = parents
        state = index_tree(state, (torch.arange(count, device=device)[:, None] * k + parents).view(-1))
        tokens = words.reshape(-1)
        t += 1
        done = finished.all(1) | (t >= max_steps[active])
        if bool(done.any()):
            stop_step[active[done]] = t
            keep = torch.nonzero(~done).squeeze(1)
            active, log_probs, finished, lengths = active[keep], log_probs[keep], finished[keep], lengths[keep]
            context = index_tree(context, keep)
            rows = _beam_rows(keep, k)
            state = index_tree(state, rows)
            tokens = tokens[rows]
            count = int(active.numel())
    return _trace_back(history_ids, history_parents, stop_step, eos)


def _beam_rows(sentences: torch.Tensor, k: int) -> torch.Tensor:
    """The N*K-layout rows of the given sentences' beams."""
    return (sentences[:, None] * k + torch.arange(k, device=sentences.device)).reshape(-1)


def _select_beams(logits: torch.Tensor, log_probs: torch.Tensor, finished: torch.Tensor, lengths: torch.Tensor,
                  config: BeamSearchConfig) -> tuple[torch.Tensor, ...]:
    """One step of TF's ``_beam_search_step`` for [A, K, V] logits."""
    count, k, vocab = logits.shape
    eos = config.eos_id
    step_log_probs = torch.log_softmax(logits.float(), dim=-1)
    finished_row = torch.full((vocab,), torch.finfo(torch.float32).min, device=logits.device)
    finished_row[eos] = 0.0
    step_log_probs = torch.where(finished[..., None], finished_row, step_log_probs)
    total = log_probs[..., None] + step_log_probs  # [A, K, V]
    # Candidate lengths: +1 for an unfinished beam's non-</s> tokens, unchanged otherwise.
    stay = length_penalty(lengths, config.length_penalty_weight)
    grow = length_penalty(lengths + 1, config.length_penalty_weight)
    penalty = torch.where(finished, stay, grow)
    scores = total / penalty[..., None]
    scores[..., eos] = total[..., eos] / stay
    flat = top_k_first_index(scores.view(count, k * vocab), k)
    words = flat % vocab
    parents = flat // vocab
    next_log_probs = total.view(count, k * vocab).gather(1, flat)
    parent_finished = finished.gather(1, parents)
    next_finished = parent_finished | (words == eos)
    next_lengths = lengths.gather(1, parents) + (~parent_finished).to(torch.int64)
    return words, parents, next_log_probs, next_finished, next_lengths


def _trace_back(history_ids: torch.Tensor, history_parents: torch.Tensor, stop_step: torch.Tensor,
                eos: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Beam 0 of each sentence's last step followed back through the parents, cut at the first ``</s>``."""
    horizon, n, _ = history_ids.shape
    if horizon == 0:
        return history_ids.new_full((n, 0), eos), torch.zeros_like(stop_step)
    out = torch.full((n, horizon), eos, dtype=torch.int64, device=history_ids.device)
    beam = torch.zeros((n, 1), dtype=torch.int64, device=history_ids.device)
    for t in range(horizon - 1, -1, -1):
        live = (t < stop_step)[:, None]
        out[:, t] = torch.where(live, history_ids[t].gather(1, beam), eos).squeeze(1)
        beam = torch.where(live, history_parents[t].gather(1, beam), beam)
    is_eos = out == eos
    lengths = torch.where(is_eos.any(1), is_eos.to(torch.int8).argmax(1), torch.full_like(stop_step, horizon))
    width = int(lengths.max()) if n else 0
    out = out[:, :width]
    positions = torch.arange(width, device=out.device)
    return torch.where(positions < lengths[:, None], out, eos), lengths
