"""Which kind of benchmark wrote an accuracy log, told from its payloads, so that ``mlperf-ref accuracy``
refuses another benchmark's log instead of scoring it as 0%.

Each benchmark's payload has a form of its own (see each benchmark's post-processing):
- classification (ResNet50, MobileNet): one float32 per sample, the label, a whole number in -1..1000;
- detection (SSD-MobileNet, SSD-ResNet34): 7 float32 per detection, the first being the sample's qsl index;
- translation (GNMT): the translation as UTF-8 text.
Empty payloads (samples a failed run left unanswered) say nothing and are skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from common.errors import UsageError

CLASSIFICATION, DETECTION, TRANSLATION = "classification", "detection", "translation"
FORMS = {
    CLASSIFICATION: "one float32 label per sample",
    DETECTION: "7 float32 per detection",
    TRANSLATION: "UTF-8 text",
}
WRITERS = {CLASSIFICATION: "ResNet50 or MobileNet", DETECTION: "SSD-MobileNet or SSD-ResNet34", TRANSLATION: "GNMT"}
DETECTION_FIELDS = 7
MAX_LABEL = 1000  # ImageNet labels with the background class: -1..1000


def _classification(payloads: Mapping[int, bytes]) -> bool:
    if any(len(p) != 4 for p in payloads.values()):
        return False
    labels = np.frombuffer(b"".join(payloads.values()), np.float32)
    return bool(np.all(np.isfinite(labels)) and np.all(labels == np.round(labels))
                and np.all((labels >= -1) & (labels <= MAX_LABEL)))


def _detection(payloads: Mapping[int, bytes]) -> bool:
    for index, payload in payloads.items():
        if len(payload) % (4 * DETECTION_FIELDS):
            return False
        if not np.all(np.frombuffer(payload, np.float32)[::DETECTION_FIELDS] == np.float32(index)):
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
    for kind, fits in ((CLASSIFICATION, _classification), (DETECTION, _detection), (TRANSLATION, _translation)):
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
    if kind is None:
        raise UsageError(f"--log {log}: not a {benchmark} accuracy log: its payloads are not {FORMS[expected]} "
                         "(nor any benchmark's); score the mlperf_log_accuracy.json of a run of this benchmark")
    raise UsageError(f"--log {log}: not a {benchmark} accuracy log: it looks like one of {WRITERS[kind]} "
                     f"({FORMS[kind]}); score it with that benchmark, or pass this benchmark's log")
