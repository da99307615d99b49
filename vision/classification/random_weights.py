"""Seeded random weights that keep activations in a sane range (for tests and the quick start).

Random weights compute a meaningless classification; their only use is exercising the code paths. The
batch-norm statistics are calibrated on a batch of random images (one forward pass with batch
statistics), so every batch norm really normalizes its input: activations neither vanish nor explode
through 50 layers, and no NaN, inf or denormal value reaches the logits.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from vision.classification.layers import WeightUnit


@torch.no_grad()
def randomize(model: nn.Module, units: Sequence[WeightUnit], seed: int, calibration: torch.Tensor) -> None:
    """Draw every weight from ``seed``, then set the batch-norm statistics from ``calibration`` (NCHW)."""
    generator = torch.Generator().manual_seed(seed)
    for module, norm in units:
        nn.init.kaiming_normal_(module.weight, nonlinearity="relu", generator=generator)
        if module.bias is not None:
            module.bias.uniform_(-0.1, 0.1, generator=generator)
        if norm is not None:
            norm.weight.uniform_(0.5, 1.5, generator=generator)
            norm.bias.uniform_(-0.2, 0.2, generator=generator)
    norms = [norm for _, norm in units if norm is not None]
    momenta = [norm.momentum for norm in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a cumulative average: after one batch, the batch statistics
    model.train()
    try:
        model(calibration)
    finally:
        for norm, momentum in zip(norms, momenta, strict=True):
            norm.momentum = momentum
        model.eval()
