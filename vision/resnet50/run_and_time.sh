#!/usr/bin/env bash
# ResNet50-v1.5 on ImageNet 2012 val: accuracy and performance in Docker
# (or on the host with --local).
# Needs DATA_DIR and MODEL_DIR; -h lists the options. The work is done by docker/run_and_time_lib.sh.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=SCRIPTDIR/../../docker/run_and_time_lib.sh
source "$here/../../docker/run_and_time_lib.sh"
run_and_time resnet50 "$here" "$@"
