"""Public access to the counter-based random bits used by stochastic rounding."""

from __future__ import annotations

import numpy as np

__all__ = ["random_bits"]


def random_bits(seed: int, shape: int | tuple[int, ...], n_random_bits: int = 32) -> np.ndarray:
    """The random integers that ``quantize(..., "stochastic", seed=seed)`` uses for an array of ``shape``.

    Element ``i`` (flat C order) gets the top ``n_random_bits`` bits of
    ``splitmix64(splitmix64(seed) + (i + 1) * 0x9E3779B97F4A7C15)``. Passing the result as
    ``random_bits=`` reproduces the seeded call exactly, on any backend.
    """
    from ._numba._random import random_bits_numba

    if not 1 <= n_random_bits <= 52:
        raise ValueError(f"n_random_bits must be in [1, 52], got {n_random_bits}")
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    count = int(np.prod(shape, dtype=np.int64))
    return random_bits_numba(int(seed), count, n_random_bits).reshape(shape)
