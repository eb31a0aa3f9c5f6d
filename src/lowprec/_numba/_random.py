"""Counter-based random bits (SplitMix64 of seed and flat index), the Numba twin of the reference."""

from __future__ import annotations

import numba
import numpy as np

from ._threads import run_parts

__all__ = ["GOLDEN", "random_bits_numba", "splitmix64", "sr_bits", "sr_key"]

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)


@numba.njit(inline="always", cache=True)
def splitmix64(z: np.uint64) -> np.uint64:
    z = np.uint64(z)
    z = (z ^ (z >> np.uint64(30))) * _C1
    z = (z ^ (z >> np.uint64(27))) * _C2
    return z ^ (z >> np.uint64(31))


def sr_key(seed: int) -> np.uint64:
    """The per-call key: the mixer applied to the seed (mod 2**64)."""
    z = int(seed) & ((1 << 64) - 1)
    mask = (1 << 64) - 1
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return np.uint64(z ^ (z >> 31))


@numba.njit(inline="always", cache=True)
def sr_bits(key: np.uint64, index: np.int64, n: np.int64) -> np.int64:
    """Random integer in [0, 2**n) for element ``index`` of the stream ``key``."""
    z = splitmix64(np.uint64(key) + np.uint64(index + 1) * GOLDEN)
    return np.int64(z >> np.uint64(64 - n))


@numba.njit(cache=True, nogil=True)
def _fill(lo, hi, out, key, start, n):
    for i in range(lo, hi):
        out[i] = np.uint64(sr_bits(key, start + i, n))
    return 0


def random_bits_numba(seed: int, count: int, n: int, start: int = 0) -> np.ndarray:
    """``count`` random integers in ``[0, 2**n)`` of stream ``seed``, from element ``start``."""
    out = np.empty(count, dtype=np.uint64)
    run_parts(_fill, count, out, sr_key(seed), np.int64(start), np.int64(n))
    return out
