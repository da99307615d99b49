"""Top-1 accuracy of classification payloads, as the v0.5 ``tools/accuracy-imagenet.py`` computes it.

Each payload holds the predicted label (0..999) as its first value, in the dtype ``--dtype`` names or the
payloads show (``common/accuracy/labels.py``). Sample ``i`` of the log is compared with ``labels[i]``; each
qsl index counts once (the caller passes one payload per index). The report line is the v0.5 one:
``accuracy=XX.XXX%, good=N, total=M``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from common.accuracy.labels import HIGHEST_LABEL, LOWEST_LABEL, choose_labels
from common.benchmark import AccuracyReport
from common.errors import UsageError


def score_top1(results: Mapping[int, bytes], labels: Sequence[int] | np.ndarray,
               dtype: str | np.dtype | type | None = None) -> AccuracyReport:
    """Score ``{qsl index: payload}`` against ``labels`` (index i = line i of val_map.txt); ``dtype`` is the
    payloads' label dtype (float32, int32, int64), None to decide it from the payloads."""
    if dtype is not None and not isinstance(dtype, str):
        dtype = np.dtype(dtype).name
    if not results:
        raise UsageError("the accuracy log holds no samples (run with --accuracy to write one)")
    beyond = [index for index in results if not 0 <= index < len(labels)]
    if beyond:
        raise UsageError(
            f"the accuracy log has qsl index {max(beyond)} but the label list has {len(labels)} entries; "
            "score with the dataset (val_map.txt) the run used"
        )
    reading = choose_labels(results, dtype)
    good = empty = outside = 0
    for index, label in reading.labels.items():
        if label is None:
            empty += 1
        elif label == int(labels[index]):
            good += 1
        elif not LOWEST_LABEL <= label <= HIGHEST_LABEL:
            outside += 1
    total = len(results)
    value = 100.0 * good / total
    line = f"accuracy={value:.3f}%, good={good}, total={total}"
    lines = [line, reading.note]
    if empty:
        lines.append(f"{empty} of {total} samples have no prediction in the log (counted as wrong)")
    if outside:
        lines.append(f"{outside} of {total} samples read as no label -1..1000 in {reading.dtype} (counted as wrong)")
    return AccuracyReport(value=value, count=total, lines=lines, accuracy_txt=line + "\n",
                          extra={"good": good, "total": total, "empty": empty})  # the dtype: in lines
