"""Vectorised exact reference: the scalar definition of ``_float.py`` restated with NumPy.

Why it is exact: inputs are widened to float64 (exact), the quantum is a power of two, so
``scaled = ldexp(|x|, -q)`` is exact (it stays in [0, 2**(M+1)) and is never subnormal unless the
value is far below the quantum, where a stand-in with the same decisions is used), and
``rem = scaled - floor(scaled)`` is exact. Every rounding decision depends on ``rem`` only through
``rem == 0``, ``rem`` against 1/2 and ``floor(rem * 2**n)`` (n <= 52), all exact in float64.
The test suite checks this twin against the scalar Fraction definition.
"""

from __future__ import annotations

import functools

import numpy as np

from ..formats._float import FloatFormat
from ..rounding import Overflow, Rounding
from ._float import decode_code

__all__ = ["decode_reference", "encode_reference", "quantize_reference"]


def encode_reference(
    x: np.ndarray,
    fmt: FloatFormat,
    mode: Rounding = Rounding.NEAREST_EVEN,
    overflow: Overflow = Overflow.SATURATE,
    random_bits: np.ndarray | None = None,
    n_random_bits: int = 0,
) -> np.ndarray:
    """Codes of ``x`` rounded to ``fmt`` (same shape, smallest unsigned dtype that holds them)."""
    x = np.asarray(x, dtype=np.float64)
    shape = x.shape
    x = x.ravel()
    m, emin = fmt.mbits, fmt.emin_
    neg = np.signbit(x)
    nan = np.isnan(x)
    inf = np.isinf(x)
    a = np.where(nan | inf, 0.0, np.abs(x))
    zero = a == 0
    _mant, ex = np.frexp(a)
    e = ex.astype(np.int64) - 1
    e_max_code = fmt.emax_ + 1
    huge = ~zero & (e > e_max_code)
    ec = np.where(huge | zero, emin, e)
    below = ec < emin
    if fmt.subnormals:
        qexp = np.maximum(ec, emin) - m
    else:
        qexp = np.where(below, emin, ec - m)
    far = ~zero & (ec < qexp - 60)  # far below the quantum: same decisions as a tiny stand-in
    scaled = np.where(far, 2.0**-60, np.ldexp(np.where(huge, 0.0, a), -qexp))
    t = np.floor(scaled)
    rem = scaled - t
    ti = t.astype(np.int64)
    inexact = (rem != 0) | huge
    if fmt.zero:
        normal_lo = ((ec - emin + 1) << m) + ti - (1 << m)
        if fmt.subnormals:
            lo = np.where(below, ti, normal_lo)
            hi = lo + 1
        else:
            lo = np.where(below, 0, normal_lo)
            hi = np.where(below, 1 << m, lo + 1)
    else:
        lo = ((ec - emin) << m) + ti - (1 << m)
        hi = lo + 1
    odd = (lo & 1) == 1
    half = rem == 0.5
    if mode == Rounding.NEAREST_EVEN:
        up = (rem > 0.5) | (half & odd)
    elif mode == Rounding.NEAREST_AWAY:
        up = rem >= 0.5
    elif mode == Rounding.NEAREST_ZERO:
        up = rem > 0.5
    elif mode == Rounding.TOWARD_ZERO:
        up = np.zeros_like(inexact)
    elif mode == Rounding.TOWARD_POSITIVE:
        up = inexact & ~neg
    elif mode == Rounding.TOWARD_NEGATIVE:
        up = inexact & neg
    elif mode == Rounding.TO_ODD:
        up = inexact & ~odd
    else:
        if random_bits is None:
            raise ValueError("stochastic rounding needs random bits")
        r = np.asarray(random_bits).astype(np.int64).ravel()
        n = n_random_bits
        if mode == Rounding.STOCHASTIC:
            up = np.floor(np.ldexp(rem, n)).astype(np.int64) + r >= (1 << n)
        else:
            up = inexact & (r >= (1 << (n - 1)))
    mag = np.where(up & inexact, hi, lo)
    mag = np.where(huge, fmt.max_mag + 1, mag)  # beyond the exponent range: overflow in every mode
    if not fmt.zero:
        mag = np.where(below & ~zero, 0, mag)
    over = (mag > fmt.max_mag) | inf
    toward_zero = (mode in (Rounding.TOWARD_ZERO, Rounding.TO_ODD)) | (
        ((mode == Rounding.TOWARD_NEGATIVE) & ~neg) | ((mode == Rounding.TOWARD_POSITIVE) & neg)
    )
    sat = np.where(inf, overflow == Overflow.SATURATE, toward_zero | (overflow == Overflow.SATURATE))
    # an infinite input stays infinite where the format has Inf; the policy rules finite overflow
    to_inf = over & ~sat & fmt.has_inf & (inf | (overflow == Overflow.INFINITY))
    ovf_to_nan = over & ~sat & ~to_inf
    mag = np.where(over & sat, fmt.max_mag, mag)
    mag = np.where(to_inf, fmt.inf_mag, mag)
    nan_out = nan | ovf_to_nan
    if fmt.signed:
        signbit = neg & ~((mag == 0) & ~nan_out & (not fmt.has_negzero))
        code = mag | np.where(signbit, fmt.sign_mask, 0)
    else:
        code = mag
        bad = neg & ~nan & ~((mag == 0) & ~inf & fmt.zero)
        if overflow == Overflow.SATURATE:
            code = np.where(bad, 0, code)
        else:
            nan_out = nan_out | bad
        neg = np.zeros_like(neg)
    if not fmt.zero:
        if overflow == Overflow.SATURATE:
            code = np.where(zero & ~nan & ~inf, 0, code)
        else:
            nan_out = nan_out | (zero & ~nan & ~inf)
    if nan_out.any():
        if not fmt.has_nan:
            raise ValueError(f"{fmt} has no NaN encoding, so NaN cannot be encoded")
        nan_code = fmt.nan_code | np.where(neg & fmt.nan_keeps_sign, fmt.sign_mask, 0)
        code = np.where(nan_out, nan_code, code)
    return code.astype(fmt.codes_dtype).reshape(shape)


