#!/usr/bin/env bash
# Check the GNMT dataset files against the v0.5 md5 sums and line counts; exit 1 on any mismatch.
set -euo pipefail

usage() {
    cat <<USAGE
Usage: $(basename "$0") [-d DIR]

Checks the files download_dataset.sh writes: md5 sums (the v0.5 verify_dataset.sh values), line counts
and that the text is UTF-8 (the runs refuse a file that is not, naming the line). Prints one line per
file and exits 1 if any file is missing or differs (v0.5 printed ERROR and exited 0).

  -d DIR   the dataset folder (default: \${DATA_DIR:-./data/wmt16})
  -h       show this help
Environment: GNMT_EXPECTED, a file of "NAME MD5 LINES" lines (MD5 or LINES may be -), replaces the built-in
table (for testing on other data). PYTHON (default: the checkout's .venv, else python3).
USAGE
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tools/download/lib.sh
source "$here/../../tools/download/lib.sh"
parse_folder_option d "${DATA_DIR:-./data/wmt16}" "$@"
folder="$option_dir"
[[ ${#positional[@]} -eq 0 ]] || die "unexpected argument ${positional[0]} (see -h)"
[[ -d $folder ]] || die "$folder is not a folder; run download_dataset.sh -o $folder first"

# v0.5 verify_dataset.sh md5 sums; line counts: 3,003 sentences, the .large file 1,300 times as many.
expected="newstest2014.tok.bpe.32000.en cb014e2509f86cd81d5a87c240c07464 3003
newstest2014.tok.bpe.32000.de d616740f6026dc493e66efdf9ac1cb04 3003
vocab.bpe.32000.en bbf724dc2e0ad4b35926d8557e34f465 -
vocab.bpe.32000.de bbf724dc2e0ad4b35926d8557e34f465 -
newstest2014.tok.bpe.32000.en.large - 3903900"
if [[ -n ${GNMT_EXPECTED:-} ]]; then
    [[ -f $GNMT_EXPECTED ]] || die "GNMT_EXPECTED=$GNMT_EXPECTED is not a file; unset it or fix the path"
    expected="$(cat "$GNMT_EXPECTED")"
fi

failures=0
while read -r name md5 lines; do
    [[ -n $name ]] || continue
    path="$folder/$name"
    if [[ ! -f $path ]]; then
        echo "MISSING  $name"
        failures=$((failures + 1))
        continue
    fi
    problems=""
    if [[ $md5 != - ]]; then
        actual="$(md5sum "$path" | cut -d' ' -f1)"
        [[ $actual == "$md5" ]] || problems+=" md5 $actual (expected $md5)"
    fi
    if [[ $lines != - ]]; then
        count="$(wc -l <"$path" | tr -d ' ')"
        [[ $count == "$lines" ]] || problems+=" $count lines (expected $lines)"
    fi
    # Text not vouched for by its md5 is checked as the runs read it: the first line that is not UTF-8.
    if [[ $md5 == - || -n $problems ]] && ! utf8="$(run_python -m translation.gnmt.text "$path" 2>&1)"; then
        utf8="${utf8#"error: $path: "}"
        problems+=" ${utf8%%; *}"
    fi
    if [[ -n $problems ]]; then
        echo "ERROR    $name:$problems"
        failures=$((failures + 1))
    else
        echo "OK       $name"
    fi
done <<<"$expected"

if ((failures)); then
    die "$failures file(s) in $folder missing or different; run download_dataset.sh -o $folder again"
fi
echo "all files in $folder verified"
