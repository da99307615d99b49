"""Loading a whole-model pickle of the reference's classes without their code."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest
import torch
from torch import nn

from common.errors import UsageError
from vision.detection.whole_model import load_weights
from vision.ssd_mobilenet.benchmark import REFERENCE_STATE_DICT as MOBILENET_NAMES
from vision.ssd_mobilenet.model import SSDMobileNetV1
from vision.ssd_resnet34.benchmark import REFERENCE_STATE_DICT as RESNET34_NAMES
from vision.ssd_resnet34.model import SSDResNet34

BUFFER_SUFFIXES = ("running_mean", "running_var", "num_batches_tracked", ".scale", "/BatchNorm.bias")


def build_reference_pickle(
    path: Path, reference: Path, monkeypatch: pytest.MonkeyPatch, legacy: bool = False
) -> dict:
    """Pickle a module tree whose classes live at the reference's paths (e.g. models.ssd_r34.SSD_R34),
    with the reference's state-dict names and shapes, then make those modules unimportable again."""
    data = json.loads(reference.read_text())
    classes = {}
    created: list[str] = []
    for path_name in data["module_classes"]:
        module_name, _, class_name = path_name.rpartition(".")
        if module_name.startswith("torch.nn"):
            continue
        parts = module_name.split(".")
        for depth in range(1, len(parts) + 1):  # the packages too: pickle imports 'models' first
            name = ".".join(parts[:depth])
            if name not in sys.modules:
                monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
                created.append(name)
        module = sys.modules[module_name]
        cls = type(class_name, (nn.Module,), {"__module__": module_name})
        setattr(module, class_name, cls)
        classes[path_name] = cls
    root_class = classes[[c for c in classes if c.endswith(("SSD_R34", ".SSD"))][0]]
    root = root_class()
    generator = torch.Generator().manual_seed(3)
    values = {}
    for name, shape, dtype in data["state_dict"]:
        *parents, leaf = name.split(".")
        owner = root
        for part in parents:
            if part not in owner._modules:
                owner.add_module(part, nn.Module())
            owner = owner._modules[part]
        tensor = torch.tensor(7) if dtype == "int64" else torch.randn(shape, generator=generator)
        if name.endswith(BUFFER_SUFFIXES):
            owner.register_buffer(leaf, tensor)
        else:
            owner.register_parameter(leaf, nn.Parameter(tensor))
        values[name] = tensor
    if "models.ssd_r34" in sys.modules:  # SSD_R34.encoder: a plain object holding the default boxes
        encoder_class = type("Encoder", (), {"__module__": "models.ssd_r34"})
        sys.modules["models.ssd_r34"].Encoder = encoder_class
        root.encoder = encoder_class()
        root.encoder.dboxes = torch.zeros(15130, 4, dtype=torch.float64)
    torch.save(root, path, _use_new_zipfile_serialization=not legacy)  # legacy: the 2019 (torch 1.1) format
    for name in created:  # unpickling must not find the reference's code
        monkeypatch.delitem(sys.modules, name, raising=False)
    return values


@pytest.mark.parametrize("legacy", [False, True])
def test_resnet34_pickle_maps_onto_our_names(tmp_path, monkeypatch, legacy):
    values = build_reference_pickle(
        tmp_path / "resnet34-ssd1200.pytorch", RESNET34_NAMES, monkeypatch, legacy
    )
    model = load_weights(tmp_path / "resnet34-ssd1200.pytorch", SSDResNet34(), _names(RESNET34_NAMES))
    assert torch.equal(model.backbone.conv1.weight, values["model.layer1.0.weight"])
    assert torch.equal(
        model.backbone.layer3[0].downsample[0].weight, values["model.layer2.0.0.downsample.0.weight"]
    )
    assert torch.equal(model.extras[4].expand.bias, values["additional_blocks.4.2.bias"])
    assert torch.equal(model.conf[5].weight, values["conf.5.weight"])


def test_mobilenet_pickle_with_slash_names_maps_onto_ours(tmp_path, monkeypatch):
    values = build_reference_pickle(tmp_path / "ssd_mobilenet_v1.pytorch", MOBILENET_NAMES, monkeypatch)
    model = load_weights(tmp_path / "ssd_mobilenet_v1.pytorch", SSDMobileNetV1(), _names(MOBILENET_NAMES))
    assert torch.equal(
        model.backbone.layers[1].depthwise_norm.scale, values["backbone.1.depthwise/BatchNorm.scale"]
    )
    assert torch.equal(model.backbone.layers[0].norm.bias, values["backbone.0.0/BatchNorm.bias"])
    assert torch.equal(model.extras[3].expand.weight, values["extras.3.2.weight"])
    assert torch.equal(model.heads[5].regression.bias, values["predictors.5.regression.bias"])


def test_our_state_dict_loads_and_a_foreign_file_is_refused(tmp_path):
    model = SSDMobileNetV1()
    torch.save(model.state_dict(), tmp_path / "ours.pt")
    loaded = load_weights(tmp_path / "ours.pt", SSDMobileNetV1(), _names(MOBILENET_NAMES))
    assert torch.equal(loaded.heads[0].classification.weight, model.heads[0].classification.weight)
    torch.save({"other.weight": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(UsageError, match="not the expected model"):
        load_weights(tmp_path / "other.pt", SSDMobileNetV1(), _names(MOBILENET_NAMES))
    (tmp_path / "junk.pytorch").write_bytes(b"junk")
    with pytest.raises(UsageError, match="junk.pytorch"):
        load_weights(tmp_path / "junk.pytorch", SSDMobileNetV1(), _names(MOBILENET_NAMES))


def _names(path: Path) -> list[str]:
    return [n for n, _, _ in json.loads(path.read_text())["state_dict"]]


def test_a_pickle_reaching_for_eval_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (eval, ("1 + 1",))

    torch.save({"x": Evil()}, tmp_path / "evil.pytorch")
    with pytest.raises(UsageError, match="refusing to load builtins.eval"):
        load_weights(tmp_path / "evil.pytorch", SSDMobileNetV1(), _names(MOBILENET_NAMES))
