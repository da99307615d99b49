"""The predicted label in a classification payload, read as the v0.5 ``accuracy-imagenet.py`` reads it:
``--dtype float32|int32|int64`` (float32 by default there), the first value of the payload.

Submitters' SUTs wrote the label in any of the three: NVIDIA's, Google's and Alibaba's logs hold int32,
Intel's and Tencent's PyTorch/Caffe2 ones 8 bytes (int64, or an int32 label followed by 4 more bytes),
the reference and dividiti's float32. Without ``--dtype`` the dtype is decided from the payloads where
that is certain: every reading that gives each sample a whole-number label in -1..1000 gives the same
labels (the forms cannot be confused: small int32 values read as float32 are denormals, float32 labels read
as int32 are above a billion). Otherwise a UsageError asks for ``--dtype``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from common.errors import UsageError

# accuracy-imagenet.py's --dtype choices (its default first)
LABEL_DTYPES: dict[str, np.dtype] = {name: np.dtype(name) for name in ("float32", "int32", "int64")}
LOWEST_LABEL, HIGHEST_LABEL = -1, 1000  # a model's 1001 classes less the background offset
# The longest payload read as a label without --dtype: one int64, or a 4-byte label and 4 more bytes (what
# Intel's and Tencent's PyTorch/Caffe2 SUTs wrote). Longer ones (an SSD's detections start with a whole
# number too) are no certain label.
LONGEST_LABEL_PAYLOAD = 8


@dataclass(frozen=True)
class LabelReading:
    """Labels by qsl index (None: an empty payload) in one dtype, and how that dtype was chosen."""

    dtype: str
    labels: dict[int, int | None]
    note: str  # one line for the report: what was read and why


def payload_sizes(results: Mapping[int, bytes]) -> str:
    """The payload sizes of a log in words: '4 bytes per sample', '4 or 8 bytes per sample'."""
    sizes = sorted({len(payload) for payload in results.values() if payload})
    if not sizes:
        return "no answered sample"
    shown = " or ".join(str(size) for size in sizes[:4]) + (" or more" if len(sizes) > 4 else "")
    return f"{shown} bytes per sample"


def readable(results: Mapping[int, bytes], dtype: str) -> bool:
    """Whether every non-empty payload is whole values of ``dtype`` (numpy, as the official script uses it,
    reads no other)."""
    size = LABEL_DTYPES[dtype].itemsize
    return all(len(payload) % size == 0 for payload in results.values())


def read_labels(results: Mapping[int, bytes], dtype: str) -> dict[int, int | None]:
    """The first ``dtype`` value of each payload as an int (a NaN or infinity as -2, a label no image has);
    None for an empty payload. The payloads must be ``readable`` in ``dtype``."""
    kind = LABEL_DTYPES[dtype]
    labels: dict[int, int | None] = {}
    for index, payload in results.items():
        if not payload:
            labels[index] = None
            continue
        value = np.frombuffer(payload, dtype=kind, count=1)[0]
        labels[index] = int(value) if np.isfinite(value) else LOWEST_LABEL - 1
    return labels


def _label_fraction(results: Mapping[int, bytes], dtype: str) -> float:
    """The fraction of answered samples whose first ``dtype`` value is a whole number in -1..1000."""
    kind = LABEL_DTYPES[dtype]
    answered = [payload for payload in results.values() if payload]
    if not answered or not readable(results, dtype):
        return 0.0
    values = np.array([np.frombuffer(p, dtype=kind, count=1)[0] for p in answered]).astype(np.float64)
    short = np.array([len(p) <= LONGEST_LABEL_PAYLOAD for p in answered])
    with np.errstate(invalid="ignore"):
        fits = np.isfinite(values) & (values == np.round(values)) & (values >= LOWEST_LABEL) & (values <= HIGHEST_LABEL)
    return float(np.mean(fits & short))


def fitting_dtypes(results: Mapping[int, bytes]) -> dict[str, float]:
    """For each official dtype, the fraction of answered samples it reads as a label (0 where the payload
    sizes are no multiple of its size; a payload longer than 8 bytes never counts)."""
    return {dtype: _label_fraction(results, dtype) for dtype in LABEL_DTYPES}


def _trailing(results: Mapping[int, bytes], dtype: str) -> str:
    """' followed by N more bytes' where the payloads are longer than one value of ``dtype``."""
    extra = Counter(len(p) - LABEL_DTYPES[dtype].itemsize for p in results.values() if p)
    longer = sorted(size for size in extra if size > 0)
    return f": the label, then {' or '.join(map(str, longer))} more bytes (ignored, as the official script does)" \
        if longer else ""


def choose_labels(results: Mapping[int, bytes], dtype: str | None = None) -> LabelReading:
    """Read the labels in ``dtype`` (``--dtype``) or, without it, in the dtype the payloads show for certain;
    a UsageError names the payload sizes and asks for ``--dtype`` where they do not."""
    sizes = payload_sizes(results)
    if dtype is not None:
        if dtype not in LABEL_DTYPES:
            raise UsageError(f"--dtype {dtype}: choose one of {', '.join(LABEL_DTYPES)}")
        if not readable(results, dtype):
            raise UsageError(f"--dtype {dtype}: the payloads are {sizes}, not whole {dtype} values "
                             f"({LABEL_DTYPES[dtype].itemsize} bytes each); accuracy-imagenet.py cannot read them "
                             "either")
        return LabelReading(dtype, read_labels(results, dtype), f"labels read as {dtype} (--dtype; {sizes}"
                            f"{_trailing(results, dtype)})")
    fractions = fitting_dtypes(results)
    whole = [name for name, fraction in fractions.items() if fraction == 1.0]
    readings = {name: read_labels(results, name) for name in whole}
    if whole and all(readings[name] == readings[whole[0]] for name in whole):
        # Prefer the dtype whose size is the payload's (int64 over int32 for 8 bytes that read the same).
        chosen = max(whole, key=lambda name: (_exact(results, name), -list(LABEL_DTYPES).index(name)))
        others = [name for name in whole if name != chosen]
        same = f"; {' and '.join(others)} reads the same labels" if others else ""
        rejected = [f"{name} {100 * fractions[name]:.1f}%" for name in LABEL_DTYPES if name not in whole
                    and readable(results, name)]
        reason = f"; labels -1..1000 in {', '.join(rejected)} of samples" if rejected else ""
        return LabelReading(chosen, readings[chosen], f"labels read as {chosen}, decided from the payloads ({sizes}"
                            f"{_trailing(results, chosen)}{same}{reason}); --dtype overrides")
    shares = ", ".join(f"{name} {100 * fraction:.1f}%" for name, fraction in fractions.items()
                       if readable(results, name))
    if whole:  # several dtypes read every sample as a label, but not the same labels
        raise UsageError(f"the payloads ({sizes}) read as labels in {' and '.join(whole)} alike, with different "
                         "labels: pass --dtype float32|int32|int64 (what the SUT wrote)")
    if not shares:
        raise UsageError(f"the payloads are {sizes}: not whole float32, int32 or int64 values, so no label can be "
                         "read (accuracy-imagenet.py cannot read them either)")
    raise UsageError(f"the payloads are {sizes}; no dtype reads every sample as a label -1..1000 (as labels: "
                     f"{shares} of samples), so which one the SUT wrote is not certain: pass --dtype "
                     "float32|int32|int64 to score it as accuracy-imagenet.py would")


def _exact(results: Mapping[int, bytes], dtype: str) -> bool:
    """Whether every non-empty payload is exactly one ``dtype`` value."""
    size = LABEL_DTYPES[dtype].itemsize
    return all(len(payload) == size for payload in results.values() if payload)
