"""The tools beside the run harness: the mlperf-ref command line, the quick start, the submission tree and its
checker, int8 calibration, downloads and the peak searches. Only tools/cli.py imports another tool."""
