"""Memory-mapped arrays paged in ahead of the questions that need them.

A memory-mapped array is read from disk a page at a time, on first touch: a question whose terms'
postings were never read waits for the disk (right after a start from a cold page cache, several
times as long; docs/performance.md). `populate` maps every page of the arrays into the process in one
system call, which reads what is not in the page cache without holding the GIL. Pages a running
process has mapped are also what the
kernel keeps longest: hosts that reclaim idle page cache on their own (this project's VMs page out file
pages that nobody maps after a minute unused) leave them alone.

The cost is their size in resident memory, as file pages the kernel may still drop under pressure.
Only the derived index files are mapped here, never news.db: a second handle on SQLite's file drops
its locks when closed (docs/performance.md, "Only SQLite opens news.db").
"""

from __future__ import annotations

import ctypes
import functools
import logging
import mmap
from collections.abc import Iterable

import numpy as np

log = logging.getLogger(__name__)

MADV_DONTNEED = 4
MADV_POPULATE_READ = 22  # Linux 5.14 and newer: fault every page of a range in, as reads would


def populate(arrays: Iterable[np.ndarray]) -> bool:
    """Map every page of these memory-mapped arrays into the process now. False where the system
    cannot (not Linux, or an older kernel): their pages are then read on first touch, as before."""
    return _advise(arrays, MADV_POPULATE_READ)


def release(arrays: Iterable[np.ndarray]) -> bool:
    """Unmap the pages of these memory-mapped (read-only) arrays from the process: they leave its
    resident memory and are read again, from the page cache or the disk, when next touched. Arrays
    not mapped read-only from a file are left alone (their memory would be lost, not released)."""
    return _advise([a for a in arrays if isinstance(a, np.memmap) and a.mode == "r"], MADV_DONTNEED)


def _advise(arrays: Iterable[np.ndarray], advice: int) -> bool:
    return all(_madvise(a.ctypes.data, a.nbytes, advice) for a in arrays if a.nbytes)


@functools.cache
def _libc_madvise():
    try:
        madvise = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    return madvise


def _madvise(address: int, length: int, advice: int) -> bool:
    """madvise(2) on the pages holding [address, address + length)."""
    madvise = _libc_madvise()
    if madvise is None:
        return False
    lead = address % mmap.PAGESIZE  # madvise wants a page start (an .npy's data follows its header)
    if madvise(address - lead, length + lead, advice) != 0:
        log.debug("madvise(%d) failed: errno %d", advice, ctypes.get_errno())
        return False
    return True
