#!/usr/bin/env bash
# Download the official GNMT checkpoint (TF1, tensorflow/nmt names) from zenodo, resumably.
set -euo pipefail

usage() {
    cat <<USAGE
Usage: $(basename "$0") [-o DIR]

Downloads gnmt_model.zip (zenodo record 2530924; an interrupted download resumes) and unpacks
DIR/ende_gnmt_model_4_layer/translate.ckpt.{index,data-00000-of-00001,meta}. Run with
  mlperf-ref run gnmt --model DIR/ende_gnmt_model_4_layer/translate.ckpt ...

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
record=2530924  # v0.5 facts: gnmt_model.zip
folder=ende_gnmt_model_4_layer
parse_output_option "${MODEL_DIR:-./models}" "$@"

target="$output/$folder"
if [[ -f $target/translate.ckpt.index && -f $target/translate.ckpt.data-00000-of-00001 ]]; then
    echo "done: $target/translate.ckpt (already there)"
    exit 0
fi
archive="$output/gnmt_model.zip"
fetch "$base/$record/files/gnmt_model.zip" "$archive"
unpacked="$output/.unpacked.$$"
trap 'rm -rf "$unpacked"' EXIT
# a cut or foreign archive is removed, so that a rerun fetches it again instead of trusting it
run_python -m zipfile -e "$archive" "$unpacked" 2>/dev/null \
    || { drop_download "$archive"; die "$archive is cut short or not a zip; it was removed, run $(basename "$0") again"; }
index="$(find "$unpacked" -type f -name translate.ckpt.index -print -quit)"
[[ -n $index ]] || { drop_download "$archive"
                     die "gnmt_model.zip holds no translate.ckpt.index; it was removed, run $(basename "$0") again"; }
rm -rf "$target"
mv "$(dirname "$index")" "$target"
drop_download "$archive"
echo "done: $target/translate.ckpt"
