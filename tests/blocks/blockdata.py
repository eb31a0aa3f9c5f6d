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


def amax_grid_rows(fmt: object, blocks_n: int, seed: int) -> tuple[np.ndarray, float]:
    """``(x, g)``: rows of an ``amax``-rule format's blocks, each with a chosen scale ``s`` and its
    elements exactly on the grid points ``p * s * g`` (and their float32 neighbours), ``g`` the
    tensor scale (1 without one) with as many significant bits as keep those products exact in
    float32. The first block holds ``element_max * scale_max * g``, which makes ``g`` the tensor
    scale; every other block's amax ``element_max * s * g`` makes ``s`` its scale."""
    rng = np.random.default_rng(seed)
    ef, sf, b = fmt.element_format, fmt.scale, fmt.block  # type: ignore[attr-defined]
    pts = np.array([float(ef.mag_value(m)) for m in range(ef.max_mag + 1)])  # the non-negative grid
    scales = np.array([float(sf.mag_value(m)) for m in range(1, sf.max_mag + 1)])  # positive scales
    g = 1.0
    if fmt.tensor_scale:  # type: ignore[attr-defined]
        gbits = 24 - (ef.mbits + 1) - (sf.mbits + 1)
        g = 1.0 + (2 * int(rng.integers(0, 1 << (gbits - 2))) + 1) * 2.0 ** (1 - gbits)
    emax, smax = float(fmt.element_max), float(sf.max_finite)  # type: ignore[attr-defined]
    rows = np.empty((blocks_n, b), np.float64)
    for k in range(blocks_n):
        s = smax if k == 0 else float(rng.choice(scales))
        on = rng.choice(pts, size=b) * s * g
        near = np.nextafter(on.astype(np.float32), np.float32(np.inf if k % 2 else -np.inf)).astype(
            np.float64
        )
        row = np.where(rng.random(b) < 0.7, on, near)
        row[0] = emax * s * g
        rows[k] = row * rng.choice([-1.0, 1.0], size=b)
    x = rows.astype(np.float32)
    assert np.array_equal(x[:, 0].astype(np.float64), rows[:, 0]), "block amaxes must be exact in float32"
    return x.reshape(-1, 4 * b) if blocks_n % 4 == 0 else x, g
