"""Process-level settings that make CPU training and inference faster."""

from __future__ import annotations


def keep_freed_memory() -> None:
    """glibc: reuse freed activation memory instead of returning it to the kernel every step.

    Large tensors are otherwise mmap-ed and unmapped each step, and page-faulting them in again
    costs up to a third of a CPU training step (measured in benchmarks/model.py).
    """
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(-4, 0)  # M_MMAP_MAX: no mmap for large blocks
    libc.mallopt(-1, 1 << 40)  # M_TRIM_THRESHOLD: never trim the heap
