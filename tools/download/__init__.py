"""Downloads: the resumable, checksum-verified fetch and the shell library the download and verify scripts
source (lib.sh)."""
