"""Top-1 accuracy of classification payloads, as the v0.5 ``tools/accuracy-imagenet.py`` computes it.

Each payload holds the predicted label (0..999) as its first element, float32 by default. Sample ``i`` of
the log is compared with ``labels[i]``; each qsl index counts once (the caller passes one payload per
index). The report line is the v0.5 one: ``accuracy=XX.XXX%, good=N, total=M``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from common.benchmark import AccuracyReport
from common.errors import UsageError


def predicted_label(payload: bytes, dtype: np.dtype) -> int | None:
    """The label in a payload, or None for an empty one (a sample the run could not answer).

    A value that is no number (NaN, inf) is returned as -1, a label no image has.
    """
    if len(payload) < dtype.itemsize:
        return None
    value = np.frombuffer(payload, dtype=dtype, count=1)[0]
    return int(value) if np.isfinite(value) else -1


def score_top1(results: Mapping[int, bytes], labels: Sequence[int] | np.ndarray,
               dtype: np.dtype | type = np.float32) -> AccuracyReport:
    """Score ``{qsl index: payload}`` against ``labels`` (index i = line i of val_map.txt)."""
    dtype = np.dtype(dtype)
    if not results:
        raise UsageError("the accuracy log holds no samples (run with --accuracy to write one)")
    beyond = [index for index in results if not 0 <= index < len(labels)]
    if beyond:
        raise UsageError(
            f"the accuracy log has qsl index {max(beyond)} but the label list has {len(labels)} entries; "
            "score with the dataset (val_map.txt) the run used"
        )
    good = empty = 0
    for index, payload in results.items():
        label = predicted_label(payload, dtype)
        if label is None:
            empty += 1
        elif label == int(labels[index]):
            good += 1
    total = len(results)
    value = 100.0 * good / total
    line = f"accuracy={value:.3f}%, good={good}, total={total}"
    lines = [line]
    if empty:
        lines.append(f"{empty} of {total} samples have no prediction in the log (counted as wrong)")
    return AccuracyReport(value=value, count=total, lines=lines, accuracy_txt=line + "\n",
                          extra={"good": good, "total": total, "empty": empty})
