"""Shared inputs of the block-format tests (imported as ``blockdata``)."""

from __future__ import annotations

import numpy as np


def block_inputs(shape: tuple[int, ...], seed: int = 0, dtype: type = np.float32) -> np.ndarray:
    """Normal data with per-row magnitudes spread over many binades, exact zeros and powers of two."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * np.exp2(rng.integers(-20, 20, size=(*shape[:-1], 1)))
    flat = x.reshape(-1)
    flat[::7] = 0.0
    flat[3::11] = np.exp2(rng.integers(-10, 10, size=flat[3::11].size))  # exact powers of two (amax = 2^k)
    flat[5::13] = np.nextafter(np.exp2(3.0), 0.0)  # just below 2^k
    return x.astype(dtype)
