#!/usr/bin/env bash
# The GPU rows of the bench table in one go: ResNet50 Offline through the harness against the raw engine
# (onnxruntime CUDA fp32, torch CUDA fp32), SingleStream latency, and torch CUDA fp16 (row 7).
# Needs an NVIDIA GPU, onnxruntime-gpu and a CUDA torch (requirements/gpu.txt). Target on one H200:
# ResNet50 Offline >= 75,000 samples/s (issue 7: 0.8x the best TensorRT submission).
set -euo pipefail

usage() {
    cat <<'EOF'
usage: bench/gpu.sh [-h] [-o OUTPUT] [-b BATCH] [-s SECONDS] [-p PYTHON]

Runs bench/run.py's GPU rows (ResNet50; onnxruntime and torch on --device cuda; torch fp16) and writes
OUTPUT/bench.txt and bench.json. Random weights, synthetic data, short LoadGen runs: not submission runs.

  -o OUTPUT   output folder (default output/bench-gpu)
  -b BATCH    Offline batch size (default 256)
  -s SECONDS  each timed window (default 10)
  -p PYTHON   the Python with the project installed (default .venv/bin/python, else python3)
  -h          this help
EOF
}

output="output/bench-gpu"
batch=256
seconds=10
python=""
while getopts "ho:b:s:p:" option; do
    case "$option" in
        h) usage; exit 0 ;;
        o) output="$OPTARG" ;;
        b) batch="$OPTARG" ;;
        s) seconds="$OPTARG" ;;
        p) python="$OPTARG" ;;
        *) echo "error: unknown option; run bench/gpu.sh -h for usage" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
if [[ $# -gt 0 ]]; then
    echo "error: unexpected argument '$1'; run bench/gpu.sh -h for usage" >&2
    exit 2
fi
if ! [[ "$batch" =~ ^[1-9][0-9]*$ ]]; then
    echo "error: -b $batch: give a whole number of at least 1" >&2
    exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [[ -z "$python" ]]; then
    if [[ -x .venv/bin/python ]]; then python=.venv/bin/python; else python=python3; fi
fi
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
    echo "error: no NVIDIA GPU visible (nvidia-smi -L failed); run this on a machine with a GPU" >&2
    exit 1
fi
if ! "$python" -c 'import onnxruntime as o, sys; sys.exit("CUDAExecutionProvider" not in o.get_available_providers())'; then
    echo "error: $python has no onnxruntime CUDA provider; pip install -r requirements/gpu.txt" >&2
    exit 1
fi
if ! "$python" -c 'import torch, sys; sys.exit(not torch.cuda.is_available())'; then
    echo "error: $python's torch sees no CUDA device; install the CUDA torch of requirements/gpu.txt" >&2
    exit 1
fi

nvidia-smi -L
"$python" bench/run.py --output "$output" --device cuda --only engine latency precision \
    --models resnet50 --backends onnxruntime pytorch --precision-backends pytorch \
    --reduced-precision fp16 --batch "$batch" --seconds "$seconds" --repeats 2
echo "written: $output/bench.txt and bench.json"
