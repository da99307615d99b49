#!/usr/bin/env bash
# Install Docker Engine (from Docker's apt repository) and the NVIDIA Container Toolkit on Ubuntu 20.04,
# 22.04 or 24.04, so that the GPU images of this project run with `docker run --gpus all`.
# Idempotent: a step whose result is already there is skipped. The NVIDIA driver itself is not installed.
set -euo pipefail

readonly SUPPORTED_UBUNTU=("20.04" "22.04" "24.04")
readonly DOCKER_GPG_URL="https://download.docker.com/linux/ubuntu/gpg"
# SYSROOT prefixes the files this script writes (tests point it at a scratch folder); empty means /.
SYSROOT="${SYSROOT:-}"
readonly DOCKER_KEY_PATH="/etc/apt/keyrings/docker.asc"
readonly DOCKER_KEY="${SYSROOT}${DOCKER_KEY_PATH}"
readonly DOCKER_LIST="${SYSROOT}/etc/apt/sources.list.d/docker.list"
readonly DOCKER_PACKAGES=(docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin)
readonly NVIDIA_GPG_URL="https://nvidia.github.io/libnvidia-container/gpgkey"
readonly NVIDIA_KEY_PATH="/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg"
readonly NVIDIA_KEY="${SYSROOT}${NVIDIA_KEY_PATH}"
readonly NVIDIA_LIST="${SYSROOT}/etc/apt/sources.list.d/nvidia-container-toolkit.list"
readonly DOCKER_DAEMON_JSON="${SYSROOT}/etc/docker/daemon.json"
readonly NVIDIA_REPO="https://nvidia.github.io/libnvidia-container/stable/deb/\$(ARCH)"
readonly CHECK_IMAGE="nvidia/cuda:12.8.1-base-ubuntu22.04"
OS_RELEASE_FILE="${OS_RELEASE_FILE:-/etc/os-release}"
DRY_RUN=0

usage() {
    cat <<EOF
Usage: $(basename "$0") [--dry-run] [-h]

Installs Docker Engine from Docker's apt repository and the NVIDIA Container Toolkit on Ubuntu
${SUPPORTED_UBUNTU[*]}, then configures Docker's nvidia runtime. Run it as root (sudo). Steps whose
result is already present are skipped, so running it twice is safe.

  --dry-run  print every step without doing it (needs no root)
  -h, --help print this help

Environment: OS_RELEASE_FILE (default /etc/os-release) is the file that names the distribution;
SYSROOT (default empty) prefixes the apt and Docker files it writes.
EOF
}

die() {
    echo "error: $*" >&2
    exit 1
}

# Print a step; run it unless --dry-run.
step() {
    if ((DRY_RUN)); then
        echo "would run: $*"
    else
        echo "+ $*"
        "$@"
    fi
}

skip() {
    echo "skip: $*"
}

