"""The glibc heap settings of the pytorch backend, checked through glibc's own accounting."""

from __future__ import annotations

import ctypes
import platform

import pytest

from common.backends.heap import MMAP_THRESHOLD_BYTES, HeapSettings, keep_freed_memory

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]


def _info(libc: ctypes.CDLL) -> MallInfo2:
    libc.mallinfo2.restype = MallInfo2
    return libc.mallinfo2()


def _mmapped_blocks(libc: ctypes.CDLL) -> int:
    return _info(libc).hblks


def test_blocks_below_32_mib_come_from_the_heap_and_larger_ones_from_mmap() -> None:
    assert keep_freed_memory() == HeapSettings(32 * 2**20, 256 * 2**20)
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    before = _mmapped_blocks(libc)
    small = libc.malloc(MMAP_THRESHOLD_BYTES // 2)  # a ResNet50 bf16 activation at batch 8 is 12.8 MB
    assert _mmapped_blocks(libc) == before
    large = libc.malloc(MMAP_THRESHOLD_BYTES + 2**20)
    assert _mmapped_blocks(libc) == before + 1
    libc.free(large)
    free_before = _info(libc).fordblks
    libc.free(small)
    assert _mmapped_blocks(libc) == before
    # the freed 16 MiB stays in the heap for the next forward pass (by default glibc trims above 128 KiB)
    assert _info(libc).fordblks - free_before >= MMAP_THRESHOLD_BYTES // 2
