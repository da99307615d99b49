#!/usr/bin/env bash
# Download the official SSD-ResNet34 (1200x1200) model files (fp32) from zenodo, resumably.
set -euo pipefail

TF_ZIP="tf_ssd_resnet34_22.1.zip"

usage() {
    cat <<USAGE
Usage: $(basename "$0") [-o DIR]

Downloads the official MLPerf v0.5 SSD-ResNet34 files into DIR (an interrupted download resumes):
  resnet34-ssd1200.onnx      onnxruntime backend (zenodo record 3228411)
  resnet34-ssd1200.pytorch   pytorch backend (zenodo record 3236545, whole pickled model)
  resnet34_tf.22.1.pb        tensorflow backend, from ${TF_ZIP} (zenodo record 3345892)

  -o DIR   the model folder (default: \${MODEL_DIR:-./models})
  -h       show this help
Environment: MLPERF_ZENODO_BASE_URL (default https://zenodo.org/record) for a mirror; PYTHON (default: the checkout's .venv, else
python3). No published checksums exist for these files: only their completeness is checked.
USAGE
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tools/download/lib.sh
source "$here/../../tools/download/lib.sh"
zenodo="${MLPERF_ZENODO_BASE_URL:-https://zenodo.org/record}"
parse_output_option "${MODEL_DIR:-./models}" "$@"

fetch_to() {  # URL FILE
    fetch_model "$1" "$output/$2"
}
fetch_to "$zenodo/3228411/files/resnet34-ssd1200.onnx" resnet34-ssd1200.onnx
fetch_to "$zenodo/3236545/files/resnet34-ssd1200.pytorch" resnet34-ssd1200.pytorch
if [[ ! -f "$output/resnet34_tf.22.1.pb" ]]; then
    fetch_to "$zenodo/3345892/files/$TF_ZIP" "$TF_ZIP"
    tmp="$output/.extract.$$"
    rm -rf "$tmp"
    trap 'rm -rf "$tmp"' EXIT
    # a cut or foreign archive is removed, so that a rerun fetches it again instead of trusting it
    run_python -m zipfile -e "$output/$TF_ZIP" "$tmp" 2>/dev/null \
        || { rm -rf "$tmp"; drop_download "$output/$TF_ZIP"
             die "$output/$TF_ZIP is cut short or corrupt; it was removed, run $(basename "$0") again"; }
    graph="$(find "$tmp" -name resnet34_tf.22.1.pb -print -quit)"
    [[ -n "$graph" ]] || { rm -rf "$tmp"; drop_download "$output/$TF_ZIP"
                           die "$TF_ZIP has no resnet34_tf.22.1.pb; it was removed, run $(basename "$0") again"; }
    check_models "$graph"
    mv "$graph" "$output/resnet34_tf.22.1.pb"
    rm -rf "$tmp"
    drop_download "$output/$TF_ZIP"
fi
echo "done: $output/resnet34-ssd1200.{onnx,pytorch}, $output/resnet34_tf.22.1.pb"
