"""Keep large buffers in the process heap while a job moves bulk bytes (restore, migration).

glibc's malloc serves every buffer over 128 KiB (at first) with its own mmap and gives it back to the
kernel when freed, and trims a heap whose top has over 128 KiB free: a restore, which decompresses
1 MiB blocks and builds produce requests of a few MiB, then faults every page of every buffer in
again. Measured on 1,000,000 records of 1 KiB: 650,000 page faults and 1.5 s of system time, against
under 20,000 and 0.4-0.5 s with buffers up to 32 MiB taken from the heap and up to 16 MiB of free heap
kept. At most four arenas (glibc makes up to eight per core, one per thread that allocates at the same
time as another; each keeps its own peak) take the peak RSS from about 85 to 70-75 MB; two would save
a little more, but the decompressing threads then wait on each other's malloc locks (measured: +0.5 s
of CPU).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -3, -8
MMAP_THRESHOLD = 32 << 20  # glibc's ceiling for this setting on 64-bit
TRIM_THRESHOLD = 16 << 20
ARENAS = 4


@functools.cache
def keep_large_buffers() -> bool:
    """Tune malloc once per process; False where it is not glibc's (nothing changes then)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    settings = ((_M_MMAP_THRESHOLD, MMAP_THRESHOLD), (_M_TRIM_THRESHOLD, TRIM_THRESHOLD), (_M_ARENA_MAX, ARENAS))
    return all([bool(mallopt(option, value)) for option, value in settings])
