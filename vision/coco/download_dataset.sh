#!/usr/bin/env bash
# Download and extract COCO 2017 val (images and annotations), resumably and checksum-verified.
set -euo pipefail

VAL_ZIP="val2017.zip"
VAL_SIZE="${COCO_VAL_ZIP_SIZE:-815585330}"  # cocodataset.org
VAL_MD5="${COCO_VAL_ZIP_MD5:-442b8da7639aecaf257c1dceb8ba8c80}"
ANN_ZIP="annotations_trainval2017.zip"
ANN_SIZE="${COCO_ANN_ZIP_SIZE:-252907541}"
ANN_MD5="${COCO_ANN_ZIP_MD5:-f4bbac642086de4f52a3fdda2de5fa2c}"

usage() {
    cat <<USAGE
Usage: $(basename "$0") [-o DIR] [-k]

Downloads ${VAL_ZIP} (${VAL_SIZE} bytes) and ${ANN_ZIP} (${ANN_SIZE} bytes) with md5 checks
(an interrupted download resumes) and extracts DIR/val2017/ and DIR/annotations/instances_val2017.json.

  -o DIR   the dataset folder (default: \${DATA_DIR:-./coco})
  -k       keep the archives in DIR (verify_dataset.sh then checks them too)
  -h       show this help
Then check it with verify_dataset.sh -d DIR.
Environment: MLPERF_COCO_BASE_URL (default http://images.cocodataset.org) for a mirror; PYTHON
(default python3); COCO_VAL_ZIP_SIZE/_MD5 and COCO_ANN_ZIP_SIZE/_MD5 replace the expected sizes and
checksums (only for archives you trust).
USAGE
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tools/download/lib.sh
source "$here/../../tools/download/lib.sh"
base="${MLPERF_COCO_BASE_URL:-http://images.cocodataset.org}"
output="${DATA_DIR:-./coco}"
keep=0
while getopts ":o:kh" option; do
    case "$option" in
        o) output="$OPTARG" ;;
        k) keep=1 ;;
        h) usage; exit 0 ;;
        :) die "-$OPTARG needs a value (see -h)" ;;
        *) die "unknown option -$OPTARG (see -h)" ;;
    esac
done
shift $((OPTIND - 1))
[[ $# -eq 0 ]] || die "unexpected argument $1 (see -h)"

if [[ -f "$output/annotations/instances_val2017.json" && -d "$output/val2017" ]]; then
    echo "$output: already extracted; check it with verify_dataset.sh -d $output"
    exit 0
fi
mkdir -p "$output" || die "cannot create $output; pass a writable folder with -o"

fetch_archive() {  # URL FILE SIZE MD5
    fetch "$1" "$output/$2" --size "$3" --md5 "$4"
}
extract() {  # ZIP: into a temporary folder, then moved into place (no half-extracted folder)
    local tmp="$output/.extract.$$"
    rm -rf "$tmp"
    run_python -m zipfile -e "$output/$1" "$tmp" \
        || { rm -rf "$tmp"; die "extracting $output/$1 failed; delete it and run $(basename "$0") again"; }
    echo "$tmp"
}

fetch_archive "$base/zips/$VAL_ZIP" "$VAL_ZIP" "$VAL_SIZE" "$VAL_MD5"
fetch_archive "$base/annotations/$ANN_ZIP" "$ANN_ZIP" "$ANN_SIZE" "$ANN_MD5"
echo "extracting $VAL_ZIP and $ANN_ZIP into $output ..."
images="$(extract "$VAL_ZIP")"
[[ -d "$images/val2017" ]] || { rm -rf "$images"; die "$VAL_ZIP has no val2017/ folder; download it again"; }
rm -rf "$output/val2017"
mv "$images/val2017" "$output/val2017"
rm -rf "$images"
notes="$(extract "$ANN_ZIP")"
[[ -f "$notes/annotations/instances_val2017.json" ]] \
    || { rm -rf "$notes"; die "$ANN_ZIP has no annotations/instances_val2017.json; download it again"; }
mkdir -p "$output/annotations"
# the annotation file last: its presence marks a complete folder
mv "$notes/annotations/instances_val2017.json" "$output/annotations/instances_val2017.json"
rm -rf "$notes"
if [[ "$keep" -eq 0 ]]; then
    rm -f "$output/$VAL_ZIP" "$output/$VAL_ZIP.md5" "$output/$ANN_ZIP" "$output/$ANN_ZIP.md5"
fi
echo "done: $output; check it with verify_dataset.sh -d $output"
