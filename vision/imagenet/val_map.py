"""``val_map.txt``: one line per validation image, ``<path relative to the dataset folder> <label>``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.errors import UsageError

VAL_MAP = "val_map.txt"
# The 50,000-line list for ILSVRC2012_img_val.tar that ships with the project (origin: README.md here).
SHIPPED_VAL_MAP = Path(__file__).with_name(VAL_MAP)
NUM_CLASSES = 1000  # ImageNet labels 0..999 (the models' 1001 outputs add background at index 0)
VAL_IMAGES = 50_000  # ILSVRC2012 validation images


@dataclass(frozen=True)
class ValMap:
    """The image paths (relative to the dataset folder) and their labels, in val_map.txt order."""

    names: tuple[str, ...]
    labels: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.names)


def read_val_map(path: Path) -> ValMap:
    """Read ``path`` (a val_map.txt, or a folder holding one); errors name the file and line."""
    path = Path(path)
    file = path / VAL_MAP if path.is_dir() else path
    if not file.is_file():
        raise UsageError(f"--dataset-path {path}: no {VAL_MAP} there (run download_dataset.sh, or "
                         "'mlperf-ref make-samples' for the synthetic sample set)")
    names: list[str] = []
    labels: list[int] = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.rsplit(maxsplit=1)
        if len(parts) != 2 or not parts[1].isdigit() or int(parts[1]) >= NUM_CLASSES:
            raise UsageError(f"{file}:{number}: expected '<image path> <label 0..999>', got {line!r}")
        names.append(parts[0].strip())
        labels.append(int(parts[1]))
    if not names:
        raise UsageError(f"{file}: lists no images")
    return ValMap(tuple(names), np.asarray(labels, dtype=np.int64))
