#!/usr/bin/env bash
# Run one benchmark's accuracy and performance tests for each chosen scenario, then print the summaries.
# run_and_time.sh calls it inside the container (or on the host with --local); it is not meant to be
# called by hand, but it can be:
#   docker/run_helper.sh BENCHMARK --dataset-path DIR --model-dir DIR --output DIR
#       [--backend B] [--model NAME] [--device cpu|cuda] [--scenario "S1 S2"] [-- extra mlperf-ref options]
set -euo pipefail

usage() {
    sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
}

die() {
    echo "error: $*" >&2
    exit 2
}

# Fail clearly when option $1 has no value $2.
need() {
    [[ -n ${2:-} ]] || die "$1 needs a value"
}

# What mlperf-ref knows about the benchmark: "<default backend> <model file for BACKEND>".
benchmark_facts() {
    "$PYTHON" - "$1" "$2" <<'EOF'
import sys

from common.errors import UsageError
from common.registry import get_benchmark

try:
    info = get_benchmark(sys.argv[1]).info
except UsageError as exc:
    sys.exit(f"error: {exc}")
backend = sys.argv[2] or info.default_backend
print(backend, info.model_files.get(backend, ""))
EOF
}

main() {
    (($#)) || die "no benchmark given: see 'docker/run_helper.sh -h'"
    [[ $1 == -h || $1 == --help ]] && { usage; return 0; }
    local benchmark=$1
    shift
    local dataset_path="" model_dir="" output="" backend="" model="" device=cpu scenarios=SingleStream
    while (($#)); do
        case $1 in
            --dataset-path) need "$1" "${2:-}"; dataset_path=$2; shift ;;
            --model-dir) need "$1" "${2:-}"; model_dir=$2; shift ;;
            --output) need "$1" "${2:-}"; output=$2; shift ;;
            --backend) need "$1" "${2:-}"; backend=$2; shift ;;
            --model) need "$1" "${2:-}"; model=$2; shift ;;
            --device) need "$1" "${2:-}"; device=$2; shift ;;
            --scenario) need "$1" "${2:-}"; scenarios=$2; shift ;;
            --) shift; break ;;
            *) die "unknown option '$1' (extra mlperf-ref options go after '--')" ;;
        esac
        shift
    done
    [[ -n $dataset_path && -n $model_dir && -n $output ]] \
        || die "--dataset-path, --model-dir and --output are needed"
    PYTHON=${MLPERF_PYTHON:-python3}
    "$PYTHON" -c "import tools.cli" 2>/dev/null \
        || die "$PYTHON cannot import the project: activate its venv or 'pip install -e .[cpu]'"

    local facts default_model
    facts=$(benchmark_facts "$benchmark" "$backend") || exit 2
    read -r backend default_model <<<"$facts"
    model=${model:-$default_model}
    local model_args=()
    if [[ $backend != null ]]; then
        [[ -n $model ]] || die "$benchmark has no model file for backend $backend: pass --model NAME"
        [[ $model == /* ]] || model="$model_dir/$model"
        # A TensorFlow checkpoint is a prefix of several files (translate.ckpt.index, ...).
        [[ -e $model ]] || compgen -G "${model}.*" >/dev/null \
            || die "model $model not found: download it with the benchmark's download_model.sh" \
                "into MODEL_DIR, or pass --model NAME"
        model_args=(--model "$model")
    fi

    local scenario status=0 ran=()
    for scenario in ${scenarios//,/ }; do
        echo "=== $benchmark $backend $scenario (accuracy and performance) ==="
        if ! "$PYTHON" -m tools.cli run "$benchmark" --backend "$backend" --scenario "$scenario" --both \
            "${model_args[@]}" --dataset-path "$dataset_path" --output "$output/$backend/$scenario" \
            --device "$device" "$@"; then
            status=1
            echo "=== $benchmark $scenario: a FAIL in the summary above, or an error ==="
        fi
        ran+=("$scenario")
    done
    if ((${#ran[@]} > 1)); then
        echo "=== summary of all scenarios ==="
        for scenario in "${ran[@]}"; do
            local results="$output/$backend/$scenario/results.json"
            "$PYTHON" - "$results" <<'EOF' || echo "(no results in $results)"
import sys

from common.report import format_summary
from common.results import RunResults

print(format_summary(RunResults.load(sys.argv[1])))
EOF
        done
    fi
    return "$status"
}

main "$@"
