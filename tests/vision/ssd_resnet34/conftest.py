"""Synthetic COCO data and seeded random-weight SSD-ResNet34 files, made once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from vision.ssd_resnet34.anchors import FEATURE_MAPS
from vision.ssd_resnet34.benchmark import SSDResNet34Benchmark
from vision.ssd_resnet34.model import BOXES_PER_LOCATION, NUM_LABELS


@pytest.fixture(scope="session")
def resnet34_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ssd-resnet34")
    bench = SSDResNet34Benchmark()
    files = {"data": bench.make_samples(root / "samples"), "cache": root / "cache"}
    for suffix in (".onnx", ".pb", ".pt"):
        files[suffix] = bench.export_model(root / f"resnet34-ssd1200{suffix}", seed=0)
    return files


class TinyHeads(nn.Module):
    """A cheap stand-in with SSD-ResNet34's raw-head layout (locs [N, 4, 15130], confs [N, 81, 15130]).

    The end-to-end runs of the four scenarios need a file with the official interface, not the 216-GMAC
    network: each level resizes the image to the head's size and applies 1x1 convolutions.
    """

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.loc = nn.ModuleList(nn.Conv2d(3, b * 4, 1) for b in BOXES_PER_LOCATION)
        self.conf = nn.ModuleList(nn.Conv2d(3, b * NUM_LABELS, 1) for b in BOXES_PER_LOCATION)

    def forward(self, image: torch.Tensor):
        n = image.shape[0]
        maps = [F.interpolate(image, size=(size, size), mode="bilinear") for size in FEATURE_MAPS]
        locs = torch.cat([head(m).reshape(n, 4, -1) for head, m in zip(self.loc, maps, strict=True)], 2)
        confs = torch.cat(
            [head(m).reshape(n, NUM_LABELS, -1) * 8 for head, m in zip(self.conf, maps, strict=True)], 2
        )
        return locs, confs


@pytest.fixture(scope="session")
def tiny_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from vision.ssd_resnet34.export import export_onnx

    return export_onnx(TinyHeads().eval(), tmp_path_factory.mktemp("tiny") / "tiny-ssd1200.onnx")
