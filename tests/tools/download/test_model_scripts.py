"""download_model.sh of each benchmark against a local mirror serving stand-in model files."""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def _tgz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _bytes(name: str, size: int) -> bytes:
    seed = name.encode() * (size // len(name) + 1)
    return bytes(b ^ (i % 251) for i, b in enumerate(seed[:size]))


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (the stand-ins are whole messages of the right kind)."""
    length, encoded = len(payload), bytearray()
    while True:
        encoded.append(length & 0x7F | (0x80 if length > 0x7F else 0))
        length >>= 7
        if not length:
            break
    return bytes([number << 3 | 2]) + bytes(encoded) + payload


def _stand_in(name: str, size: int = 300_000) -> bytes:
    """Distinct bytes per file, bigger than one read so a cut lands mid-file, shaped as the file's kind is so
    that download_model.sh's model check passes them: an ONNX ModelProto (ir_version, graph, opset_import), a
    TensorFlow GraphDef (nodes, versions), a PyTorch zip."""
    if name.endswith(".onnx"):
        return b"\x08\x07" + _field(7, _bytes(name, size)) + _field(8, b"\x10\x0d")
    if name.endswith(".pb"):
        return _field(1, _bytes(name, size)) + _field(4, b"\x08\x1b")
    if name.endswith(".pytorch"):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("archive/data/0", _bytes(name, size))
        return buffer.getvalue()
    return _bytes(name, size)


MOBILENET_FROZEN = _stand_in("mobilenet_v1_1.0_224_frozen.pb")


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


SSD_MOBILENET_FROZEN = _stand_in("frozen_inference_graph.pb")
SSD_RESNET34_PB = _stand_in("resnet34_tf.22.1.pb")
ZENODO = {"MLPERF_ZENODO_BASE_URL": "record"}  # variable -> mirror folder standing in for its base URL


@dataclass(frozen=True)
class ModelScript:
    script: str
    bases: dict[str, str]  # the variables that point the script at mirrors -> folder on the local server
    served: dict[str, bytes]  # path on the local server -> bytes; the first is fetched first
    written: dict[str, bytes]  # file in MODEL_DIR -> expected bytes

    @property
    def first(self) -> str:
        return next(iter(self.served))


SCRIPTS = {
    "resnet50": ModelScript(
        "vision/resnet50/download_model.sh", ZENODO,
        served={"record/2592612/files/resnet50_v1.onnx": _stand_in("resnet50_v1.onnx"),
                "record/2535873/files/resnet50_v1.pb": _stand_in("resnet50_v1.pb")},
        written={"resnet50_v1.onnx": _stand_in("resnet50_v1.onnx"), "resnet50_v1.pb": _stand_in("resnet50_v1.pb")}),
    "mobilenet": ModelScript(
        "vision/mobilenet/download_model.sh", ZENODO,
        served={"record/3157894/files/mobilenet_v1_1.0_224.onnx": _stand_in("mobilenet_v1_1.0_224.onnx"),
                "record/2269307/files/mobilenet_v1_1.0_224.tgz": _tgz({
                    "./mobilenet_v1_1.0_224.ckpt.index": b"index",
                    "./mobilenet_v1_1.0_224_frozen.pb": MOBILENET_FROZEN})},
        written={"mobilenet_v1_1.0_224.onnx": _stand_in("mobilenet_v1_1.0_224.onnx"),
                 "mobilenet_v1_1.0_224_frozen.pb": MOBILENET_FROZEN}),
    "ssd-mobilenet": ModelScript(
        "vision/ssd_mobilenet/download_model.sh", {**ZENODO, "MLPERF_TF_MODELS_BASE_URL": "tfmodels"},
        served={"record/3163026/files/ssd_mobilenet_v1_coco_2018_01_28.onnx": _stand_in("ssd.onnx"),
                "record/3239977/files/ssd_mobilenet_v1.pytorch": _stand_in("ssd.pytorch"),
                "tfmodels/ssd_mobilenet_v1_coco_2018_01_28.tar.gz": _tgz({
                    "ssd_mobilenet_v1_coco_2018_01_28/model.ckpt.index": b"index",
                    "ssd_mobilenet_v1_coco_2018_01_28/frozen_inference_graph.pb": SSD_MOBILENET_FROZEN})},
        written={"ssd_mobilenet_v1_coco_2018_01_28.onnx": _stand_in("ssd.onnx"),
                 "ssd_mobilenet_v1.pytorch": _stand_in("ssd.pytorch"),
                 "ssd_mobilenet_v1_coco_2018_01_28.pb": SSD_MOBILENET_FROZEN}),
    "ssd-resnet34": ModelScript(
        "vision/ssd_resnet34/download_model.sh", ZENODO,
        served={"record/3228411/files/resnet34-ssd1200.onnx": _stand_in("resnet34-ssd1200.onnx"),
                "record/3236545/files/resnet34-ssd1200.pytorch": _stand_in("resnet34-ssd1200.pytorch"),
                "record/3345892/files/tf_ssd_resnet34_22.1.zip": _zip({
                    "tf_ssd_resnet34_22.1/resnet34_tf.22.1.pb": SSD_RESNET34_PB,
                    "tf_ssd_resnet34_22.1/README": b"readme"})},
        written={"resnet34-ssd1200.onnx": _stand_in("resnet34-ssd1200.onnx"),
                 "resnet34-ssd1200.pytorch": _stand_in("resnet34-ssd1200.pytorch"),
                 "resnet34_tf.22.1.pb": SSD_RESNET34_PB}),
}
COVERS = ("vision/resnet50/download_model.sh", "vision/mobilenet/download_model.sh",
          "vision/ssd_mobilenet/download_model.sh", "vision/ssd_resnet34/download_model.sh")


def _serve(www: Path, spec: ModelScript) -> None:
    for relative, data in spec.served.items():
        path = www / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _env(server, spec: ModelScript) -> dict[str, str]:
    """The mirrors, and for ResNet50 the stand-ins' md5 in place of the published ones (the script's own
    variables for a mirror you trust)."""
    env = {variable: f"{server.base_url}/{folder}" for variable, folder in spec.bases.items()}
    if spec.script == "vision/resnet50/download_model.sh":
        env["RESNET50_ONNX_MD5"] = hashlib.md5(spec.written["resnet50_v1.onnx"]).hexdigest()
        env["RESNET50_PB_MD5"] = hashlib.md5(spec.written["resnet50_v1.pb"]).hexdigest()
    return env


def test_covers_names_the_scripts_of_the_table():
    assert sorted(COVERS) == sorted(spec.script for spec in SCRIPTS.values())


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_good_path_writes_every_model_file(run_script, name, server, www, tmp_path):
    spec = SCRIPTS[name]
    _serve(www, spec)
    out = tmp_path / "models"
    result = run_script(spec.script, "-o", str(out), env=_env(server, spec))
    assert result.returncode == 0, result.stderr
    for file, data in spec.written.items():
        assert (out / file).read_bytes() == data, file
    assert not list(out.rglob("*.part"))


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_model_dir_from_the_environment(run_script, name, server, www, tmp_path):
    spec = SCRIPTS[name]
    _serve(www, spec)
    result = run_script(spec.script, env={**_env(server, spec), "MODEL_DIR": str(tmp_path / "m")})
    assert result.returncode == 0, result.stderr
    assert sorted(spec.written) == sorted(p.name for p in (tmp_path / "m").iterdir() if p.name in spec.written)


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_truncated_download_is_resumed(run_script, name, server, www, tmp_path):
    spec = SCRIPTS[name]
    _serve(www, spec)
    out = tmp_path / "models"
    out.mkdir()
    first_file = spec.first.rsplit("/", 1)[1]
    (out / f"{first_file}.part").write_bytes(spec.served[spec.first][:100_000])  # an interrupted run's part
    server.cut(after_bytes=50_000)  # and this run's connection drops once more
    result = run_script(spec.script, "-o", str(out), env=_env(server, spec))
    assert result.returncode == 0, result.stderr
    first_url = f"/{spec.first}"
    assert server.requests[:2] == [(first_url, "bytes=100000-"), (first_url, "bytes=150000-")]
    for file, data in spec.written.items():
        assert (out / file).read_bytes() == data, file


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_second_run_does_nothing(run_script, name, server, www, tmp_path):
    spec = SCRIPTS[name]
    _serve(www, spec)
    out = tmp_path / "models"
    assert run_script(spec.script, "-o", str(out), env=_env(server, spec)).returncode == 0
    server.reset()
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    second = run_script(spec.script, "-o", str(out), env=_env(server, spec))
    assert second.returncode == 0, second.stderr
    assert server.requests == []
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_missing_file_on_the_mirror_fails_clearly_and_leaves_no_complete_looking_file(
        run_script, name, server, www, tmp_path):
    spec = SCRIPTS[name]
    _serve(www, spec)
    (www / spec.first).unlink()
    out = tmp_path / "models"
    result = run_script(spec.script, "-o", str(out), env=_env(server, spec))
    assert result.returncode == 1
    first_file = spec.first.rsplit("/", 1)[1]
    assert "HTTP 404" in result.stderr
    assert f"error: download of {first_file} failed (the line above says why)" in result.stderr
    assert not (out / first_file).exists()


def test_mobilenet_tgz_without_the_frozen_graph_is_refused(run_script, server, www, tmp_path):
    spec = SCRIPTS["mobilenet"]
    _serve(www, spec)
    (www / "record/2269307/files/mobilenet_v1_1.0_224.tgz").write_bytes(_tgz({"./other.pb": b"x"}))
    out = tmp_path / "models"
    result = run_script(spec.script, "-o", str(out), env=_env(server, spec))
    assert result.returncode == 1
    assert result.stderr.strip().endswith("holds no mobilenet_v1_1.0_224_frozen.pb or is cut short; it was removed, "
                                          "run again")
    assert not (out / "mobilenet_v1_1.0_224_frozen.pb").exists()
    assert not (out / "mobilenet_v1_1.0_224.tgz").exists()  # a rerun fetches it again instead of trusting it
    assert not [p for p in out.iterdir() if p.name.startswith(".extract")]


def test_ssd_mobilenet_tarball_without_the_frozen_graph_is_refused(run_script, server, www, tmp_path):
    spec = SCRIPTS["ssd-mobilenet"]
    _serve(www, spec)
    (www / "tfmodels/ssd_mobilenet_v1_coco_2018_01_28.tar.gz").write_bytes(_tgz({"other/x.pb": b"x"}))
    out = tmp_path / "models"
    result = run_script(spec.script, "-o", str(out), env=_env(server, spec))
    assert result.returncode == 1
    assert "lacks ssd_mobilenet_v1_coco_2018_01_28/frozen_inference_graph.pb or is cut short; it was removed" \
        in result.stderr
    assert not (out / "ssd_mobilenet_v1_coco_2018_01_28.pb").exists()
    assert not (out / "ssd_mobilenet_v1_coco_2018_01_28.tar.gz").exists() and not list(out.glob(".extract*"))


def test_ssd_resnet34_zip_without_the_graph_is_refused(run_script, server, www, tmp_path):
    spec = SCRIPTS["ssd-resnet34"]
    _serve(www, spec)
    (www / "record/3345892/files/tf_ssd_resnet34_22.1.zip").write_bytes(_zip({"README": b"x"}))
    out = tmp_path / "models"
    result = run_script(spec.script, "-o", str(out), env=_env(server, spec))
    assert result.returncode == 1
    assert "tf_ssd_resnet34_22.1.zip has no resnet34_tf.22.1.pb; it was removed" in result.stderr
    assert not (out / "resnet34_tf.22.1.pb").exists() and not list(out.glob(".extract*"))
    assert not (out / "tf_ssd_resnet34_22.1.zip").exists()
