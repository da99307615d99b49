"""The official TF1 checkpoint (tensorflow/nmt variable names) <-> the plain-torch GNMT.

Loading maps every TF variable onto one torch parameter by name; the sizes (vocabularies, units, layers)
follow from the checkpoint's shapes, so the official 1024-unit model and smaller test models load alike.
A missing or mis-shaped variable is an error naming it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from common.errors import UsageError
from translation.gnmt.model import GNMT, GNMTConfig

ENCODER_EMBEDDING = "embeddings/encoder/embedding_encoder"
DECODER_EMBEDDING = "embeddings/decoder/embedding_decoder"
_ENC = "dynamic_seq2seq/encoder"
_DEC = "dynamic_seq2seq/decoder"
_ATTENTION_CELL = f"{_DEC}/multi_rnn_cell/cell_0_attention/attention"
_BAHDANAU = f"{_ATTENTION_CELL}/bahdanau_attention"
_CHECKPOINT_SUFFIXES = (".index", ".meta", ".data-00000-of-00001")
INIT_WEIGHT = 0.1  # wmt16_gnmt_4_layer.json "init_weight": uniform(-0.1, 0.1), used for random weights


def _lstm(tf_scope: str, torch_prefix: str) -> dict[str, tuple[str, bool]]:
    return {f"{tf_scope}/basic_lstm_cell/kernel": (f"{torch_prefix}.kernel", False),
            f"{tf_scope}/basic_lstm_cell/bias": (f"{torch_prefix}.bias", False)}


def variable_map(num_layers: int) -> dict[str, tuple[str, bool]]:
    """TF variable name -> (torch parameter name, transpose?) for a GNMT of ``num_layers`` layers."""
    names: dict[str, tuple[str, bool]] = {
        ENCODER_EMBEDDING: ("encoder.embedding.weight", False),
        DECODER_EMBEDDING: ("decoder.embedding.weight", False),
    }
    names.update(_lstm(f"{_ENC}/bidirectional_rnn/fw", "encoder.forward_cell"))
    names.update(_lstm(f"{_ENC}/bidirectional_rnn/bw", "encoder.backward_cell"))
    for i in range(num_layers - 1):
        names.update(_lstm(f"{_ENC}/rnn/multi_rnn_cell/cell_{i}", f"encoder.cells.{i}"))
    names.update(_lstm(_ATTENTION_CELL, "decoder.cells.0"))
    for i in range(1, num_layers):
        names.update(_lstm(f"{_DEC}/multi_rnn_cell/cell_{i}", f"decoder.cells.{i}"))
    names.update({
        f"{_DEC}/memory_layer/kernel": ("decoder.attention.memory_layer.weight", True),
        f"{_BAHDANAU}/query_layer/kernel": ("decoder.attention.query_layer.weight", True),
        f"{_BAHDANAU}/attention_v": ("decoder.attention.attention_v", False),
        f"{_BAHDANAU}/attention_g": ("decoder.attention.attention_g", False),
        f"{_BAHDANAU}/attention_b": ("decoder.attention.attention_b", False),
        f"{_DEC}/output_projection/kernel": ("decoder.projection.weight", True),
    })
    return names


def checkpoint_prefix(path: Path) -> Path:
    """The checkpoint prefix for a prefix or any of its files (``translate.ckpt.index`` -> ``translate.ckpt``)."""
    path = Path(path)
    for suffix in _CHECKPOINT_SUFFIXES:
        if path.name.endswith(suffix):
            return path.with_name(path.name[: -len(suffix)])
    return path


def _tensorflow():
    """TensorFlow for checkpoint I/O only: quiet, and without oneDNN (no TF math runs here)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # also silences its start-up banner on stderr
    import tensorflow as tf

    return tf


def read_tf_checkpoint(path: Path) -> dict[str, np.ndarray]:
    """Every variable of a TF checkpoint (V1 bundle: ``prefix.index`` + ``prefix.data-*``) by name."""
    prefix = checkpoint_prefix(path)
    if not Path(f"{prefix}.index").is_file():
        raise UsageError(f"--model {path}: no TensorFlow checkpoint {prefix}.index (run download_model.sh "
                         "or 'mlperf-ref export-model gnmt')")
    tf = _tensorflow()
    try:
        reader = tf.train.load_checkpoint(str(prefix))
    except Exception as exc:  # TF raises DataLossError, NotFoundError and others
        raise UsageError(f"--model {path}: not a readable TensorFlow checkpoint ({exc})") from exc
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


