"""Translation benchmarks: GNMT on WMT16 English-German."""
