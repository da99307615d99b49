"""Classification payloads are v0.5 byte-compatible: one float32 label per sample, argmax - 1."""

from __future__ import annotations

import numpy as np

from common.benchmark import ModelIO
from vision.classification.task import ClassificationTask, label_payloads


def test_argmax_output_becomes_float32_label_minus_one() -> None:
    payloads = label_payloads(np.asarray([0, 1, 1000], np.int64))
    assert payloads == [np.float32(-1).tobytes(), np.float32(0).tobytes(), np.float32(999).tobytes()]
    assert all(len(p) == 4 for p in payloads)


def test_probabilities_are_arg_maxed() -> None:
    task = ClassificationTask(ModelIO(("input:0",), ("probs:0",), "NCHW"))
    probs = np.zeros((2, 1001), np.float32)
    probs[0, 66] = 0.9
    probs[1, 1] = 0.5
    payloads = task.postprocess([probs], [7, 8])
    assert [np.frombuffer(p, np.float32)[0] for p in payloads] == [65.0, 0.0]


def test_collate_stacks_and_keeps_single_samples_without_copy() -> None:
    task = ClassificationTask(ModelIO(("input_tensor:0",), ("ArgMax:0",), "NCHW"))
    samples = [np.full((3, 4, 4), i, np.float32) for i in range(3)]
    batch = task.collate(samples)["input_tensor:0"]
    assert batch.shape == (3, 3, 4, 4) and batch[2, 0, 0, 0] == 2
    single = task.collate(samples[:1])["input_tensor:0"]
    assert single.shape == (1, 3, 4, 4) and np.shares_memory(single, samples[0])
    block = np.stack(samples)
    assert task.collate(block[1:3])["input_tensor:0"].base is block  # rows of the QSL's block: no copy