def config_from_variables(variables: Mapping[str, np.ndarray], source: str = "checkpoint") -> GNMTConfig:
    """The model sizes the variables imply (vocabularies, units, layers)."""
    for name in (ENCODER_EMBEDDING, DECODER_EMBEDDING):
        if name not in variables:
            raise UsageError(f"{source}: variable {name} is missing (is this the GNMT checkpoint?)")
    src_vocab, units = variables[ENCODER_EMBEDDING].shape
    tgt_vocab = variables[DECODER_EMBEDDING].shape[0]
    pattern = re.compile(rf"^{_ENC}/rnn/multi_rnn_cell/cell_(\d+)/")
    uni = {int(m.group(1)) for name in variables if (m := pattern.match(name))}
    return GNMTConfig(int(src_vocab), int(tgt_vocab), num_units=int(units), num_layers=len(uni) + 1,
                      num_residual_layers=len(uni) + 1 - 2)


def load_variables(model: GNMT, variables: Mapping[str, np.ndarray], source: str = "checkpoint") -> GNMT:
    """Copy TF variables into ``model``; a missing or mis-shaped variable is an error naming it."""
    params = dict(model.named_parameters())
    mapping = variable_map(model.config.num_layers)
    assert set(torch_name for torch_name, _ in mapping.values()) == set(params), "variable map out of date"
    with torch.no_grad():
        for tf_name, (torch_name, transpose) in mapping.items():
            if tf_name not in variables:
                raise UsageError(f"{source}: variable {tf_name} is missing")
            value = np.asarray(variables[tf_name], dtype=np.float32)
            value = value.T if transpose else value
            target = params[torch_name]
            if tuple(value.shape) != tuple(target.shape):
                expected = tuple(target.shape)[::-1] if transpose else tuple(target.shape)
                raise UsageError(f"{source}: variable {tf_name} has shape {list(variables[tf_name].shape)}, "
                                 f"expected {list(expected)}")
            target.copy_(torch.from_numpy(np.array(value, order="C")))
    return model


def model_from_variables(variables: Mapping[str, np.ndarray], source: str = "checkpoint") -> GNMT:
    model = GNMT(config_from_variables(variables, source))
    return load_variables(model, variables, source).eval()


def load_model(path: Path) -> GNMT:
    """The torch GNMT with the weights of a TF checkpoint (prefix or one of its files)."""
    return model_from_variables(read_tf_checkpoint(path), str(path))


def random_variables(config: GNMTConfig, seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded uniform(-0.1, 0.1) weights under the official names (attention_g at TF's sqrt(1/units))."""
    rng = np.random.default_rng(seed)
    model = GNMT(config)
    shapes = {name: tuple(p.shape) for name, p in model.named_parameters()}
    variables = {}
    for tf_name, (torch_name, transpose) in variable_map(config.num_layers).items():
        shape = shapes[torch_name][::-1] if transpose else shapes[torch_name]
        variables[tf_name] = rng.uniform(-INIT_WEIGHT, INIT_WEIGHT, size=shape).astype(np.float32)
    variables[f"{_BAHDANAU}/attention_g"] = np.array(np.sqrt(1.0 / config.num_units), dtype=np.float32)
    return variables


def write_tf_checkpoint(prefix: Path, variables: Mapping[str, np.ndarray]) -> Path:
    """Write a TF checkpoint bundle (``prefix.index`` + ``prefix.data-00000-of-00001``) as TF's Saver does.

    The files are written under a temporary prefix and renamed, the index last, so a reader never sees a
    half-written checkpoint.
    """
    tf = _tensorflow()
    prefix = Path(prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    temporary = prefix.with_name(f".{prefix.name}.tmp{os.getpid()}")
    names = sorted(variables)
    try:
        tf.raw_ops.SaveV2(prefix=str(temporary), tensor_names=names, shape_and_slices=[""] * len(names),
                          tensors=[tf.constant(variables[name]) for name in names])
        os.replace(f"{temporary}.data-00000-of-00001", f"{prefix}.data-00000-of-00001")
        os.replace(f"{temporary}.index", f"{prefix}.index")
    finally:
        for suffix in _CHECKPOINT_SUFFIXES:
            Path(f"{temporary}{suffix}").unlink(missing_ok=True)
    return prefix
