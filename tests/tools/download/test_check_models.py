"""The download scripts' model check (``python -m tools.download.check_models``): a bad file goes with its
checksum sidecars, so a rerun fetches it again; PyTorch saves are read without running their pickles."""

from __future__ import annotations

from pathlib import Path

import pytest
from onnx import TensorProto, helper

from tools.download.check_models import main as check_models
from tools.download.check_models import pytorch_problem

# A whole ONNX model (one Identity node), as onnx serializes it.
ONNX = helper.make_model(helper.make_graph(
    [helper.make_node("Identity", ["x"], ["y"])], "tiny",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])).SerializeToString()


def test_the_download_check_removes_a_bad_file_with_its_sidecars(tmp_path: Path, capsys) -> None:
    good, bad = tmp_path / "good.onnx", tmp_path / "bad.pb"
    good.write_bytes(ONNX)
    bad.write_bytes(ONNX)  # an ONNX model under a TensorFlow name
    for sidecar in ("bad.pb.sha256", "bad.pb.md5", "good.onnx.sha256"):
        (tmp_path / sidecar).write_text("x  y\n")
    assert check_models([str(good), str(bad)]) == 1
    assert capsys.readouterr().err == (f"error: {bad}: not a TensorFlow GraphDef: it looks like an ONNX model; it was "
                                       "removed, run the download again\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.onnx", "good.onnx.sha256"]


@pytest.fixture(scope="module")
def torch_saves(tmp_path_factory) -> dict[str, bytes]:
    """A small module saved by torch.save in the legacy format (the v0.5 .pytorch files') and in the zip one."""
    import torch

    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8), torch.nn.Linear(4, 2).double())
    folder = tmp_path_factory.mktemp("torch")
    saves = {}
    for kind, zipped in (("legacy", False), ("zip", True)):
        torch.save(module, folder / kind, _use_new_zipfile_serialization=zipped)
        saves[kind] = (folder / kind).read_bytes()
    return saves


def _torch_loads(path: Path) -> bool:
    import torch

    try:
        torch.load(path, weights_only=False)
    except Exception:  # noqa: BLE001 - any refusal counts
        return False
    return True


@pytest.mark.parametrize("kind", ["legacy", "zip"])
def test_pytorch_saves_whole_and_cut(tmp_path: Path, torch_saves: dict[str, bytes], kind: str) -> None:
    data = torch_saves[kind]
    path = tmp_path / "model.pytorch"
    path.write_bytes(data)
    assert pytorch_problem(path) is None and _torch_loads(path)
    for cut in (100, len(data) // 2, len(data) - 8, len(data) - 1):
        path.write_bytes(data[:cut])
        why = pytorch_problem(path)
        assert why is not None and why.startswith("a truncated or corrupt PyTorch "), (cut, why)
        assert not _torch_loads(path), cut
    if kind == "legacy":  # the storages' own sizes say where the file ends
        path.write_bytes(data[:-1])
        assert pytorch_problem(path) == ("a truncated or corrupt PyTorch file (the file has "
                                         f"{len(data) - 1} bytes; its storages end at {len(data)})")
