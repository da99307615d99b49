"""The COCO layout ``<dir>/val2017/*.jpg`` + ``<dir>/annotations/instances_val2017.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from common.errors import UsageError

IMAGES_DIR = "val2017"
ANNOTATIONS_FILE = Path("annotations") / "instances_val2017.json"
CATEGORIES_FILE = Path(__file__).with_name("categories.json")  # the 80 COCO 2017 categories (ids 1..90)


@dataclass(frozen=True)
class CocoImage:
    """One entry of ``images`` in the annotation file (sample order = file order)."""

    id: int
    file_name: str
    height: int
    width: int


@dataclass(frozen=True)
class CocoIndex:
    """The images and categories of one COCO-layout folder."""

    root: Path
    images: tuple[CocoImage, ...]
    category_ids: tuple[int, ...]  # in annotation-file order (sorted for COCO 2017)

    @property
    def annotations_file(self) -> Path:
        return self.root / ANNOTATIONS_FILE

    def image_path(self, image: CocoImage) -> Path:
        return self.root / IMAGES_DIR / image.file_name


def coco_categories() -> list[dict]:
    """The 80 COCO 2017 categories: ``{"supercategory", "id", "name"}``."""
    return json.loads(CATEGORIES_FILE.read_text(encoding="utf-8"))


def annotations_path(root: Path) -> Path:
    """The annotation file of a dataset folder, or a clear error naming it and the fix."""
    path = Path(root) / ANNOTATIONS_FILE
    if not path.is_file():
        raise UsageError(
            f"--dataset-path {root}: missing {ANNOTATIONS_FILE} (run download_dataset.sh or "
            f"'mlperf-ref make-samples' and point --dataset-path at the coco folder)"
        )
    return path


def load_index(root: Path) -> CocoIndex:
    """Read the annotation file of ``root`` (images in file order, category ids in file order)."""
    path = annotations_path(root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        images = tuple(
            CocoImage(int(i["id"]), str(i["file_name"]), int(i["height"]), int(i["width"]))
            for i in data["images"]
        )
        category_ids = tuple(int(c["id"]) for c in data["categories"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{path}: not a COCO instances file ({exc!r}); download it again") from exc
    if not (Path(root) / IMAGES_DIR).is_dir():
        raise UsageError(f"--dataset-path {root}: missing the {IMAGES_DIR}/ folder (run download_dataset.sh)")
    return CocoIndex(Path(root), images, category_ids)
