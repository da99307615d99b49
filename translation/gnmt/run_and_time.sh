#!/usr/bin/env bash
# GNMT on WMT16 newstest2014 (English to German): accuracy and performance in Docker
# (or on the host with --local).
# Needs DATA_DIR and MODEL_DIR; -h lists the options. The work is done by docker/run_and_time_lib.sh.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=SCRIPTDIR/../../docker/run_and_time_lib.sh
source "$here/../../docker/run_and_time_lib.sh"
run_and_time gnmt "$here" "$@"
