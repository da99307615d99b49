"""download_model.sh of each benchmark against a local mirror serving stand-in model files."""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _tgz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _stand_in(name: str, size: int = 300_000) -> bytes:
    """Distinct bytes per file, bigger than one read so a cut lands mid-file."""
    seed = name.encode() * (size // len(name) + 1)
    return bytes(b ^ (i % 251) for i, b in enumerate(seed[:size]))


COVERS = ("vision/resnet50/download_model.sh", "vision/mobilenet/download_model.sh")
MOBILENET_FROZEN = _stand_in("mobilenet_v1_1.0_224_frozen.pb")


@dataclass(frozen=True)
class ModelScript:
    script: str
    base_env: str  # the variable that points the script at a mirror
    base_suffix: str  # path of the official base URL below the mirror root
    served: dict[str, bytes]  # mirror path below base -> bytes
    written: dict[str, bytes]  # file in MODEL_DIR -> expected bytes
    first: str = field(default="")  # the first URL path the script fetches


SCRIPTS = {
    "resnet50": ModelScript(
        "vision/resnet50/download_model.sh", "MLPERF_ZENODO_BASE_URL", "record",
        served={"2592612/files/resnet50_v1.onnx": _stand_in("resnet50_v1.onnx"),
                "2535873/files/resnet50_v1.pb": _stand_in("resnet50_v1.pb")},
        written={"resnet50_v1.onnx": _stand_in("resnet50_v1.onnx"), "resnet50_v1.pb": _stand_in("resnet50_v1.pb")},
        first="2592612/files/resnet50_v1.onnx"),
    "mobilenet": ModelScript(
        "vision/mobilenet/download_model.sh", "MLPERF_ZENODO_BASE_URL", "record",
        served={"3157894/files/mobilenet_v1_1.0_224.onnx": _stand_in("mobilenet_v1_1.0_224.onnx"),
                "2269307/files/mobilenet_v1_1.0_224.tgz": _tgz({
                    "./mobilenet_v1_1.0_224.ckpt.index": b"index",
                    "./mobilenet_v1_1.0_224_frozen.pb": MOBILENET_FROZEN})},
        written={"mobilenet_v1_1.0_224.onnx": _stand_in("mobilenet_v1_1.0_224.onnx"),
                 "mobilenet_v1_1.0_224_frozen.pb": MOBILENET_FROZEN},
        first="3157894/files/mobilenet_v1_1.0_224.onnx"),
}


def _serve(www: Path, spec: ModelScript) -> None:
    for relative, data in spec.served.items():
        path = www / spec.base_suffix / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _env(server, spec: ModelScript) -> dict[str, str]:
    return {spec.base_env: f"{server.base_url}/{spec.base_suffix}"}


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
    first_url = f"/{spec.base_suffix}/{spec.first}"
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
    (www / spec.base_suffix / spec.first).unlink()
    out = tmp_path / "models"
    result = run_script(spec.script, "-o", str(out), env=_env(server, spec))
    assert result.returncode == 1
    first_file = spec.first.rsplit("/", 1)[1]
    assert "HTTP 404" in result.stderr
    assert f"error: download of {first_file} failed; run " in result.stderr
    assert not (out / first_file).exists()


def test_mobilenet_tgz_without_the_frozen_graph_is_refused(run_script, server, www, tmp_path):
    spec = SCRIPTS["mobilenet"]
    _serve(www, spec)
    (www / "record/2269307/files/mobilenet_v1_1.0_224.tgz").write_bytes(_tgz({"./other.pb": b"x"}))
    out = tmp_path / "models"
    result = run_script(spec.script, "-o", str(out), env=_env(server, spec))
    assert result.returncode == 1
    assert result.stderr.strip().endswith("holds no mobilenet_v1_1.0_224_frozen.pb; delete it and run again")
    assert not (out / "mobilenet_v1_1.0_224_frozen.pb").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".extract")]
