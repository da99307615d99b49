#!/usr/bin/env bash
# Check a COCO 2017 val folder (counts, categories, images, kept archives); exit 1 naming what is wrong.
set -euo pipefail

usage() {
    cat <<USAGE
Usage: $(basename "$0") [-d DIR] [--any-count] [--decode]

Checks DIR/annotations/instances_val2017.json (5,000 images, 36,781 annotations, the 80 categories),
that every image it lists exists in DIR/val2017, and the size and md5 of val2017.zip and
annotations_trainval2017.zip if they are still in DIR. Exits 1 naming what is wrong.

  -d DIR        the dataset folder (default: \${DATA_DIR:-./coco})
  --any-count   accept other image/annotation counts (a subset, the synthetic samples)
  --decode      also decode every image (slower)
  -h            show this help
Environment: PYTHON (default: the checkout's .venv, else python3).
USAGE
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tools/download/lib.sh
source "$here/../../tools/download/lib.sh"
verify_with_python vision.coco.verify "${DATA_DIR:-./coco}" "--any-count --decode" "$@"
