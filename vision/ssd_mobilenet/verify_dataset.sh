#!/usr/bin/env bash
# Check the COCO 2017 val folder of this benchmark: the shared vision/coco/verify_dataset.sh (see -h).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$here/../coco/verify_dataset.sh" "$@"
