"""Finished runs on the sample data, made once for the submission tests: short settings, real LoadGen logs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.cli import main
from vision.imagenet.samples import write_samples


def run(*words: str) -> None:
    """``mlperf-ref run ...`` in this process; it must finish."""
    assert main(["run", *words]) in (0, 1)


@pytest.fixture(scope="session")
def imagenet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_samples(tmp_path_factory.mktemp("submission-samples"))


def short_conf(folder: Path, scenario: str, *extra: str) -> Path:
    """A user conf with the short settings the tests run with (far below the v0.5 minimums)."""
    path = folder / f"short-{scenario}.conf"
    lines = [f"*.{scenario}.min_duration = 0", f"*.{scenario}.min_query_count = 100", *extra]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="session")
def null_run(imagenet: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """resnet50 on the null backend, SingleStream, accuracy and performance, short settings (VALID)."""
    out = tmp_path_factory.mktemp("null-run")
    conf = short_conf(out, "SingleStream")
    run("resnet50", "--backend", "null", "--scenario", "SingleStream", "--both", "--dataset-path", str(imagenet),
        "--user-conf", str(conf), "--output", str(out / "run"))
    return out / "run"


@pytest.fixture(scope="session")
def quick_run(imagenet: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same in --quick mode: too few queries, so LoadGen says INVALID."""
    out = tmp_path_factory.mktemp("quick-run") / "run"
    run("resnet50", "--backend", "null", "--scenario", "SingleStream", "--dataset-path", str(imagenet), "--quick",
        "--output", str(out))
    return out


@pytest.fixture(scope="session")
def seed_run(imagenet: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The short null run with another qsl_rng_seed set by the user's conf."""
    out = tmp_path_factory.mktemp("seed-run")
    conf = short_conf(out, "SingleStream", "*.*.qsl_rng_seed = 12345")
    run("resnet50", "--backend", "null", "--scenario", "SingleStream", "--dataset-path", str(imagenet),
        "--user-conf", str(conf), "--output", str(out / "run"))
    return out / "run"


@pytest.fixture(scope="session")
def onnx_run(imagenet: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """MobileNet with seeded random weights on onnxruntime, Offline, both phases, short settings."""
    out = tmp_path_factory.mktemp("onnx-run")
    model = out / "mobilenet_v1_1.0_224.onnx"
    assert main(["export-model", "mobilenet", "--output", str(model)]) == 0
    conf = out / "short.conf"
    conf.write_text("*.Offline.min_duration = 0\n*.Offline.min_query_count = 20\n")
    run("mobilenet", "--backend", "onnxruntime", "--model", str(model), "--scenario", "Offline", "--both",
        "--dataset-path", str(imagenet), "--user-conf", str(conf), "--output", str(out / "run"))
    return out / "run"


@pytest.fixture(scope="session")
def system_desc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("desc") / "system.json"
    # host_storage_type too: the machine tells it only for a folder on a block device (not on a tmpfs /tmp)
    path.write_text(json.dumps({"status": "available", "system_name": "Test box", "host_storage_type": "SSD"}))
    return path
