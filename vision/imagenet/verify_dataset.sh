#!/usr/bin/env bash
# Check that every image val_map.txt lists exists and decodes; exit non-zero naming what is not.
set -euo pipefail

usage() {
    cat <<USAGE
Usage: $(basename "$0") [-d DIR] [--any-count]

Checks that DIR/val_map.txt lists the 50,000 ImageNet validation images and that each of them
exists and decodes (on all cores). Exits 1 naming the missing or corrupt files.

  -d DIR        the dataset folder (default: \${DATA_DIR:-./imagenet})
  --any-count   accept a val_map.txt with another number of images (a subset, the synthetic samples)
  -h            show this help
Environment: PYTHON (default: the checkout's .venv, else python3).
USAGE
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tools/download/lib.sh
source "$here/../../tools/download/lib.sh"
verify_with_python vision.imagenet.verify "${DATA_DIR:-./imagenet}" "--any-count" "$@"
