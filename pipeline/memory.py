"""Giving freed memory back to the operating system between large steps."""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from functools import cache


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to do
        return None


def release() -> bool:
    """Ask the C allocator to return freed heap pages to the operating system (glibc's
    ``malloc_trim``); a no-op elsewhere. Python and NumPy give freed memory back to the allocator,
    which may keep it: in one kernel running every notebook of a borough, a notebook would
    otherwise start from the previous one's high-water mark (at a million referrals, hundreds of
    megabytes). True when something was returned."""
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False


def release_arrow() -> None:
    """Hand Arrow's freed buffers back to the system (its allocator keeps them otherwise): a big
    table's Arrow copy is garbage as soon as the pandas one exists."""
    import pyarrow as pa  # imported by whoever has Arrow buffers to free

    pa.default_memory_pool().release_unused()
