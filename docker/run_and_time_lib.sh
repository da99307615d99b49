#!/usr/bin/env bash
# Shared body of every benchmark's run_and_time.sh: parse the options, build the image (reusing Docker's
# cache), run accuracy and performance in the container (or on the host with --local), tee everything into
# the output folder, and print the start and end time and the total wall time.
# A benchmark's run_and_time.sh sets nothing but its name and calls: run_and_time BENCHMARK FOLDER "$@"

RUN_AND_TIME_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly RUN_AND_TIME_REPO
readonly ALL_SCENARIOS="SingleStream MultiStream Server Offline"

run_and_time_usage() {
    local benchmark=$1
    cat <<EOF
Usage: ./run_and_time.sh [--device cpu|gpu] [--backend B] [--scenario S] [--local] [--model NAME]
                         [--output DIR] [extra mlperf-ref run options, e.g. --quick --count 500]

Runs the ${benchmark} accuracy and performance tests (mlperf-ref run ${benchmark} --both) in its Docker
image, tees the output into the output folder and ends with the summary and the total wall time.

  --device cpu|gpu  the image and engine to use (default cpu; gpu runs the container with --gpus all)
  --backend B       onnxruntime, pytorch, tensorflow or null (default: the benchmark's first backend)
  --scenario S      SingleStream, MultiStream, Server, Offline or all; repeat or comma-separate for
                    several (default SingleStream)
  --local           run on this machine with the project's Python environment instead of Docker
  --model NAME      model file in MODEL_DIR (default: the official file name for the backend)
  --output DIR      output folder (default \$OUTPUT_DIR, else output/${benchmark}-<device>); each run
                    writes DIR/<backend>/<scenario>/ and DIR/output.txt holds the whole log
  -h, --help        print this help

Environment: DATA_DIR (the dataset folder) and MODEL_DIR (the model folder) are required.
  OUTPUT_DIR        default of --output
  MLPERF_REF_CACHE  preprocessing cache shared by runs (default ~/.cache/mlperf-ref)
  DOCKER            the docker command (default docker)
  MLPERF_PYTHON     the Python of --local (default: the active venv, else the repository's .venv)
EOF
}

run_and_time_die() {
    echo "error: $*" >&2
    exit 2
}

# The folder named by environment variable NAME, made absolute; a clear error when unset or missing.
run_and_time_folder() {
    local name=$1 hint=$2 value=${!1:-}
    [[ -n $value ]] || run_and_time_die "$name is not set: export $name=/path/to/folder ($hint)"
    [[ -d $value ]] || run_and_time_die "$name=$value is not a folder: $hint"
    (cd "$value" && pwd)
}

# The Python that runs the benchmark with --local.
run_and_time_local_python() {
    if [[ -n ${MLPERF_PYTHON:-} ]]; then
        echo "$MLPERF_PYTHON"
    elif [[ -n ${VIRTUAL_ENV:-} ]]; then
        echo "$VIRTUAL_ENV/bin/python"
    elif [[ -x $RUN_AND_TIME_REPO/.venv/bin/python ]]; then
        echo "$RUN_AND_TIME_REPO/.venv/bin/python"
    else
        echo python3
    fi
}

run_and_time_build() {
    local benchmark=$1 folder=$2 device=$3 image=$4
    local docker=${DOCKER:-docker}
    echo "building mlperf-ref-base:${device} and ${image} (Docker reuses its cache)"
    "$docker" build -t "mlperf-ref-base:${device}" -f "$RUN_AND_TIME_REPO/docker/Dockerfile.${device}" \
        "$RUN_AND_TIME_REPO" || run_and_time_die "building docker/Dockerfile.${device} failed (see above)"
    "$docker" build -t "$image" --build-arg "DEVICE=${device}" -f "$folder/Dockerfile" "$RUN_AND_TIME_REPO" \
        || run_and_time_die "building the ${benchmark} image failed (see above)"
}

run_and_time() {
    local benchmark=$1 folder=$2
    shift 2
    local device=cpu backend="" local_run=0 model="" output=${OUTPUT_DIR:-} scenarios=() extra=()
    while (($#)); do
        case $1 in
            -h | --help) run_and_time_usage "$benchmark"; return 0 ;;
            --device) device=${2:-}; shift ;;
            --backend)
                backend=${2:-}
                [[ -n $backend ]] || run_and_time_die "--backend needs a name"
                shift
                ;;
            --scenario) scenarios+=("${2:-}"); shift ;;
            --local) local_run=1 ;;
            --model)
                model=${2:-}
                [[ -n $model ]] || run_and_time_die "--model needs a file name"
                shift
                ;;
            --output)
                output=${2:-}
                [[ -n $output ]] || run_and_time_die "--output needs a folder"
                shift
                ;;
            --) shift; extra+=("$@"); break ;;
            *) extra+=("$1") ;;
        esac
        shift
    done
    [[ $device == cpu || $device == gpu ]] || run_and_time_die "--device '$device': choose cpu or gpu"
    local scenario_list="" words scenario
    for words in "${scenarios[@]:-SingleStream}"; do
        [[ $words == all ]] && words=$ALL_SCENARIOS
        for scenario in ${words//,/ }; do
            [[ " $ALL_SCENARIOS " == *" $scenario "* ]] \
                || run_and_time_die "--scenario '$scenario': choose one of $ALL_SCENARIOS or all"
            scenario_list+="${scenario_list:+ }$scenario"
        done
    done
    local data_dir model_dir
    local relative=${folder#"$RUN_AND_TIME_REPO"/}
    data_dir=$(run_and_time_folder DATA_DIR "the dataset folder; see ${relative}/download_dataset.sh")
    model_dir=$(run_and_time_folder MODEL_DIR "the model folder; see ${relative}/download_model.sh")
    local python="" docker=${DOCKER:-docker}
    # Every check before the first folder is made: a refused run leaves nothing behind.
    if ((local_run)); then
        python=$(run_and_time_local_python)
    else
        command -v "$docker" >/dev/null 2>&1 \
            || run_and_time_die "'$docker' not found: install Docker (sudo ./install_cuda_docker.sh)" \
                "or run with --local"
    fi
    output=${output:-$RUN_AND_TIME_REPO/output/${benchmark}-${device}}
    mkdir -p "$output" || run_and_time_die "cannot create the output folder $output: pass --output DIR"
    output=$(cd "$output" && pwd)
    local cache=${MLPERF_REF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mlperf-ref}
    mkdir -p "$cache" || run_and_time_die "cannot create the cache folder $cache: set MLPERF_REF_CACHE"
    local engine_device=cpu
    [[ $device == gpu ]] && engine_device=cuda

    local helper_options=(--device "$engine_device" --scenario "$scenario_list")
    [[ -n $backend ]] && helper_options+=(--backend "$backend")
    [[ -n $model ]] && helper_options+=(--model "$model")
    local run_command=()
    if ((local_run)); then
        run_command=(env "MLPERF_PYTHON=$python" "MLPERF_REF_CACHE=$cache"
            bash "$RUN_AND_TIME_REPO/docker/run_helper.sh" "$benchmark" --dataset-path "$data_dir"
            --model-dir "$model_dir" --output "$output" "${helper_options[@]}" -- "${extra[@]}")
    else
        local image="mlperf-ref-${benchmark}:${device}"
        local gpus=()
        [[ $device == gpu ]] && gpus=(--gpus all)
        run_command=("$docker" run --rm --init "${gpus[@]}" --user "$(id -u):$(id -g)" --shm-size 2g
            -e MLPERF_REF_CACHE=/cache
            -v "$data_dir:/data:ro" -v "$model_dir:/models:ro" -v "$output:/output" -v "$cache:/cache"
            "$image" bash /opt/mlperf/docker/run_helper.sh "$benchmark" --dataset-path /data
            --model-dir /models --output /output "${helper_options[@]}" -- "${extra[@]}")
    fi

    local log="$output/output.txt" start status
    start=$(date +%s)
    : >"$log"
    set +e
    {
        echo "STARTING RUN AT $(date '+%Y-%m-%d %H:%M:%S %Z')"
        echo "benchmark ${benchmark}, device ${device}, scenarios ${scenario_list}, output ${output}"
        if ((!local_run)); then
            run_and_time_build "$benchmark" "$folder" "$device" "$image"
        fi
        "${run_command[@]}"
    } 2>&1 | tee -a "$log"
    status=${PIPESTATUS[0]}
    set -e
    local took=$(($(date +%s) - start))
    {
        echo "ENDING RUN AT $(date '+%Y-%m-%d %H:%M:%S %Z')"
        printf 'total wall time: %ds (%02d:%02d:%02d), exit status %d\n' "$took" $((took / 3600)) \
            $((took % 3600 / 60)) $((took % 60)) "$status"
    } | tee -a "$log"
    return "$status"
}
