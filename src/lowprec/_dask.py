"""Lazy rounding of dask arrays, with the same bits as :func:`lowprec.quantize` on the whole array."""

from __future__ import annotations

import numpy as np

from .rounding import Overflow, Rounding, parse_rounding

__all__ = ["quantize_dask"]

_M = np.uint64((1 << 64) - 1)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def random_bits_at(seed: int, index: np.ndarray, n: int) -> np.ndarray:
    """The seeded stream's integers at arbitrary flat indices (the contract of ``docs/development.md``)."""
    with np.errstate(over="ignore"):
        key = _mix(np.array([int(seed) & ((1 << 64) - 1)], np.uint64))[0]
        z = key + (index.astype(np.uint64) + np.uint64(1)) * _GOLDEN
        return _mix(z) >> np.uint64(64 - n)


def _block_bits(
    block: np.ndarray, seed: int, n: int, shape: tuple, block_info: dict | None = None
) -> np.ndarray:
    loc = block_info[0]["array-location"]
    idx = (
        np.ravel_multi_index(np.ix_(*[np.arange(a, b) for a, b in loc]), shape)
        if shape
        else np.zeros((), int)
    )
    return random_bits_at(seed, np.asarray(idx, np.int64), n).reshape(block.shape)


def quantize_dask(
    x: object,
    fmt: object,
    rounding: str | Rounding = "nearest_even",
    *,
    overflow: str | Overflow | None = None,
    subnormals: bool | None = None,
    seed: int | None = None,
    random_bits: object = None,
    n_random_bits: int | None = None,
    **kwargs: object,
) -> object:
    """Round a dask array lazily, block by block (``map_blocks``).

    Seeded stochastic rounding gives element ``i`` (global flat C-order index) the same random
    integer as :func:`lowprec.quantize` on the computed array, whatever the chunking. Without a
    seed, one is drawn now, so the lazy result is deterministic once built.
    """
    import secrets

    import dask.array as da

    from ._api import quantize

    mode = parse_rounding(rounding)
    opts = dict(overflow=overflow, subnormals=subnormals, n_random_bits=n_random_bits, **kwargs)

    def plain(b: np.ndarray) -> np.ndarray:
        return quantize(b, fmt, mode, **opts)

    if not mode.is_stochastic:
        return x.map_blocks(plain, dtype=x.dtype)
    n = 32 if n_random_bits is None else int(n_random_bits)
    if random_bits is not None:
        if seed is not None:
            raise ValueError("give seed or random_bits, not both")
        rb = da.asarray(random_bits)
        if rb.shape != x.shape:
            raise ValueError(f"random_bits has shape {rb.shape}, expected {x.shape}")
        rb = rb.rechunk(x.chunks)
    else:
        s = secrets.randbits(64) if seed is None else int(seed)
        rb = x.map_blocks(_block_bits, s, n, x.shape, dtype=np.uint64)

    def sr(b: np.ndarray, r: np.ndarray) -> np.ndarray:
        return quantize(b, fmt, mode, random_bits=r, **opts)

    return da.map_blocks(sr, x, rb, dtype=x.dtype)
