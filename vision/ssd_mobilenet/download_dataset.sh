#!/usr/bin/env bash
# COCO 2017 val for this benchmark: the shared vision/coco/download_dataset.sh (see -h).
# The images stay at their original sizes: preprocessing resizes them (float32, INTER_LINEAR).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$here/../coco/download_dataset.sh" "$@"
