#!/usr/bin/env bash
# Download the official MobileNet-v1 1.0 224 model files (fp32) from zenodo, resumably.
set -euo pipefail

usage() {
    cat <<USAGE
Usage: $(basename "$0") [-o DIR]

Downloads the official MLPerf MobileNet-v1 files into DIR (an interrupted download resumes):
  mobilenet_v1_1.0_224.onnx         onnxruntime and pytorch backends (zenodo record 3157894)
  mobilenet_v1_1.0_224_frozen.pb    tensorflow backend, taken out of mobilenet_v1_1.0_224.tgz
                                    (zenodo record 2269307)

  -o DIR   the model folder (default: \${MODEL_DIR:-./models})
  -h       show this help
Environment: MLPERF_ZENODO_BASE_URL (default https://zenodo.org/record) for a mirror; PYTHON (default: the checkout's .venv, else
python3).
USAGE
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tools/download/lib.sh
source "$here/../../tools/download/lib.sh"
base="${MLPERF_ZENODO_BASE_URL:-https://zenodo.org/record}"
frozen="mobilenet_v1_1.0_224_frozen.pb"
parse_output_option "${MODEL_DIR:-./models}" "$@"

fetch_record() {  # RECORD FILE
    fetch_model "$base/$1/files/$2" "$output/$2"
}
fetch_record 3157894 mobilenet_v1_1.0_224.onnx  # v0.5 README: tf2onnx opset 8, NCHW input
if [[ ! -f "$output/$frozen" ]]; then
    archive="$output/mobilenet_v1_1.0_224.tgz"
    fetch_record 2269307 mobilenet_v1_1.0_224.tgz  # v0.5 README: mirror of download.tensorflow.org's archive
    scratch="$(mktemp -d "$output/.extract.XXXXXX")"
    trap 'rm -rf "$scratch"' EXIT
    found=""
    if tar -xzf "$archive" -C "$scratch" --wildcards "*$frozen" 2>/dev/null; then
        found="$(find "$scratch" -name "$frozen" -type f | head -n 1)"
    fi
    # a cut or foreign archive is removed, so that a rerun fetches it again instead of trusting it
    [[ -n "$found" ]] || { drop_download "$archive"; die "$archive holds no $frozen or is cut short; it was removed, run again"; }
    check_models "$found"
    mv "$found" "$output/$frozen"
fi
echo "done: $output/mobilenet_v1_1.0_224.onnx, $output/$frozen"
