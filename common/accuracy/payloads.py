"""Which kind of benchmark wrote an accuracy log, told from its payloads, so that ``mlperf-ref accuracy``
refuses another benchmark's log instead of scoring it as 0%.

Each benchmark's payload has a form of its own (see each benchmark's post-processing):
- classification (ResNet50, MobileNet): the label, a whole number in -1..1000, as the first value of a
  float32, int32 or int64 payload (``accuracy-imagenet.py --dtype``; ours write one float32);
- detection (SSD-MobileNet, SSD-ResNet34): 7 float32 per detection ``[qsl index, box, score, class]``: a
  whole class and a score in 0..1 (some SUTs wrote garbage for the index; accuracy-coco.py goes by LoadGen's);
- translation (GNMT): the translation as UTF-8 text.
Empty payloads (samples a failed run left unanswered) say nothing and are skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from common.accuracy.labels import choose_labels, fitting_dtypes, payload_sizes
from common.errors import UsageError

CLASSIFICATION, DETECTION, TRANSLATION = "classification", "detection", "translation"
FORMS = {
    CLASSIFICATION: "one float32, int32 or int64 label per sample",
    DETECTION: "7 float32 per detection",
    TRANSLATION: "UTF-8 text",
}
WRITERS = {CLASSIFICATION: "ResNet50 or MobileNet", DETECTION: "SSD-MobileNet or SSD-ResNet34", TRANSLATION: "GNMT"}
DETECTION_FIELDS = 7
MAX_LABEL = 1000  # ImageNet labels with the background class: -1..1000


def _classification(payloads: Mapping[int, bytes]) -> bool:
    return 1.0 in fitting_dtypes(payloads).values()


def _detection(payloads: Mapping[int, bytes]) -> bool:
    for payload in payloads.values():
        if len(payload) % (4 * DETECTION_FIELDS):
            return False
        rows = np.frombuffer(payload, np.float32).reshape(-1, DETECTION_FIELDS)
        scores, classes = rows[:, 5], rows[:, 6]
        with np.errstate(invalid="ignore"):
            if not (np.all((scores >= 0) & (scores <= 1)) and np.all(classes == np.round(classes))
                    and np.all((classes >= 0) & (classes <= MAX_LABEL))):
                return False
    return True


def _translation(payloads: Mapping[int, bytes]) -> bool:
    try:
        for payload in payloads.values():
            payload.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode(kind: str | None, payload: bytes) -> Any:
    """One payload as the data of its kind (the audit's TEST01 compares these, not bytes): UTF-8 text for
    translation (undecodable bytes replaced: they then differ as text), ``[K, 7]`` float32 rows for
    detection, float32 values otherwise; a ValueError when the bytes cannot be that."""
    if kind == TRANSLATION:
        return payload.decode("utf-8", errors="replace")
    values = np.frombuffer(payload, dtype=np.float32)
    return values.reshape(-1, DETECTION_FIELDS) if kind == DETECTION else values


def payload_kind(results: Mapping[int, bytes]) -> str | None:
    """The kind whose form every non-empty payload has (classification, detection, translation), or None:
    no answered sample, or no kind fits."""
    answered = {index: payload for index, payload in results.items() if payload}
    if not answered:
        return None
    for kind, fits in ((DETECTION, _detection), (CLASSIFICATION, _classification), (TRANSLATION, _translation)):
        if fits(answered):
            return kind
    return None


def require_kind(results: Mapping[int, bytes], expected: str | None, log: Path, benchmark: str) -> None:
    """A UsageError naming ``log`` when its payloads are not those ``benchmark`` writes (``expected``)."""
    if expected is None or not any(results.values()):
        return
    kind = payload_kind(results)
    if kind == expected:
        return
    if kind is None and expected == CLASSIFICATION:
        try:  # says what the payloads are and asks for --dtype
            choose_labels(results)
        except UsageError as exc:
            raise UsageError(f"--log {log}: {exc}") from None
    if kind is None:
        raise UsageError(f"--log {log}: not a {benchmark} accuracy log: its payloads ({payload_sizes(results)}) are "
                         f"not {FORMS[expected]} (nor any benchmark's); score the mlperf_log_accuracy.json of a run "
                         "of this benchmark")
    raise UsageError(f"--log {log}: not a {benchmark} accuracy log: it looks like one of {WRITERS[kind]} "
                     f"({FORMS[kind]}); score it with that benchmark, or pass this benchmark's log")
