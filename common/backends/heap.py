"""glibc heap tuning for engines that allocate and free their activations on every call (torch eager).

By default glibc serves large blocks with mmap and returns freed memory at the top of the heap to the
system, so every torch forward pass faults its activation pages in again (and the kernel zeroes them).
With large blocks served from the heap, and freed memory kept there, the next pass reuses pages that are
already mapped (figures: bench/PERFORMANCE.md, "glibc's heap for torch").
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
from dataclasses import dataclass

# mallopt's parameter numbers in glibc's malloc.h
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024  # glibc's largest allowed on 64-bit systems
TRIM_THRESHOLD_BYTES = 256 * 1024 * 1024  # freed memory the heap may keep for the next pass


@dataclass(frozen=True)
class HeapSettings:
    mmap_threshold: int  # blocks of at least this many bytes still come from mmap
    trim_threshold: int  # the heap keeps up to this many freed bytes


def keep_freed_memory() -> HeapSettings | None:
    """Serve blocks below 32 MiB from the heap and keep up to 256 MiB of freed memory there; the
    settings made, or None where the C library is not glibc (or refuses)."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    made = [libc.mallopt(option, ctypes.c_int(value)) == 1 for option, value in
            ((M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES), (M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))]
    return HeapSettings(MMAP_THRESHOLD_BYTES, TRIM_THRESHOLD_BYTES) if all(made) else None
