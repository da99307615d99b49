from __future__ import annotations

import json

from vision.ssd_resnet34.benchmark import REFERENCE_STATE_DICT
from vision.ssd_resnet34.model import SSDResNet34


def test_parameters_and_state_dict_match_the_reference():
    reference = json.loads(REFERENCE_STATE_DICT.read_text())
    model = SSDResNet34()
    assert sum(p.numel() for p in model.parameters()) == 19_972_534  # facts: trainable elements
    shapes = [list(t.shape) for t in model.state_dict().values()]
    assert len(shapes) == 218
    assert shapes == [shape for _, shape, _ in reference["state_dict"]]
    # layer3's first block runs at stride 1 (v0.5 _ModifyBlock): conv1 and the 1x1 shortcut
    block = model.backbone.layer3[0]
    assert block.conv1.stride == (1, 1) and block.downsample[0].stride == (1, 1)
    assert all(head.stride == (3, 3) for head in [*model.loc, *model.conf])
