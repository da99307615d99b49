#!/usr/bin/env bash
# Download the official ResNet50-v1.5 model files (fp32) from zenodo, resumably.
set -euo pipefail

usage() {
    cat <<USAGE
Usage: $(basename "$0") [-o DIR]

Downloads the official MLPerf ResNet50-v1.5 files into DIR (an interrupted download resumes):
  resnet50_v1.onnx  onnxruntime and pytorch backends (zenodo record 2592612)
  resnet50_v1.pb    tensorflow backend (zenodo record 2535873)

  -o DIR   the model folder (default: \${MODEL_DIR:-./models})
  -h       show this help
Each file is checked against its published md5 (a wrong or cut file is removed; run again).
Environment: MLPERF_ZENODO_BASE_URL (default https://zenodo.org/record) for a mirror; PYTHON (default: the checkout's .venv, else
python3); RESNET50_ONNX_MD5 and RESNET50_PB_MD5 replace the expected md5 sums (only for a mirror you trust).
USAGE
}

# md5 of each zenodo file (zenodo publishes md5 sums; these are the ones MLCommons' own automation checks the
# v0.5 files against). The variables replace them only for a mirror you trust.
ONNX_MD5="${RESNET50_ONNX_MD5:-a638cf028b5870da29e09ccc2f7182e7}"
PB_MD5="${RESNET50_PB_MD5:-7b94a2da05dd30f6c0af23a46bc08886}"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tools/download/lib.sh
source "$here/../../tools/download/lib.sh"
base="${MLPERF_ZENODO_BASE_URL:-https://zenodo.org/record}"
parse_output_option "${MODEL_DIR:-./models}" "$@"

fetch_record() {  # RECORD FILE MD5
    fetch_model "$base/$1/files/$2" "$output/$2" --md5 "$3"
}
fetch_record 2592612 resnet50_v1.onnx "$ONNX_MD5"  # v0.5 README: ONNX, converted from the .pb by tf2onnx (opset 8)
fetch_record 2535873 resnet50_v1.pb "$PB_MD5"  # v0.5 README: TF frozen graph, NHWC
echo "done: $output/resnet50_v1.onnx, $output/resnet50_v1.pb"
