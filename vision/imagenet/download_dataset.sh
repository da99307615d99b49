#!/usr/bin/env bash
# Check and extract the ImageNet 2012 validation tar, then place the shipped val_map.txt.
# ImageNet cannot be downloaded anonymously: pass the tar you downloaded from image-net.org, or a URL
# you are entitled to download it from (fetched resumably with tools.download.fetch).
set -euo pipefail

TAR_NAME="ILSVRC2012_img_val.tar"
TAR_SIZE="${IMAGENET_VAL_TAR_SIZE:-6744924160}"  # image-net.org / tensorflow-datasets checksums.tsv
TAR_SHA256="${IMAGENET_VAL_TAR_SHA256:-c7e06a6c0baccf06d8dbeb6577d71efff84673a5dbdd50633ab44f8ea0456ae0}"

usage() {
    cat <<USAGE
Usage: $(basename "$0") [-o DIR] SOURCE

Checks ${TAR_NAME} (${TAR_SIZE} bytes, sha256 ${TAR_SHA256}), extracts its 50,000
images into DIR and places the project's val_map.txt there.

  SOURCE   the path of ${TAR_NAME}, or an http(s):// URL you are entitled to download
           it from (saved as DIR/${TAR_NAME}; an interrupted download resumes)
  -o DIR   the dataset folder to create (default: \${DATA_DIR:-./imagenet})
  -h       show this help

Then check it with verify_dataset.sh -d DIR.
Environment: PYTHON (default: the checkout's .venv, else python3); IMAGENET_VAL_TAR_SIZE and IMAGENET_VAL_TAR_SHA256 replace the
expected size and checksum (only for a repackaged tar you trust).
USAGE
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tools/download/lib.sh
source "$here/../../tools/download/lib.sh"
parse_folder_option o "${DATA_DIR:-./imagenet}" "$@"
output="$option_dir"
[[ ${#positional[@]} -eq 1 ]] || die "pass the path or URL of ${TAR_NAME} (see -h)"
source="${positional[0]}"

if [[ -f "$output/val_map.txt" ]] && cmp -s "$output/val_map.txt" "$here/val_map.txt"; then
    echo "$output: already extracted; check it with verify_dataset.sh -d $output"
    exit 0
fi
mkdir -p "$output" || die "cannot create $output; pass a writable folder with -o"

if [[ "$source" =~ ^https?:// ]]; then
    tar_file="$output/$TAR_NAME"
    fetch "$source" "$tar_file" --sha256 "$TAR_SHA256" --size "$TAR_SIZE"
else
    tar_file="$source"
    [[ -f "$tar_file" ]] || die "$tar_file: no such file; download ${TAR_NAME} from image-net.org first"
    size="$(stat -c %s "$tar_file")"
    [[ "$size" == "$TAR_SIZE" ]] \
        || die "$tar_file: $size bytes, expected $TAR_SIZE; download ${TAR_NAME} again"
    echo "checking the sha256 of $tar_file (about a minute) ..."
    sum="$(sha256sum "$tar_file" | cut -d' ' -f1)"
    [[ "$sum" == "$TAR_SHA256" ]] \
        || die "$tar_file: sha256 $sum, expected $TAR_SHA256; download ${TAR_NAME} again"
fi

echo "extracting $tar_file into $output ..."
tar -xf "$tar_file" -C "$output" || die "extracting $tar_file failed; check the free disk space (6.4 GB)"
# val_map.txt last, written atomically: its presence marks a complete folder.
cp "$here/val_map.txt" "$output/.val_map.txt.tmp"
mv "$output/.val_map.txt.tmp" "$output/val_map.txt"
echo "done: $output; check it with verify_dataset.sh -d $output"
