"""Helpers for testing backends bit for bit: sweep inputs and code comparison.

Public so that downstream projects (and every lowprec test suite) use the same sweeps.
"""

from __future__ import annotations

import numpy as np

from .formats._float import FloatFormat
from .formats._registry import get_format

__all__ = ["assert_codes_equal", "canonical_codes", "sweep_values"]


def _finite_values(fmt: FloatFormat) -> np.ndarray:
    from .reference import decode_reference

    codes = np.arange(1 << fmt.nbits, dtype=np.int64)
    v = decode_reference(codes, fmt)
    return v[np.isfinite(v)]


def sweep_values(fmt: object, dtype: type = np.float64) -> np.ndarray:
    """Every value of a format of <= 16 bits, every midpoint between neighbours, the float
    neighbours (``nextafter`` up and down in ``dtype``) of both, values beyond the largest finite
    one, and the specials (+-0, +-Inf, NaN), as an array of ``dtype``.

    Midpoints that ``dtype`` cannot hold exactly are skipped (their neighbours still appear).
    """
    f = get_format(fmt)
    if f.nbits > 16:
        raise ValueError("sweep_values enumerates formats of at most 16 bits")
    v = np.unique(_finite_values(f))
    mids = (v[:-1] + v[1:]) / 2  # exact in float64: adjacent values differ by one quantum
    top = float(f.max_finite)
    step = float(f.max_finite - f.mag_value(f.max_mag - 1)) if f.max_mag > 0 else top
    beyond = np.array([top + step / 2, top + step, top * 2, top * 4, 1e300 if dtype == np.float64 else 3e38])
    base = np.concatenate([v, mids, -mids, beyond, -beyond])
    base = base[np.abs(base) <= np.finfo(dtype).max]
    b = base.astype(dtype)
    b = b[b.astype(np.float64) == base]  # keep only exactly representable points
    with np.errstate(over="ignore"):
        up = np.nextafter(b, dtype(np.inf))
        dn = np.nextafter(b, dtype(-np.inf))
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan], dtype=dtype)
    tiny = np.array([np.finfo(dtype).smallest_subnormal, np.finfo(dtype).tiny], dtype=dtype)
    out = np.concatenate([b, up, dn, specials, tiny, -tiny])
    return out[np.isfinite(out) | np.isnan(out) | np.isinf(out)]


def canonical_codes(codes: np.ndarray, fmt: object) -> np.ndarray:
    """Codes with every NaN replaced by the format's canonical positive NaN (NaN compared by class)."""
    from .reference import decode_reference

    f = get_format(fmt)
    c = np.asarray(codes).astype(np.uint64)
    if not f.has_nan:
        return c
    vals = decode_reference(c.astype(np.int64), f) if f.nbits <= 16 else None
    if vals is None:
        return c
    return np.where(np.isnan(vals), np.uint64(f.nan_code), c)


def assert_codes_equal(actual: np.ndarray, expected: np.ndarray, inputs: np.ndarray | None = None) -> None:
    """Assert two code arrays are equal bit for bit, showing the first mismatches and their inputs."""
    a = np.asarray(actual).astype(np.uint64)
    e = np.asarray(expected).astype(np.uint64)
    if a.shape != e.shape:
        raise AssertionError(f"shapes differ: {a.shape} vs {e.shape}")
    bad = np.nonzero(a.ravel() != e.ravel())[0]
    if bad.size:
        show = bad[:8]
        lines = [f"{bad.size} of {a.size} codes differ; first:"]
        for i in show:
            xi = "" if inputs is None else f" input={np.asarray(inputs).ravel()[i]!r}"
            lines.append(f"  [{i}]{xi} actual=0x{int(a.ravel()[i]):x} expected=0x{int(e.ravel()[i]):x}")
        raise AssertionError("\n".join(lines))
