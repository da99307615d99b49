#!/usr/bin/env bash
# Download the official SSD-MobileNet-v1 model files (fp32), resumably.
set -euo pipefail

TARBALL="ssd_mobilenet_v1_coco_2018_01_28.tar.gz"

usage() {
    cat <<USAGE
Usage: $(basename "$0") [-o DIR]

Downloads the official MLPerf v0.5 SSD-MobileNet-v1 files into DIR (an interrupted download resumes):
  ssd_mobilenet_v1_coco_2018_01_28.pb    tensorflow backend: frozen_inference_graph.pb of
                                         ${TARBALL} (TF object-detection model zoo)
  ssd_mobilenet_v1_coco_2018_01_28.onnx  onnxruntime backend (zenodo record 3163026, tf2onnx opset 10)
  ssd_mobilenet_v1.pytorch               pytorch backend (zenodo record 3239977, whole pickled model)

  -o DIR   the model folder (default: \${MODEL_DIR:-./models})
  -h       show this help
Environment: MLPERF_ZENODO_BASE_URL (default https://zenodo.org/record) and MLPERF_TF_MODELS_BASE_URL
(default http://download.tensorflow.org/models/object_detection) for mirrors; PYTHON (default: the checkout's .venv, else python3).
No published checksums exist for these files: only their completeness is checked.
USAGE
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tools/download/lib.sh
source "$here/../../tools/download/lib.sh"
zenodo="${MLPERF_ZENODO_BASE_URL:-https://zenodo.org/record}"
tf_models="${MLPERF_TF_MODELS_BASE_URL:-http://download.tensorflow.org/models/object_detection}"
parse_output_option "${MODEL_DIR:-./models}" "$@"

fetch_to() {  # URL FILE
    fetch_model "$1" "$output/$2"
}
fetch_to "$zenodo/3163026/files/ssd_mobilenet_v1_coco_2018_01_28.onnx" ssd_mobilenet_v1_coco_2018_01_28.onnx
fetch_to "$zenodo/3239977/files/ssd_mobilenet_v1.pytorch" ssd_mobilenet_v1.pytorch
if [[ ! -f "$output/ssd_mobilenet_v1_coco_2018_01_28.pb" ]]; then
    fetch_to "$tf_models/$TARBALL" "$TARBALL"
    member="ssd_mobilenet_v1_coco_2018_01_28/frozen_inference_graph.pb"
    scratch="$(mktemp -d "$output/.extract.XXXXXX")"
    trap 'rm -rf "$scratch"' EXIT
    # a cut or foreign archive is removed, so that a rerun fetches it again instead of trusting it
    tar -xzf "$output/$TARBALL" -C "$scratch" "$member" 2>/dev/null \
        || { drop_download "$output/$TARBALL"
             die "$output/$TARBALL lacks $member or is cut short; it was removed, run $(basename "$0") again"; }
    check_models "$scratch/$member"
    # v0.5 convention: the frozen graph renamed after the tarball
    mv "$scratch/$member" "$output/ssd_mobilenet_v1_coco_2018_01_28.pb"
    drop_download "$output/$TARBALL"
fi
echo "done: $output/ssd_mobilenet_v1_coco_2018_01_28.{onnx,pb}, $output/ssd_mobilenet_v1.pytorch"