@functools.lru_cache(maxsize=64)
def _decode_table(fmt: FloatFormat) -> np.ndarray:
    """Every code's value from the scalar definition (built once per format: 65536 Fractions)."""
    table = np.array([decode_code(c, fmt) for c in range(1 << fmt.nbits)], dtype=np.float64)
    table.flags.writeable = False
    return table


def decode_reference(codes: np.ndarray, fmt: FloatFormat) -> np.ndarray:
    """Float64 values of codes (built from the scalar definition, one table per format)."""
    codes = np.asarray(codes)
    if fmt.nbits <= 16:
        return _decode_table(fmt)[codes.astype(np.int64)]
    return np.array([decode_code(int(c), fmt) for c in codes.ravel()], dtype=np.float64).reshape(codes.shape)


def quantize_reference(
    x: np.ndarray,
    fmt: FloatFormat,
    mode: Rounding = Rounding.NEAREST_EVEN,
    overflow: Overflow = Overflow.SATURATE,
    random_bits: np.ndarray | None = None,
    n_random_bits: int = 0,
) -> np.ndarray:
    """``x`` rounded to ``fmt``, as values of ``x``'s dtype. NaN passes through for formats without NaN."""
    x = np.asarray(x)
    xf = x.astype(np.float64)
    nan = np.isnan(xf)
    if not fmt.has_nan:
        xf = np.where(nan, 0.0, xf)
    codes = encode_reference(xf, fmt, mode, overflow, random_bits, n_random_bits)
    vals = decode_reference(codes, fmt)
    vals = np.where(nan, np.nan, vals)
    return vals.astype(x.dtype)
