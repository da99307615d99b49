"""Pre- and post-processing around a classifier's tensors: stack images in, labels out."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from common.benchmark import ModelIO, Samples, Task

LABEL_OFFSET = -1  # v0.5 PostProcessArgMax/PostProcessCommon(offset=-1): output 0 is background


def class_indices(output: np.ndarray) -> np.ndarray:
    """Predicted output index per sample: an ArgMax output as it is, probabilities or logits arg-maxed."""
    return output if output.ndim == 1 else output.argmax(axis=1)


def label_payloads(indices: np.ndarray) -> list[bytes]:
    """One float32 per sample, the label argmax - 1 (v0.5 byte-compatible: -1 is background)."""
    labels = (np.asarray(indices).astype(np.float32) + np.float32(LABEL_OFFSET)).tobytes()
    return [labels[i:i + 4] for i in range(0, len(labels), 4)]


class ClassificationTask(Task):
    """Samples are ready float32 images in the model's layout; the first output gives the class."""

    def __init__(self, io: ModelIO) -> None:
        self.io = io
        self._input = io.inputs[0]

    def collate(self, samples: Samples) -> dict[str, np.ndarray]:
        """The batch: as it is when it already is one array (the QSL's), else the samples stacked."""
        if isinstance(samples, np.ndarray):
            batch = samples
        else:
            batch = samples[0][np.newaxis] if len(samples) == 1 else np.stack(samples)
        return {self._input: batch}

    def postprocess(self, outputs: Sequence[np.ndarray], indices: Sequence[int]) -> list[bytes]:
        return label_payloads(class_indices(outputs[0]))
