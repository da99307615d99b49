#!/usr/bin/env bash
# The ImageNet script shared with the other classifier: vision/imagenet/verify_dataset.sh (-h for usage).
set -euo pipefail
exec "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../imagenet/verify_dataset.sh" "$@"