# Value of KEY in the os-release file (without quotes); empty when absent. The file is read, not sourced.
os_release_value() {
    local key=$1 line value
    while IFS= read -r line || [[ -n $line ]]; do
        if [[ $line == "$key="* ]]; then
            value=${line#*=}
            value=${value#\"}
            value=${value%\"}
            printf '%s\n' "$value"
            return 0
        fi
    done <"$OS_RELEASE_FILE"
}

check_system() {
    [[ -r $OS_RELEASE_FILE ]] || die "$OS_RELEASE_FILE not readable: this script supports Ubuntu ${SUPPORTED_UBUNTU[*]} only"
    OS_ID=$(os_release_value ID)
    OS_VERSION=$(os_release_value VERSION_ID)
    OS_CODENAME=$(os_release_value VERSION_CODENAME)
    local name
    name=$(os_release_value PRETTY_NAME)
    local supported=0 version
    for version in "${SUPPORTED_UBUNTU[@]}"; do
        [[ $OS_ID == ubuntu && $OS_VERSION == "$version" ]] && supported=1
    done
    ((supported)) || die "${name:-unknown system} is not supported: install Docker and the NVIDIA Container" \
        "Toolkit by hand (docs.docker.com/engine/install, docs.nvidia.com/datacenter/cloud-native), or use" \
        "Ubuntu ${SUPPORTED_UBUNTU[*]}"
    [[ -n $OS_CODENAME ]] || die "$OS_RELEASE_FILE has no VERSION_CODENAME: check that it is an intact Ubuntu file"
    echo "system: ${name} (${OS_CODENAME})"
}

check_root() {
    if ((DRY_RUN)); then
        return 0
    fi
    [[ $(id -u) -eq 0 ]] || die "needs root to install packages: run 'sudo $0' (or '$0 --dry-run' to see the steps)"
}

packages_missing() {
    local package
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || return 0
    done
    return 1
}

write_file() {
    local path=$1 content=$2
    if [[ -f $path && $(<"$path") == "$content" ]]; then
        skip "$path is up to date"
    elif ((DRY_RUN)); then
        echo "would write $path: $content"
    else
        echo "+ write $path"
        printf '%s\n' "$content" >"$path"
    fi
}

install_prerequisites() {
    if packages_missing ca-certificates curl gnupg; then
        step apt-get update
        step apt-get install -y --no-install-recommends ca-certificates curl gnupg
    else
        skip "ca-certificates, curl and gnupg are installed"
    fi
}

install_docker() {
    local arch
    arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
    if [[ -s $DOCKER_KEY ]]; then
        skip "$DOCKER_KEY exists"
    else
        step install -m 0755 -d "$(dirname "$DOCKER_KEY")"
        step curl -fsSL "$DOCKER_GPG_URL" -o "$DOCKER_KEY"
        step chmod a+r "$DOCKER_KEY"
    fi
    write_file "$DOCKER_LIST" \
        "deb [arch=${arch} signed-by=${DOCKER_KEY_PATH}] https://download.docker.com/linux/ubuntu ${OS_CODENAME} stable"
    if packages_missing "${DOCKER_PACKAGES[@]}"; then
        step apt-get update
        step apt-get install -y "${DOCKER_PACKAGES[@]}"
    else
        skip "Docker Engine is installed"
    fi
}

install_nvidia_toolkit() {
    if [[ -s $NVIDIA_KEY ]]; then
        skip "$NVIDIA_KEY exists"
    else
        if ((DRY_RUN)); then
            echo "would run: curl -fsSL $NVIDIA_GPG_URL | gpg --dearmor -o $NVIDIA_KEY"
        else
            echo "+ curl -fsSL $NVIDIA_GPG_URL | gpg --dearmor -o $NVIDIA_KEY"
            curl -fsSL "$NVIDIA_GPG_URL" | gpg --batch --yes --dearmor -o "$NVIDIA_KEY"
        fi
    fi
    write_file "$NVIDIA_LIST" "deb [signed-by=${NVIDIA_KEY_PATH}] ${NVIDIA_REPO} /"
    if packages_missing nvidia-container-toolkit; then
        step apt-get update
        step apt-get install -y nvidia-container-toolkit
    else
        skip "the NVIDIA Container Toolkit is installed"
    fi
    if [[ -f $DOCKER_DAEMON_JSON ]] && grep -q '"nvidia"' "$DOCKER_DAEMON_JSON"; then
        skip "Docker already knows the nvidia runtime"
    else
        step nvidia-ctk runtime configure --runtime=docker
        step systemctl restart docker
    fi
}

add_user_to_docker_group() {
    local user=${SUDO_USER:-}
    if [[ -z $user || $user == root ]]; then
        return 0
    fi
    if id -nG "$user" 2>/dev/null | grep -qw docker; then
        skip "$user is in the docker group"
    else
        step usermod -aG docker "$user"
        echo "note: $user must log out and in again before running docker without sudo"
    fi
}

main() {
    while (($#)); do
        case $1 in
            --dry-run) DRY_RUN=1 ;;
            -h | --help)
                usage
                return 0
                ;;
            *) die "unknown option '$1': see '$(basename "$0") -h'" ;;
        esac
        shift
    done
    check_system
    check_root
    ((DRY_RUN)) && echo "dry run: nothing is changed"
    install_prerequisites
    install_docker
    install_nvidia_toolkit
    add_user_to_docker_group
    if ! command -v nvidia-smi >/dev/null 2>&1; then
        echo "note: nvidia-smi not found: install the NVIDIA driver (570 or newer for CUDA 12.8) before using --gpus"
    fi
    echo "done. Check the setup with:"
    echo "  docker run --rm --gpus all ${CHECK_IMAGE} nvidia-smi"
}

main "$@"
