"""The official graphs' outputs on top of a logits model: arg max and softmax, under their tensor names."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

ARGMAX = "argmax"  # int64 [N]: index of the largest logit (the first one on ties, as tf.argmax)
SOFTMAX = "softmax"  # float32 [N, classes]


class ClassifierOutputs(nn.Module):
    """Wraps a logits model; ``forward`` returns the ``outputs`` (tensor names) in order."""

    def __init__(self, model: nn.Module, outputs: Sequence[str], kinds: Mapping[str, str]) -> None:
        super().__init__()
        unknown = [name for name in outputs if kinds.get(name) not in (ARGMAX, SOFTMAX)]
        if unknown:
            raise ValueError(f"no rule for outputs {unknown}; known: {dict(kinds)}")
        self.model = model
        self.kinds = tuple(kinds[name] for name in outputs)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        logits = self.model(x)
        return tuple(logits.argmax(dim=1) if kind == ARGMAX else torch.softmax(logits, dim=1)
                     for kind in self.kinds)
