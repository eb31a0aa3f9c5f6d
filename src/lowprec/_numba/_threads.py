"""Parallel runs of range kernels on Python threads.

The element kernels of this package are serial ``nogil`` functions of ``(lo, hi, ...)`` that
process elements ``[lo, hi)``; :func:`run_parts` cuts ``[0, size)`` into one contiguous part per
thread and runs them at once. ``numba.prange`` would split the work the same way, but its parfor
passes cost several seconds of compilation for every specialisation of every kernel (3.5 s of the
5 s of a float kernel), paid again by each fresh process without a disk cache (a test run).

The results do not depend on the split: kernels index their random streams by absolute element
position, and part boundaries fall on multiples of :data:`CHUNK`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numba

__all__ = ["CHUNK", "PAR_MIN", "run_parts"]

CHUNK = 4096  # elements a kernel handles at a time (one pass while they are in cache)
PAR_MIN = 1 << 16  # elements per thread, at least


def run_parts(
    kernel: Callable, size: int, *args: object, align: int = CHUNK, min_part: int = PAR_MIN
) -> list:
    """``[kernel(lo, hi, *args), ...]`` over contiguous parts of ``[0, size)``, one per thread.

    As many parts as ``numba.get_num_threads()``, each of at least ``min_part`` items (elements,
    or the kernel's work items) and starting at a multiple of ``align``; one part runs in the
    calling thread.
    """
    parts = max(1, min(numba.get_num_threads(), size // max(1, min_part)))
    if parts == 1:
        return [kernel(0, size, *args)]
    kernel(0, 0, *args)  # compile (if needed) here, not in several threads at once
    bounds = [size * k // parts // align * align for k in range(parts)] + [size]
    results: list = [None] * parts
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            results[k] = kernel(bounds[k], bounds[k + 1], *args)
        except BaseException as exc:  # re-raised in the caller
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(1, parts)]
    for t in threads:
        t.start()
    work(0)
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results
