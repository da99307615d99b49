from __future__ import annotations

import json

from vision.coco.annotations import load_index

# COCO 2017: 80 categories with ids 1..90 except these ten
MISSING_IDS = {12, 26, 29, 30, 45, 66, 68, 69, 71, 83}


def test_synthetic_folder_has_the_real_layout_and_categories(coco_samples):
    data = json.loads((coco_samples / "annotations" / "instances_val2017.json").read_text())
    ids = [c["id"] for c in data["categories"]]
    assert len(ids) == 80 and set(range(1, 91)) - set(ids) == MISSING_IDS
    assert data["categories"][0]["name"] == "person" and data["categories"][-1]["name"] == "toothbrush"
    annotated = {a["image_id"] for a in data["annotations"]}
    assert 0 < len(annotated) < len(data["images"])  # some images without annotations
    index = load_index(coco_samples)
    sizes = {(i.width, i.height) for i in index.images}
    assert len(sizes) > 4
    for image in index.images:
        assert index.image_path(image).is_file()
