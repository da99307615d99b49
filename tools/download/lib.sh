#!/usr/bin/env bash
# Shared by every benchmark's download and verify scripts: one-line errors, the repository root, the
# project's Python (with the repository importable) and a resumable, checksum-verified fetch.
# Use: source "<repo>/tools/download/lib.sh"

die() { echo "error: $*" >&2; exit 1; }

MLPERF_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export MLPERF_REPO

# PYTHON if set, else the checkout's .venv (made by 'make venv'), else python3.
project_python() {
    if [[ -n "${PYTHON:-}" ]]; then
        printf '%s' "$PYTHON"
    elif [[ -x "$MLPERF_REPO/.venv/bin/python" ]]; then
        printf '%s' "$MLPERF_REPO/.venv/bin/python"
    else
        printf 'python3'
    fi
}

# run_python ARGS...: the project's Python with the repository on PYTHONPATH.
run_python() {
    PYTHONPATH="$MLPERF_REPO${PYTHONPATH:+:$PYTHONPATH}" "$(project_python)" "$@"
}

# Stop in one line when that Python lacks the project's dependencies.
require_project_python() {
    run_python -c "import tools.download.fetch, numpy" 2>/dev/null \
        || die "$(project_python) cannot import the project's dependencies; run 'make venv' or set PYTHON"
}

# zip_is_whole FILE: true when FILE is a zip whose every member reads back with its CRC (a half download,
# or other bytes from a mirror, is not); for archives with no published size or checksum to verify.
zip_is_whole() {
    run_python - "$1" 2>/dev/null <<'PY'
import sys
import zipfile

try:
    with zipfile.ZipFile(sys.argv[1]) as archive:
        sys.exit(0 if archive.testzip() is None else 1)
except Exception:  # noqa: BLE001 - BadZipFile, zlib.error, EOFError...: all mean "not whole"
    sys.exit(1)
PY
}

# fetch URL FILE [tools.download.fetch options]: resumable into FILE.part, verified, renamed into place.
fetch() {
    local url="$1" file="$2"
    shift 2
    run_python -m tools.download.fetch "$url" --output "$file" "$@" \
        || die "download of $(basename "$file") failed (the line above says why)"
}

# fetch_model URL FILE [tools.download.fetch options]: fetch, then check the model file by its suffix (.onnx, .pb,
# .pytorch); a bad one is removed with one line saying what it looks like, so a rerun fetches it again.
fetch_model() {
    fetch "$@" --check-model
}

# check_models FILE...: tools.download.check_models on each file; exit 1 (its line says why) if any was bad.
check_models() {
    run_python -m tools.download.check_models "$@" || exit 1
}

# drop_download FILE: remove a fetched file and its checksum sidecars (an archive that would not unpack).
drop_download() {
    rm -f "$1" "$1.md5" "$1.sha256"
}

# parse_folder_option LETTER DEFAULT ARGS...: "-LETTER DIR" and "-h" (the script defines usage); sets
# $option_dir (DEFAULT unless given) and the array $positional with the other arguments.
parse_folder_option() {
    local letter="$1" option OPTIND=1
    option_dir="$2"
    shift 2
    while getopts ":${letter}:h" option; do
        case "$option" in
            "$letter") option_dir="$OPTARG" ;;
            h) usage; exit 0 ;;
            :) die "-$OPTARG needs a value (see -h)" ;;
            *) die "unknown option -$OPTARG (see -h)" ;;
        esac
    done
    shift $((OPTIND - 1))
    positional=("$@")
}

# parse_output_option DEFAULT ARGS...: the download scripts' "-o DIR" and "-h" (the script defines usage);
# sets $output and creates the folder.
parse_output_option() {
    parse_folder_option o "$@"
    output="$option_dir"
    [[ ${#positional[@]} -eq 0 ]] || die "unexpected argument ${positional[0]} (see -h)"
    mkdir -p "$output" || die "cannot create $output; pass a writable folder with -o"
}

# verify_with_python MODULE DEFAULT_DIR "FLAG..." ARGS...: the Python verify scripts' "-d DIR", the
# pass-through FLAGs and -h (the script defines usage); runs "python -m MODULE DIR FLAGS".
verify_with_python() {
    local module="$1" folder="$2" allowed=" $3 " extra=()
    shift 3
    while [[ $# -gt 0 ]]; do
        case "$1" in
            -d) [[ $# -ge 2 ]] || die "-d needs a folder (see -h)"; folder="$2"; shift 2 ;;
            -h|--help) usage; exit 0 ;;
            *) [[ "$allowed" == *" $1 "* ]] || die "unknown argument $1 (see -h)"; extra+=("$1"); shift ;;
        esac
    done
    [[ -d "$folder" ]] || die "$folder: no such folder; pass the dataset folder with -d (see download_dataset.sh)"
    run_python -m "$module" "$folder" "${extra[@]}"
}
