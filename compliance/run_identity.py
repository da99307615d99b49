"""What makes two runs runs of the same implementation: benchmark, scenario, backend, precision, the model
file by its checksum, and the harness's quick and ``--count`` flags.

An audit compares its run with a reference run, and a submission files audits beside a result: both hold
only when the two sides are the same implementation. results.json and audit.json record these facts
(:func:`identity_of` reads either); the scenario is taken from LoadGen's detail log where there is one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# (key, how a difference is said); benchmark and scenario first: a difference there makes the rest moot
_KEYS = (("benchmark", "benchmark"), ("scenario", "scenario"), ("backend", "backend"),
         ("precision", "precision"), ("model_sha256", "model file (sha256)"), ("quick", "--quick"),
         ("count", "--count"))


@dataclass(frozen=True)
class RunIdentity:
    """The facts two runs must share to be compared (one audit and its reference, a result and its audit)."""

    benchmark: str | None
    scenario: str | None
    backend: str | None
    precision: str | None
    model_sha256: str | None  # None: no model file (the null backend)
    quick: bool
    count: int | None

    def differences(self, other: RunIdentity, names: tuple[str, str]) -> list[str]:
        """One phrase per fact that differs: ``backend onnxruntime (this audit) vs pytorch (the reference)``."""
        found = []
        for key, said in _KEYS:
            mine, theirs = getattr(self, key), getattr(other, key)
            if mine != theirs:
                found.append(f"{said} {_shown(key, mine)} ({names[0]}) vs {_shown(key, theirs)} ({names[1]})")
        return found


def _shown(key: str, value: Any) -> str:
    if key == "model_sha256":
        return value[:12] if value else "none"
    if key == "quick":
        return "on" if value else "off"
    return "none" if value is None else str(value)


def identity_of(facts: Mapping[str, Any], scenario: str | None = None) -> RunIdentity:
    """The identity recorded in a results.json or audit.json (``scenario``: the one LoadGen logged, which
    wins over the file's)."""
    return RunIdentity(benchmark=facts.get("benchmark"), scenario=scenario or facts.get("scenario"),
                       backend=facts.get("backend"), precision=facts.get("precision", "fp32"),
                       model_sha256=facts.get("model_sha256"), quick=bool(facts.get("quick")),
                       count=facts.get("count"))
