"""install_cuda_docker.sh on faked systems: --dry-run steps, unsupported systems, missing root, idempotency."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "install_cuda_docker.sh"
# Run the no-root cases as "nobody" when the tests run as root; otherwise the caller is no root already.
UNPRIVILEGED = 65534 if os.geteuid() == 0 else None

UBUNTU = {
    "20.04": 'NAME="Ubuntu"\nVERSION_ID="20.04"\nID=ubuntu\nVERSION_CODENAME=focal\nPRETTY_NAME="Ubuntu 20.04.6 LTS"\n',
    "22.04": 'NAME="Ubuntu"\nVERSION_ID="22.04"\nID=ubuntu\nVERSION_CODENAME=jammy\nPRETTY_NAME="Ubuntu 22.04.4 LTS"\n',
    "24.04": 'NAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nVERSION_CODENAME=noble\nPRETTY_NAME="Ubuntu 24.04.1 LTS"\n',
}
CODENAMES = {"20.04": "focal", "22.04": "jammy", "24.04": "noble"}
UNSUPPORTED = {
    "debian-12": ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
                  "ID=debian\nVERSION_CODENAME=bookworm\n", "Debian GNU/Linux 12 (bookworm)"),
    "ubuntu-18.04": ('NAME="Ubuntu"\nVERSION_ID="18.04"\nID=ubuntu\nVERSION_CODENAME=bionic\n'
                     'PRETTY_NAME="Ubuntu 18.04.6 LTS"\n', "Ubuntu 18.04.6 LTS"),
    "fedora-40": ('NAME="Fedora Linux"\nVERSION_ID=40\nID=fedora\nPRETTY_NAME="Fedora Linux 40 (Workstation)"\n',
                  "Fedora Linux 40 (Workstation)"),
}


def run_script(tmp_path: Path, os_release: str | None, *args: str, user: int | None = None,
               path_prefix: Path | None = None, sysroot: Path | None = None) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "SUDO_USER"}
    release = tmp_path / "os-release"
    if os_release is not None:
        release.write_text(os_release, encoding="utf-8")
    env["OS_RELEASE_FILE"] = str(release)
    env["SYSROOT"] = str(sysroot if sysroot is not None else tmp_path / "sysroot")
    if path_prefix is not None:
        env["PATH"] = f"{path_prefix}:{env['PATH']}"
    return subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=60,
                          user=user)


@pytest.fixture
def open_dir():
    """A scratch folder that an unprivileged user can read (pytest's own tmp folders are private)."""
    with tempfile.TemporaryDirectory(prefix="install-cuda-docker-") as name:
        Path(name).chmod(0o755)
        yield Path(name)


@pytest.mark.parametrize("version", list(UBUNTU))
def test_dry_run_on_supported_ubuntu_prints_every_step_and_changes_nothing(tmp_path, version):
    sysroot = tmp_path / "sysroot"
    sysroot.mkdir()
    result = run_script(tmp_path, UBUNTU[version], "--dry-run", sysroot=sysroot)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith(f"system: Ubuntu {version}")
    codename = CODENAMES[version]
    assert (f"would write {sysroot}/etc/apt/sources.list.d/docker.list: deb [arch=" in out
            and f"signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/ubuntu {codename} "
            "stable" in out)
    assert "would run: apt-get install -y docker-ce docker-ce-cli containerd.io docker-buildx-plugin " \
           "docker-compose-plugin" in out
    assert "would run: apt-get install -y nvidia-container-toolkit" in out
    assert "would run: nvidia-ctk runtime configure --runtime=docker" in out
    assert out.rstrip().splitlines()[-1].strip().startswith("docker run --rm --gpus all nvidia/cuda:")
    assert out.rstrip().endswith("nvidia-smi")
    assert "\n+ " not in out  # nothing was executed
    assert list(sysroot.rglob("*")) == []


def test_dry_run_needs_no_root(open_dir):
    result = run_script(open_dir, UBUNTU["24.04"], "--dry-run", user=UNPRIVILEGED)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("system", list(UNSUPPORTED))
def test_unsupported_system_gets_one_clear_line_and_exit_1(tmp_path, system):
    text, pretty = UNSUPPORTED[system]
    result = run_script(tmp_path, text, "--dry-run")
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {pretty} is not supported: install Docker")
    assert len(result.stderr.splitlines()) == 1
    assert "would run" not in result.stdout


def test_missing_os_release_is_reported(tmp_path):
    result = run_script(tmp_path, None, "--dry-run")
    assert result.returncode == 1
    assert result.stderr == (f"error: {tmp_path / 'os-release'} not readable: this script supports Ubuntu "
                             "20.04 22.04 24.04 only\n")


def test_without_root_a_real_run_stops_before_any_step(open_dir):
    result = run_script(open_dir, UBUNTU["22.04"], user=UNPRIVILEGED)
    assert result.returncode == 1
    assert result.stderr.startswith("error: needs root to install packages: run 'sudo ")
    assert "would run" not in result.stdout and "\n+ " not in result.stdout


def test_unknown_option_and_help(tmp_path):
    bad = run_script(tmp_path, UBUNTU["22.04"], "--yes")
    assert bad.returncode == 1 and bad.stderr.startswith("error: unknown option '--yes'")
    usage = run_script(tmp_path, UBUNTU["22.04"], "-h")
    assert usage.returncode == 0 and "--dry-run" in usage.stdout and "Ubuntu\n20.04 22.04 24.04" in usage.stdout


def test_second_run_on_a_set_up_system_skips_every_step(tmp_path):
    """With the keys, lists, packages and runtime in place, nothing is left to do."""
    sysroot = tmp_path / "sysroot"
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "dpkg-query").write_text("#!/usr/bin/env bash\nprintf 'install ok installed'\n")
    (fake_bin / "dpkg").write_text("#!/usr/bin/env bash\necho arm64\n")
    for tool in fake_bin.iterdir():
        tool.chmod(0o755)
    (sysroot / "etc/apt/keyrings").mkdir(parents=True)
    (sysroot / "etc/apt/keyrings/docker.asc").write_text("key")
    (sysroot / "usr/share/keyrings").mkdir(parents=True)
    (sysroot / "usr/share/keyrings/nvidia-container-toolkit-keyring.gpg").write_text("key")
    (sysroot / "etc/apt/sources.list.d").mkdir(parents=True)
    (sysroot / "etc/apt/sources.list.d/docker.list").write_text(
        "deb [arch=arm64 signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/ubuntu noble "
        "stable\n")
    (sysroot / "etc/apt/sources.list.d/nvidia-container-toolkit.list").write_text(
        "deb [signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg] "
        "https://nvidia.github.io/libnvidia-container/stable/deb/$(ARCH) /\n")
    (sysroot / "etc/docker").mkdir(parents=True)
    (sysroot / "etc/docker/daemon.json").write_text('{"runtimes": {"nvidia": {"path": "nvidia-container-runtime"}}}')
    result = run_script(tmp_path, UBUNTU["24.04"], "--dry-run", path_prefix=fake_bin, sysroot=sysroot)
    assert result.returncode == 0, result.stderr
    assert "would" not in result.stdout, result.stdout
    assert result.stdout.count("skip: ") == 8


def test_list_file_with_other_content_is_rewritten(tmp_path):
    sysroot = tmp_path / "sysroot"
    (sysroot / "etc/apt/sources.list.d").mkdir(parents=True)
    (sysroot / "etc/apt/sources.list.d/docker.list").write_text("deb https://old.example/ubuntu focal stable\n")
    result = run_script(tmp_path, UBUNTU["22.04"], "--dry-run", sysroot=sysroot)
    assert f"would write {sysroot}/etc/apt/sources.list.d/docker.list: " in result.stdout
