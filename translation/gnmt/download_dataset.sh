#!/usr/bin/env bash
# Download the v0.5 GNMT inference data (WMT16 newstest2014, tokenized + BPE) from zenodo, resumably.
set -euo pipefail

usage() {
    cat <<USAGE
Usage: $(basename "$0") [-o DIR]

Downloads gnmt_inference_data.zip (zenodo record 3437893; an interrupted download resumes) and puts its
files flat into DIR:
  newstest2014.tok.bpe.32000.en        accuracy set (3,003 sentences)
  newstest2014.tok.bpe.32000.de        references for BLEU
  newstest2014.tok.bpe.32000.en.large  performance set (1,300 copies of the .en file; built if absent)
  vocab.bpe.32000.en, vocab.bpe.32000.de, bpe.32000
Then check it with verify_dataset.sh -d DIR.

  -o DIR   the dataset folder (default: \${DATA_DIR:-./data/wmt16})
  -h       show this help
Environment: MLPERF_ZENODO_BASE_URL (default https://zenodo.org/record) for a mirror; PYTHON (default: the checkout's .venv, else
python3).
USAGE
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tools/download/lib.sh
source "$here/../../tools/download/lib.sh"
base="${MLPERF_ZENODO_BASE_URL:-https://zenodo.org/record}"
record=3437893  # v0.5 facts: gnmt_inference_data.zip
repeats=1300  # v0.5: the .large file is 1,300 copies of the 3,003-line accuracy set
files=(newstest2014.tok.bpe.32000.en newstest2014.tok.bpe.32000.de vocab.bpe.32000.en vocab.bpe.32000.de
    bpe.32000)
parse_output_option "${DATA_DIR:-./data/wmt16}" "$@"

have_all=1
for name in "${files[@]}"; do [[ -f "$output/$name" ]] || have_all=0; done
if ((!have_all)); then
    archive="$output/gnmt_inference_data.zip"
    url="$base/$record/files/gnmt_inference_data.zip"
    # zenodo publishes no size or checksum to pin: the zip is trusted only when every member reads back
    if [[ -f $archive ]] && ! zip_is_whole "$archive"; then
        echo "$archive: not a whole zip (left by an interrupted or short download); downloading it again"
        drop_download "$archive"
    fi
    fetch "$url" "$archive"
    if ! zip_is_whole "$archive"; then
        drop_download "$archive"
        die "gnmt_inference_data.zip from $url is not a whole zip (the transfer ended early or the mirror sent \
other bytes); it was removed: run $(basename "$0") again, or check the mirror"
    fi
    unpacked="$output/.unpacked.$$"
    trap 'rm -rf "$unpacked"' EXIT
    run_python -m zipfile -e "$archive" "$unpacked" \
        || die "$archive is not a readable zip; delete it and run $(basename "$0") again"
    for name in "${files[@]}" newstest2014.tok.bpe.32000.en.large; do
        found="$(find "$unpacked" -type f -name "$name" -print -quit)"
        if [[ -n $found ]]; then
            mv -f "$found" "$output/$name"
        elif [[ $name != *.large ]]; then
            die "$name is not in gnmt_inference_data.zip; delete $archive and download it again"
        fi
    done
    drop_download "$archive"
fi

large="$output/newstest2014.tok.bpe.32000.en.large"
if [[ ! -f $large ]]; then
    echo "building $(basename "$large") from $repeats copies of the accuracy set"
    for ((i = 0; i < repeats; i++)); do cat "$output/newstest2014.tok.bpe.32000.en"; done >"$large.tmp" \
        || die "cannot write $large.tmp; free some disk space and run $(basename "$0") again"
    mv -f "$large.tmp" "$large"
fi
echo "done: $output (check it with $(dirname "$0")/verify_dataset.sh -d $output)"
