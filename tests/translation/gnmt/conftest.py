"""Shared GNMT test data, made once per session: the synthetic WMT16 set and a small TF checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from translation.gnmt.checkpoint import random_variables, write_tf_checkpoint
from translation.gnmt.model import GNMTConfig
from translation.gnmt.samples import write_samples
from translation.gnmt.vocab import Vocabulary

SMALL_UNITS = 32  # small enough that the end-to-end runs decode in seconds


@pytest.fixture(scope="session")
def wmt16(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_samples(tmp_path_factory.mktemp("data") / "wmt16")


@pytest.fixture(scope="session")
def small_checkpoint(tmp_path_factory: pytest.TempPathFactory, wmt16: Path) -> Path:
    """A TF checkpoint with the official names and random weights, sized for the sample vocabulary."""
    vocab = len(Vocabulary.from_file(wmt16 / "vocab.bpe.32000.en"))
    config = GNMTConfig(vocab, vocab, num_units=SMALL_UNITS)
    return write_tf_checkpoint(tmp_path_factory.mktemp("model") / "translate.ckpt", random_variables(config, 7))
