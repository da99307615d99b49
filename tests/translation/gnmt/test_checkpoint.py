"""TF checkpoints with the nmt variable names: written by TensorFlow, loaded into torch by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from common.errors import UsageError
from translation.gnmt.checkpoint import (
    checkpoint_prefix,
    config_from_variables,
    load_model,
    model_from_variables,
    random_variables,
    read_tf_checkpoint,
    variable_map,
    write_tf_checkpoint,
)
from translation.gnmt.model import GNMTConfig

MEMORY = "dynamic_seq2seq/decoder/memory_layer/kernel"
PROJECTION = "dynamic_seq2seq/decoder/output_projection/kernel"
FW_KERNEL = "dynamic_seq2seq/encoder/bidirectional_rnn/fw/basic_lstm_cell/kernel"


def test_tensorflow_reads_back_the_official_names(small_checkpoint: Path) -> None:
    import tensorflow as tf

    listed = dict(tf.train.list_variables(str(small_checkpoint)))
    assert set(listed) == set(variable_map(4))
    assert listed[FW_KERNEL] == [64, 128]  # [input + units, 4 x units] at 32 units
    assert listed[PROJECTION][0] == 32


def test_loaded_parameters_equal_the_tf_variables(small_checkpoint: Path) -> None:
    variables = read_tf_checkpoint(small_checkpoint)
    model = load_model(small_checkpoint)
    params = dict(model.named_parameters())
    for tf_name, (torch_name, transpose) in variable_map(4).items():
        value = variables[tf_name].T if transpose else variables[tf_name]
        np.testing.assert_array_equal(params[torch_name].detach().numpy(), value, err_msg=tf_name)
    assert model.config.num_units == 32 and model.config.num_layers == 4
    assert model.config.src_vocab_size == variables["embeddings/encoder/embedding_encoder"].shape[0]


def test_sizes_follow_from_the_shapes() -> None:
    variables = random_variables(GNMTConfig(11, 13, num_units=8, num_layers=3, num_residual_layers=1), 0)
    config = config_from_variables(variables)
    assert (config.src_vocab_size, config.tgt_vocab_size, config.num_units, config.num_layers) == (11, 13, 8, 3)
    assert config.num_residual_layers == 1
    assert variables["dynamic_seq2seq/decoder/multi_rnn_cell/cell_0_attention/attention/bahdanau_attention/"
                     "attention_g"] == pytest.approx(np.sqrt(1 / 8))


def test_prefix_from_any_checkpoint_file() -> None:
    for name in ("translate.ckpt", "translate.ckpt.index", "translate.ckpt.data-00000-of-00001",
                 "translate.ckpt.meta"):
        assert checkpoint_prefix(Path("m") / name) == Path("m/translate.ckpt")


def test_a_missing_variable_is_named() -> None:
    variables = random_variables(GNMTConfig(11, 13, num_units=8), 0)
    del variables[MEMORY]
    with pytest.raises(UsageError, match=f"variable {MEMORY} is missing"):
        model_from_variables(variables)


def test_a_misshaped_variable_is_named() -> None:
    variables = random_variables(GNMTConfig(11, 13, num_units=8), 0)
    variables[PROJECTION] = np.zeros((8, 12), np.float32)
    with pytest.raises(UsageError, match=rf"variable {PROJECTION} has shape \[8, 12\], expected \[8, 13\]"):
        model_from_variables(variables)


def test_no_checkpoint_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no TensorFlow checkpoint"):
        read_tf_checkpoint(tmp_path / "translate.ckpt")
    (tmp_path / "bad.ckpt.index").write_bytes(b"not a checkpoint")
    with pytest.raises(UsageError, match="not a readable TensorFlow checkpoint"):
        read_tf_checkpoint(tmp_path / "bad.ckpt")


def test_writing_leaves_only_the_bundle(tmp_path: Path) -> None:
    write_tf_checkpoint(tmp_path / "x.ckpt", {"a": np.ones((2, 3), np.float32)})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.ckpt.data-00000-of-00001", "x.ckpt.index"]
