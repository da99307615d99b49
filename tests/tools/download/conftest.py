"""A local HTTP server and a script runner for the download/verify script tests."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def _load_http_server():
    name = "tests_support_http_server"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "tests" / "support" / "http_server.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


LocalHTTPServer = _load_http_server().LocalHTTPServer


@pytest.fixture(scope="session")
def http_server_class():
    """tests/support/http_server.py's LocalHTTPServer, for module-scoped servers."""
    return LocalHTTPServer


@pytest.fixture
def www(tmp_path) -> Path:
    """The folder the local server serves."""
    folder = tmp_path / "www"
    folder.mkdir()
    return folder


@pytest.fixture
def server(www):
    with LocalHTTPServer(www) as srv:
        yield srv


def _run_script(relative: str, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
               timeout: int = 120) -> subprocess.CompletedProcess:
    """Run a repository script with this interpreter as PYTHON and no DATA_DIR/MODEL_DIR from outside."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("DATA_DIR", "MODEL_DIR")}
    full_env["PYTHON"] = sys.executable
    full_env.update(env or {})
    return subprocess.run(["bash", str(REPO / relative), *args], env=full_env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="session")
def run_script():
    """``run_script(relative_path, *args, env=..., cwd=...)``: a repository script, as a subprocess."""
    return _run_script
