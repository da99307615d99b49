"""The Dockerfiles, read without a Docker engine: sources, requirement sets, users, imports, lint."""

from __future__ import annotations

import ast
import importlib.util
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from common.registry import benchmarks

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def _load_parser():
    spec = importlib.util.spec_from_file_location("tests_docker_dockerfile_parser",
                                                  Path(__file__).with_name("dockerfile_parser.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


parser = _load_parser()


def _entry_point_modules() -> dict[str, str]:
    """Each registered benchmark's module by mlperf.conf name, from this tree's pyproject.toml."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    registered = pyproject["project"]["entry-points"]["mlperf_ref.benchmarks"]
    return {name: value.split(":")[0] for name, value in registered.items()}


ENTRY_POINT_MODULES = _entry_point_modules()
# Each benchmark's folder (the package of its entry point module) holds its Dockerfile and run_and_time.sh.
BENCHMARK_FOLDERS = {name: module.rsplit(".", 1)[0].replace(".", "/") for name, module in ENTRY_POINT_MODULES.items()}
BASE_DOCKERFILES = {"cpu": REPO / "docker" / "Dockerfile.cpu", "gpu": REPO / "docker" / "Dockerfile.gpu"}
# The requirement files CI installs for each device (the brief: base + cpu, base + gpu).
CI_REQUIREMENTS = {"cpu": ["requirements/base.txt", "requirements/cpu.txt"],
                   "gpu": ["requirements/base.txt", "requirements/gpu.txt"]}
FIRST_PARTY = ("common", "vision", "translation")
SKIPPED_DIRS = {".git", ".venv", "node_modules", "__pycache__", ".pytest_cache", ".ruff_cache", "output",
                "samples", "models", ".cache"}


def all_dockerfiles() -> list[Path]:
    return sorted(p for p in _walk(REPO) if p.name == "Dockerfile" or p.name.startswith("Dockerfile."))


def _walk(root: Path):
    for path in root.iterdir():
        if path.is_dir():
            if path.name not in SKIPPED_DIRS:
                yield from _walk(path)
        else:
            yield path


def benchmark_dockerfiles() -> dict[str, Path]:
    return {name: REPO / folder / "Dockerfile" for name, folder in BENCHMARK_FOLDERS.items()}


def _relative(path: Path) -> str:
    return str(path.relative_to(REPO))


def _run_user(instructions) -> str | None:
    users = [i.arguments for i in instructions if i.keyword == "USER"]
    return users[-1] if users else None


def _pip_requirement_files(instructions) -> list[str]:
    """The ``-r`` files of every ``pip install`` in RUN instructions, as repo paths."""
    copied: dict[str, str] = {}  # image path -> repo path, from COPY instructions
    for instruction in instructions:
        if instruction.keyword == "COPY":
            words = [w for w in shlex.split(instruction.arguments) if not w.startswith("--")]
            sources, target = words[:-1], words[-1]
            for source in sources:
                image_path = target + Path(source).name if target.endswith("/") else target
                copied[image_path] = source
    found = []
    for instruction in instructions:
        if instruction.keyword != "RUN" or "pip install" not in instruction.arguments:
            continue
        for name in re.findall(r"(?:-r|--requirement)\s+(\S+)", instruction.arguments):
            found.append(copied.get(name, name))
    return found


def test_benchmark_folders_are_the_registered_benchmarks_packages():
    assert BENCHMARK_FOLDERS["resnet50"] == "vision/resnet50" and BENCHMARK_FOLDERS["gnmt"] == "translation/gnmt"
    assert sorted(BENCHMARK_FOLDERS) == sorted(benchmarks())


def test_every_benchmark_and_both_base_images_have_dockerfiles():
    for path in [*BASE_DOCKERFILES.values(), *benchmark_dockerfiles().values()]:
        assert path.is_file(), f"{_relative(path)} is missing"


@pytest.mark.parametrize("path", all_dockerfiles(), ids=_relative)
def test_every_copy_source_exists_and_is_in_the_build_context(path):
    ignore = parser.DockerIgnore(REPO / ".dockerignore")
    sources = [s for i in parser.parse_dockerfile(path) if i.keyword in ("COPY", "ADD")
               for s in parser.copy_sources(i)]
    assert sources, f"{_relative(path)} copies nothing"
    for source in sources:
        assert (REPO / source).exists(), f"{_relative(path)}: COPY source {source} does not exist"
        assert not ignore.excluded(source), f"{_relative(path)}: .dockerignore leaves {source} out"


@pytest.mark.parametrize("path", all_dockerfiles(), ids=_relative)
def test_every_image_runs_as_a_non_root_user(path):
    user = _run_user(parser.parse_dockerfile(path))
    if path in benchmark_dockerfiles().values():
        assert user is not None, f"{_relative(path)} must set USER itself"
    if user is not None:
        assert user.split(":")[0] not in ("root", "0"), f"{_relative(path)} runs as {user}"


@pytest.mark.parametrize("device", ["cpu", "gpu"])
def test_base_images_install_exactly_the_requirement_files_ci_installs(device):
    instructions = parser.parse_dockerfile(BASE_DOCKERFILES[device])
    assert _pip_requirement_files(instructions) == CI_REQUIREMENTS[device]
    assert _run_user(instructions) == "1000:1000"
    for name in CI_REQUIREMENTS[device]:
        assert (REPO / name).is_file()


def test_cpu_base_is_python_311_and_gpu_base_is_a_cuda_cudnn_runtime():
    cpu_from = [i.arguments for i in parser.parse_dockerfile(BASE_DOCKERFILES["cpu"]) if i.keyword == "FROM"]
    gpu_from = [i.arguments for i in parser.parse_dockerfile(BASE_DOCKERFILES["gpu"]) if i.keyword == "FROM"]
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", cpu_from[0])
    assert re.fullmatch(r"nvidia/cuda:12\.\d+\.\d+-cudnn-runtime-ubuntu\d+\.\d+", gpu_from[0])
    gpu_run = " ".join(i.arguments for i in parser.parse_dockerfile(BASE_DOCKERFILES["gpu"]) if i.keyword == "RUN")
    assert "python3.11" in gpu_run  # the project needs Python >= 3.11, as in pyproject.toml


def test_base_images_take_torch_from_the_pytorch_index_of_their_device():
    """CPU: the +cpu wheel (PyPI's Linux torch is a CUDA build); GPU: the index gpu.txt names."""
    cpu_run = " ".join(i.arguments for i in parser.parse_dockerfile(BASE_DOCKERFILES["cpu"]) if i.keyword == "RUN")
    gpu_run = " ".join(i.arguments for i in parser.parse_dockerfile(BASE_DOCKERFILES["gpu"]) if i.keyword == "RUN")
    assert "--extra-index-url https://download.pytorch.org/whl/cpu " in cpu_run
    named = re.search(r"--extra-index-url (\S+)", (REPO / "requirements" / "gpu.txt").read_text(encoding="utf-8"))
    assert named is not None, "requirements/gpu.txt no longer names the PyTorch CUDA index"
    assert f"--extra-index-url {named.group(1)} " in gpu_run


def test_cpu_base_refuses_a_cuda_torch():
    """Where the CPU index is out of reach pip would take PyPI's CUDA torch of the same version: the +cpu pin
    makes that a failed install, and the build checks torch.version.cuda after it."""
    cpu_run = " ".join(i.arguments for i in parser.parse_dockerfile(BASE_DOCKERFILES["cpu"]) if i.keyword == "RUN")
    pinned = re.search(r"^torch==(\S+)$", (REPO / "requirements" / "cpu.txt").read_text(encoding="utf-8"), re.M)
    assert pinned is not None
    assert f'"torch=={pinned.group(1)}+cpu"' in cpu_run
    check = re.search(r'python -c "(import sys, torch;[^"]+)"', cpu_run)
    assert check is not None, "the CPU base image no longer checks torch.version.cuda"
    for cuda, code in ((None, None), ("12.8", "error: the CPU image got a CUDA build of torch (2.13.0+cu128)")):
        fake_torch = type(sys)("torch")
        fake_torch.__version__ = "2.13.0+cpu" if cuda is None else "2.13.0+cu128"
        fake_torch.version = type(sys)("torch.version")
        fake_torch.version.cuda = cuda
        with pytest.raises(SystemExit) as ended:
            _run_check(check.group(1), fake_torch)
        assert ended.value.code is None if code is None else str(ended.value.code).startswith(code)


def _run_check(source: str, fake_torch) -> None:
    saved = sys.modules.get("torch")
    sys.modules["torch"] = fake_torch
    try:
        exec(source, {"__name__": "check"})
    finally:
        if saved is not None:
            sys.modules["torch"] = saved
        else:
            del sys.modules["torch"]


def test_no_dockerfile_asks_for_a_frontend_image():
    """'# syntax=' makes BuildKit fetch a frontend image from a registry, which offline builders cannot reach."""
    for dockerfile in all_dockerfiles():
        assert not re.search(r"^#\s*syntax\s*=", dockerfile.read_text(encoding="utf-8"), re.M), dockerfile


@pytest.mark.parametrize("name", list(BENCHMARK_FOLDERS))
def test_benchmark_image_builds_on_the_base_chosen_by_device_and_installs_the_project(name):
    instructions = parser.parse_dockerfile(benchmark_dockerfiles()[name])
    args = {i.arguments.split("=")[0]: i.arguments.split("=", 1)[1] for i in instructions if i.keyword == "ARG"}
    assert args["DEVICE"] == "cpu"
    assert [i.arguments for i in instructions if i.keyword == "FROM"] == ["${BASE_IMAGE}:${DEVICE}"]
    assert args["BASE_IMAGE"] == "mlperf-ref-base"
    runs = " ".join(i.arguments for i in instructions if i.keyword == "RUN")
    assert "pip install --no-cache-dir --no-deps ." in runs


def _module_file(module: str, copied_root: Path) -> Path | None:
    """The file of a first-party module in the repository (package __init__ or module.py)."""
    base = copied_root.joinpath(*module.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path) -> set[str]:
    """First-party modules imported by a Python file (absolute and relative imports, submodules too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(REPO).with_suffix("").parts)
    if path.name == "__init__.py":
        package = package.rsplit(".", 1)[0] + ".__init__"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: -node.level]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return {m for m in found if m.split(".")[0] in FIRST_PARTY}


def _copied_paths(dockerfile: Path) -> list[str]:
    return [s.rstrip("/") for i in parser.parse_dockerfile(dockerfile) if i.keyword == "COPY"
            for s in parser.copy_sources(i)]


@pytest.mark.parametrize("name", list(BENCHMARK_FOLDERS))
def test_benchmark_image_copies_every_module_its_code_imports(name):
    """Walk the imports from the registered benchmark module; each first-party file must be copied."""
    copied = _copied_paths(benchmark_dockerfiles()[name])
    start = _module_file(ENTRY_POINT_MODULES[name], REPO)
    assert start is not None, f"{ENTRY_POINT_MODULES[name]} does not exist yet"
    folder = BENCHMARK_FOLDERS[name]
    todo = [start, *sorted((REPO / folder).rglob("*.py"))]
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        relative = _relative(path)
        assert any(relative == c or relative.startswith(c + "/") for c in copied), \
            f"{folder}/Dockerfile does not copy {relative}"
        for module in _imports(path):
            target = _module_file(module, REPO)
            if target is not None:  # "from pkg import name" also lists pkg.name, which may be no module
                todo.append(target)
    # Each package on the way has its __init__.py in the image.
    for path in seen:
        for parent in path.relative_to(REPO).parents:
            if str(parent) != "." and (REPO / parent / "__init__.py").is_file():
                assert any(str(parent / "__init__.py") == c or str(parent / "__init__.py").startswith(c + "/")
                           for c in copied), f"{folder}/Dockerfile does not copy {parent}/__init__.py"


@pytest.mark.parametrize("relative", [".venv/bin/python", "output/resnet50-cpu/output.txt",
                                      "samples/imagenet/val_map.txt", "vision/resnet50/resnet50_v1.onnx",
                                      "common/__pycache__/cli.cpython-311.pyc", ".git/HEAD",
                                      "models/resnet50_v1.pb", "tests/common/test_download.py",
                                      "vision/coco/val2017.zip", "translation/gnmt/gnmt_model.zip.part"])
def test_dockerignore_keeps_environments_data_models_and_outputs_out(relative):
    assert parser.DockerIgnore(REPO / ".dockerignore").excluded(relative)


def test_dockerignore_matcher_follows_the_last_matching_rule(tmp_path):
    ignore_file = tmp_path / ".dockerignore"
    ignore_file.write_text("*\n!src/\n**/*.bin\n!src/keep.bin\n", encoding="utf-8")
    ignore = parser.DockerIgnore(ignore_file)
    assert ignore.excluded("other/a.py")
    assert not ignore.excluded("src/a/b.py")
    assert ignore.excluded("src/a/b.bin")
    assert not ignore.excluded("src/keep.bin")


def test_dockerfile_parser_joins_continuations_and_drops_comments(tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("# c\nFROM a:1\nRUN echo 1 \\\n    # inner comment\n    && echo 2\n"
                          "COPY --chown=1:1 x y /d/\nUSER 5\n", encoding="utf-8")
    instructions = parser.parse_dockerfile(dockerfile)
    assert [(i.keyword, i.arguments, i.line) for i in instructions] == [
        ("FROM", "a:1", 2), ("RUN", "echo 1 && echo 2", 3), ("COPY", "--chown=1:1 x y /d/", 6), ("USER", "5", 7)]
    assert parser.copy_sources(instructions[2]) == ["x", "y"]


def test_hadolint_finds_nothing_in_any_dockerfile():
    files = [str(p) for p in all_dockerfiles()]
    result = subprocess.run([str(VENV_BIN / "hadolint"), *files], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


def test_hadolint_does_report_a_root_image(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:3.11.13-slim-bookworm\nUSER root\n", encoding="utf-8")
    result = subprocess.run([str(VENV_BIN / "hadolint"), str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "DL3002" in result.stdout


def all_shell_scripts() -> list[Path]:
    return sorted(p for p in _walk(REPO) if p.suffix == ".sh")


def test_shellcheck_finds_nothing_in_any_shell_script():
    scripts = all_shell_scripts()
    assert REPO / "install_cuda_docker.sh" in scripts and REPO / "docker" / "run_and_time_lib.sh" in scripts
    result = subprocess.run([str(VENV_BIN / "shellcheck"), "--external-sources", *map(str, scripts)],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


@pytest.mark.parametrize("path", all_shell_scripts(), ids=_relative)
def test_shell_scripts_follow_the_house_header(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#!/usr/bin/env bash", f"{_relative(path)}: first line must be #!/usr/bin/env bash"
    if not path.name.endswith("lib.sh"):  # a sourced library inherits its caller's options
        assert "set -euo pipefail" in lines, f"{_relative(path)} lacks 'set -euo pipefail'"
