"""The v0.5 submission: the tree (``mlperf-ref submission``) and its checker (``mlperf-ref check``)."""
