"""The options of the v0.5 accuracy scripts that ``mlperf-ref accuracy`` takes, and which benchmarks they
apply to: ``accuracy-imagenet.py --dtype``; ``accuracy-coco.py --use-inv-map``, ``--remove-48-empty-images``
and ``--output-file``. ``process_accuracy.py`` (GNMT) has none beyond the log and the reference."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from common.accuracy.payloads import CLASSIFICATION, DETECTION
from common.errors import UsageError


@dataclass(frozen=True)
class ScoreOptions:
    """How to read an accuracy log; the defaults are the official scripts' except ``dtype``."""

    dtype: str | None = None  # classification: float32, int32 or int64; None decides from the payloads
    use_inv_map: bool = False  # detection: payload classes are 1..80, mapped to the COCO category ids
    remove_48_empty_images: bool = False  # detection: qsl i is the i-th image that has annotations
    output_file: Path | None = None  # detection: write the detections as COCO results JSON

    def given(self) -> dict[str, str]:
        """The options set, by their command-line name, with the form they apply to."""
        found = {"--dtype": (self.dtype is not None, CLASSIFICATION),
                 "--use-inv-map": (self.use_inv_map, DETECTION),
                 "--remove-48-empty-images": (self.remove_48_empty_images, DETECTION),
                 "--output-file": (self.output_file is not None, DETECTION)}
        return {name: kind for name, (is_set, kind) in found.items() if is_set}

    def require_applies(self, kind: str | None, benchmark: str) -> None:
        """A UsageError naming the first option that does not apply to ``benchmark``'s logs (form ``kind``)."""
        for name, applies_to in self.given().items():
            if applies_to != kind:
                script = "accuracy-imagenet.py (resnet50, mobilenet)" if applies_to == CLASSIFICATION \
                    else "accuracy-coco.py (ssd-mobilenet, ssd-resnet34)"
                raise UsageError(f"{name} is an option of {script}, not of {benchmark}'s scorer; drop it")
