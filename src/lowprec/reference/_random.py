"""The counter-based random bits of stochastic rounding, written with Python ints.

Element ``i`` of a call with seed ``s`` gets the SplitMix64 finaliser of
``mix(s) + (i + 1) * 0x9E3779B97F4A7C15`` (mod 2**64), where ``mix(s)`` is the finaliser of
``s``; its top ``n`` bits are the random integer. Every backend (Numba, C++, CUDA) implements the
same function, so the bits depend only on (seed, flat index), not on threads or devices.
"""

from __future__ import annotations

import numpy as np

__all__ = ["GOLDEN", "random_bits_reference", "splitmix64"]

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def splitmix64(z: int) -> int:
    """The SplitMix64 output function (a bijective 64-bit mixer)."""
    z &= MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def random_bits_reference(seed: int, count: int, n: int) -> np.ndarray:
    """The first ``count`` random integers in ``[0, 2**n)`` of stream ``seed``."""
    key = splitmix64(seed & MASK)
    out = [splitmix64(key + (i + 1) * GOLDEN) >> (64 - n) for i in range(count)]
    return np.array(out, dtype=np.uint64)
