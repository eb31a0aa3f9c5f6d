"""Exact fixed-point reference: HLS ``ap_fixed`` conversion with Python ints and Fractions.

The definition (``fixed_round_code``), in words. Let ``v = x * 2**F`` (F = frac_bits), ``f = floor(v)``
and ``r = v - f``. Rounding picks ``R = f`` or ``f + 1`` (see :class:`FixedRounding`). Then, with the
code range ``[cmin, cmax]`` and ``s`` the sign of ``x``:

- ``R`` in range: ``R``; except ``SAT_SYM`` on a signed format maps ``cmin`` to ``-cmax``.
- otherwise, with ``V`` = the low ``W`` bits of ``R`` (two's complement):
  ``WRAP``: ``V``; with N saturation bits, signed: MSB := s and the next N-1 bits := not s;
  unsigned: the top N bits := 1. ``SAT`` / ``SAT_SYM``: cmax, or cmin (``-cmax`` for SAT_SYM,
  signed) for negative ``x``. ``SAT_ZERO``: 0. ``WRAP_SM`` (signed), N = 0: with ``lD`` bit W of
  ``f``, if ``lD`` differs from the MSB of V, invert V and set its MSB to ``lD``; N = 1: invert V
  if its MSB differs from s; N > 1: invert V if bit W-N of V equals s, then bits W-N..W-2 := not s;
  for N >= 1 finally MSB := s.

This follows ``overflow_adjust`` / ``quantization_adjust`` of the open Xilinx headers; an input
from double converts exactly before rounding. NaN cannot be converted (ValueError); an infinity
overflows (saturating modes) or raises ValueError (wrapping modes).

``fixed_encode_reference`` is the exact vectorised twin with NumPy int64/uint64 arithmetic.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from .._fixed_modes import FixedOverflow, FixedRounding, parse_fixed_overflow, parse_fixed_rounding
from ..formats._fixed import FixedFormat, _check_overflow

__all__ = [
    "fixed_decode_reference",
    "fixed_encode_reference",
    "fixed_overflow_code",
    "fixed_quantize_reference",
    "fixed_round_code",
]

_Q = FixedRounding
_O = FixedOverflow
_U64 = (1 << 64) - 1


def _round_up(q: FixedRounding, f: int, rem: Fraction, neg: bool, r: int, n: int) -> bool:
    """Whether ``f + 1`` is chosen (``rem`` in [0, 1) is the distance above the floor ``f``)."""
    inexact = rem != 0
    half = Fraction(1, 2)
    if q == _Q.TRN:
        return False
    if q == _Q.TRN_ZERO:
        return inexact and neg
    if q == _Q.TRN_INF:
        return inexact
    if q == _Q.RND:
        return rem >= half
    if q == _Q.RND_ZERO:
        return rem > half or (rem == half and neg)
    if q == _Q.RND_MIN_INF:
        return rem > half
    if q == _Q.RND_INF:
        return rem > half or (rem == half and not neg)
    if q == _Q.RND_CONV:
        return rem > half or (rem == half and f % 2 == 1)
    if q == _Q.TO_ODD:
        return inexact and f % 2 == 0
    if not 1 <= n <= 62 or not 0 <= r < (1 << n):
        raise ValueError(f"stochastic rounding needs 1 <= n <= 62 and 0 <= r < 2**n (got r={r}, n={n})")
    if q == _Q.STOCHASTIC:
        return math.floor(rem * (1 << n)) + r >= (1 << n)
    return inexact and r >= (1 << (n - 1))  # STOCHASTIC_EQUAL


def fixed_overflow_code(
    rounded: int, floor_: int, neg: bool, fmt: FixedFormat, overflow: FixedOverflow, sat_bits: int = 0
) -> int:
    """Apply the overflow mode to the exact rounded integer ``rounded`` (``floor_``: the floor
    candidate, ``neg``: the source sign); returns the code (an integer in the format's range)."""
    w, n = fmt.bits, sat_bits
    mask = (1 << w) - 1
    msb = 1 << (w - 1)
    if fmt.min_code <= rounded <= fmt.max_code:
        if overflow == _O.SAT_SYM and fmt.signed and rounded == fmt.min_code:
            return _to_code(msb | 1, fmt)  # -max (for 1-bit formats HLS's pattern is the minimum)
        return rounded
    v = rounded & mask
    if overflow == _O.WRAP:
        if n:
            if fmt.signed:
                if n > 1:
                    mid = ((1 << (n - 1)) - 1) << (w - n)  # bits W-N..W-2
                    v = (v & ~mid) if neg else (v | mid)
                v = (v | msb) if neg else (v & ~msb)
            else:
                top = ((1 << n) - 1) << (w - n)
                v |= top
    elif overflow in (_O.SAT, _O.SAT_SYM):
        if fmt.signed:
            v = (msb | (1 if overflow == _O.SAT_SYM else 0)) if neg else msb - 1
        else:
            v = 0 if neg else mask
    elif overflow == _O.SAT_ZERO:
        v = 0
    else:  # WRAP_SM (signed)
        ro = (v >> (w - 1)) & 1
        if n == 0:
            ld = (floor_ >> w) & 1
            if ld != ro:
                v = ~v & mask
                v = (v | msb) if ld else (v & ~msb)
        else:
            s = int(neg)
            if n == 1 and s != ro:
                v = ~v & mask
            elif n > 1:
                if ((v >> (w - n)) & 1) == s:
                    v = ~v & mask
                mid = ((1 << (n - 1)) - 1) << (w - n)
                v = (v & ~mid) if neg else (v | mid)
            v = (v | msb) if neg else (v & ~msb)
    return _to_code(v & mask, fmt)


def _to_code(pattern: int, fmt: FixedFormat) -> int:
    if fmt.signed and pattern >> (fmt.bits - 1):
        return pattern - (1 << fmt.bits)
    return pattern


def fixed_round_code(
    x: float | int | Fraction,
    fmt: FixedFormat,
    rounding: str | FixedRounding = "TRN",
    overflow: str | FixedOverflow = "WRAP",
    sat_bits: int = 0,
    r: int = 0,
    n: int = 0,
) -> int:
    """The code of ``x`` in ``fmt`` (the integer ``c`` with value ``c * 2**-frac_bits``).

    Parameters
    ----------
    x
        A float (converted exactly), int or Fraction.
    fmt
        The target format.
    rounding, overflow, sat_bits
        HLS quantization mode, overflow mode and saturation bits N.
    r, n
        For stochastic modes: the random integer ``r`` in ``[0, 2**n)`` and ``n``.

    Returns
    -------
    int
        The code, in ``[fmt.min_code, fmt.max_code]`` (``code & (2**bits - 1)`` is the bit pattern).
    """
    q = parse_fixed_rounding(rounding)
    o = parse_fixed_overflow(overflow)
    _check_overflow(fmt, o, sat_bits)
    if isinstance(x, float) and math.isnan(x):
        raise ValueError("NaN cannot be converted to fixed point")
    if isinstance(x, float) and math.isinf(x):
        if o in (_O.WRAP, _O.WRAP_SM):
            raise ValueError(f"an infinity cannot be wrapped ({o.name}); use a saturating overflow mode")
        big = (fmt.max_code + 2) if x > 0 else (fmt.min_code - 2)
        return fixed_overflow_code(big, big, x < 0, fmt, o, sat_bits)
    v = Fraction(x) * Fraction(2) ** fmt.frac_bits
    f = math.floor(v)
    up = _round_up(q, f, v - f, v < 0, r, n)
    return fixed_overflow_code(f + int(up), f, v < 0, fmt, o, sat_bits)


# ---- the vectorised twin ------------------------------------------------------------------------------


def _float_input(x: object) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype.kind != "f":
        raise TypeError(f"expected a floating-point array, got dtype {arr.dtype}")
    return arr.astype(np.float64)  # exact widening (float16/32), a copy: the input is never modified


def fixed_encode_reference(
    x: np.ndarray,
    fmt: FixedFormat,
    rounding: str | FixedRounding = "TRN",
    overflow: str | FixedOverflow = "WRAP",
    sat_bits: int = 0,
    random_bits: np.ndarray | None = None,
    n_random_bits: int = 0,
) -> np.ndarray:
    """Codes of a float array (int64 for signed formats, uint64 for unsigned), exactly.

    Same definition as :func:`fixed_round_code`, vectorised. Why it is exact: with
    ``v = x * 2**F``, values with ``|v| >= 2**62`` are integers (float64 has 53 bits), handled with
    integer shifts; smaller ones are scaled exactly by ``ldexp`` (far-below-LSB values use a stand-in
    with the same decisions) and split into an int64 floor and an exact float remainder.
    """
    q = parse_fixed_rounding(rounding)
    o = parse_fixed_overflow(overflow)
    _check_overflow(fmt, o, sat_bits)
    xs = _float_input(x)
    shape = xs.shape
    xs = xs.ravel()
    if np.isnan(xs).any():
        raise ValueError("NaN cannot be converted to fixed point")
    inf = np.isinf(xs)
    if inf.any() and o in (_O.WRAP, _O.WRAP_SM):
        raise ValueError(f"an infinity cannot be wrapped ({o.name}); use a saturating overflow mode")
    w, fb = fmt.bits, fmt.frac_bits
    neg = xs < 0
    a = np.where(inf, 0.0, np.abs(xs))
    zero = a == 0
    mant, ex = np.frexp(a)
    ev = ex.astype(np.int64) + fb  # |v| in [2**(ev-1), 2**ev)
    large = ~zero & (ev > 62)
    tiny = ~zero & (ev < -60)
    smallok = ~large & ~tiny
    # -- small lane: |v| < 2**62 --------------------------------------------------------------------
    av = np.where(tiny, 2.0**-61, np.ldexp(np.where(smallok, a, 0.0), fb))
    ta = np.floor(av)
    ra = av - ta  # exact
    ti = ta.astype(np.int64)
    inexact = ra > 0
    f = np.where(neg, -ti - inexact, ti)
    # comparison of the distance above the floor with 1/2, and floor(dist * 2**n) for SR
    gt = np.where(neg, inexact & (ra < 0.5), ra > 0.5)
    tie = ra == 0.5
    if q == _Q.TRN:
        up = np.zeros_like(neg)
    elif q == _Q.TRN_ZERO:
        up = inexact & neg
    elif q == _Q.TRN_INF:
        up = inexact
    elif q == _Q.RND:
        up = gt | tie
    elif q == _Q.RND_ZERO:
        up = gt | (tie & neg)
    elif q == _Q.RND_MIN_INF:
        up = gt
    elif q == _Q.RND_INF:
        up = gt | (tie & ~neg)
    elif q == _Q.RND_CONV:
        up = gt | (tie & ((f & 1) == 1))
    elif q == _Q.TO_ODD:
        up = inexact & ((f & 1) == 0)
    else:
        nb = n_random_bits
        if random_bits is None or not 1 <= nb <= 62:
            raise ValueError("stochastic rounding needs random_bits and 1 <= n_random_bits <= 62")
        rnd = np.asarray(random_bits).astype(np.int64).ravel()
        if q == _Q.STOCHASTIC:
            scaled = np.ldexp(ra, nb)
            t = np.where(neg, np.where(inexact, (1 << nb) - np.ceil(scaled).astype(np.int64), 0),
                         np.floor(scaled).astype(np.int64))  # fmt: skip
            up = t + rnd >= (1 << nb)
        else:
            up = inexact & (rnd >= (1 << (nb - 1)))
    rr = f + up
    lo_small = rr.view(np.uint64)
    cmin_c, cmax_c = max(fmt.min_code, -(1 << 63)), min(fmt.max_code, (1 << 63) - 1)
    in_small = (rr >= cmin_c) & (rr <= cmax_c)
    ld_small = ((f >> w) & 1).astype(bool) if w <= 62 else f < 0
    # -- large lane: |v| >= 2**62, an exact integer m * 2**s with s >= 10 ---------------------------
    m = np.ldexp(np.where(large, mant, 0.0), 53).astype(np.int64).view(np.uint64)
    s = np.where(large, ev - 53, 10)
    s_lo = np.minimum(s, 63).astype(np.uint64)
    lo_mag = np.where(s < 64, m << s_lo, np.uint64(0))
    one = np.uint64(1)
    lo_large = np.where(neg, ~lo_mag + one, lo_mag)
    s_hi = np.clip(s - 64, 0, 63).astype(np.uint64)
    hi_mag = np.where(s < 64, m >> (np.uint64(64) - s_lo), np.where(s < 128, m << s_hi, np.uint64(0)))
    hi_large = np.where(neg, ~hi_mag + (lo_mag == 0).astype(np.uint64), hi_mag)
    if w < 64:
        ld_large = ((lo_large >> np.uint64(w)) & one).astype(bool)
    else:
        ld_large = (hi_large & one).astype(bool)
    exact_pow = mant == 0.5
    if fmt.signed:
        in_large = (ev <= w - 1) | (neg & exact_pow & (ev - 1 == w - 1))
    else:
        in_large = ~neg & (ev <= w)
    # -- merge --------------------------------------------------------------------------------------
    lo = np.where(large, lo_large, lo_small)
    in_range = np.where(large, in_large, in_small) & ~inf
    ld = np.where(large, ld_large, ld_small)
    if fmt.signed:
        is_min = np.where(large, neg & exact_pow & (ev - 1 == w - 1), rr == fmt.min_code) & ~inf
    else:
        is_min = np.zeros_like(neg)
    pattern = _overflow_vec(lo, in_range, neg, ld, is_min, fmt, o, sat_bits)
    return _pattern_to_codes(pattern, fmt).reshape(shape)


def _overflow_vec(lo, in_range, neg, ld, is_min, fmt: FixedFormat, o: FixedOverflow, nsat: int) -> np.ndarray:
    """Vectorised overflow stage on W-bit patterns (uint64)."""
    w = fmt.bits
    mask = np.uint64(_U64 >> (64 - w))
    msb = np.uint64(1 << (w - 1))
    v = lo & mask
    out = v.copy()
    if o == _O.SAT_SYM and fmt.signed:
        out = np.where(in_range & is_min, msb | np.uint64(1), out)
    oor = ~in_range
    mid = np.uint64(((1 << (nsat - 1)) - 1) << (w - nsat)) if nsat > 1 else np.uint64(0)
    if o == _O.WRAP:
        if nsat:
            if fmt.signed:
                adj = np.where(neg, v & ~mid, v | mid)
                adj = np.where(neg, adj | msb, adj & ~msb)
            else:
                adj = v | np.uint64((((1 << nsat) - 1) << (w - nsat)) & _U64)
            out = np.where(oor, adj, out)
    elif o in (_O.SAT, _O.SAT_SYM):
        if fmt.signed:
            lo_sat = msb | np.uint64(1 if o == _O.SAT_SYM else 0)
            sat = np.where(neg, lo_sat, msb - np.uint64(1))
        else:
            sat = np.where(neg, np.uint64(0), mask)
        out = np.where(oor, sat, out)
    elif o == _O.SAT_ZERO:
        out = np.where(oor, np.uint64(0), out)
    else:  # WRAP_SM
        ro = ((v >> np.uint64(w - 1)) & np.uint64(1)).astype(bool)
        inv = ~v & mask
        if nsat == 0:
            adj = np.where(ld != ro, np.where(ld, inv | msb, inv & ~msb), v)
        else:
            if nsat == 1:
                adj = np.where(neg != ro, inv, v)
            else:
                lno = ((v >> np.uint64(w - nsat)) & np.uint64(1)).astype(bool)
                adj = np.where(lno == neg, inv, v)
                adj = np.where(neg, adj & ~mid, adj | mid)
            adj = np.where(neg, adj | msb, adj & ~msb)
        out = np.where(oor, adj, out)
    return out & mask


def _pattern_to_codes(pattern: np.ndarray, fmt: FixedFormat) -> np.ndarray:
    if not fmt.signed:
        return pattern.astype(np.uint64)
    w = fmt.bits
    if w == 64:
        return pattern.view(np.int64)
    ext = np.uint64(_U64 ^ (_U64 >> (64 - w)))
    neg = (pattern >> np.uint64(w - 1)) & np.uint64(1)
    return np.where(neg == 1, pattern | ext, pattern).view(np.int64)


def fixed_decode_reference(codes: np.ndarray, fmt: FixedFormat) -> np.ndarray:
    """Float64 values of codes (each the float64 nearest to the exact value, ties to even)."""
    c = np.asarray(codes)
    res = fmt.resolution
    uniq, where = np.unique(c.ravel(), return_inverse=True)  # each distinct code once
    vals = np.array([float(Fraction(int(k)) * res) for k in uniq], dtype=np.float64)
    return vals[where.ravel()].reshape(c.shape)


def fixed_quantize_reference(
    x: np.ndarray,
    fmt: FixedFormat,
    rounding: str | FixedRounding = "TRN",
    overflow: str | FixedOverflow = "WRAP",
    sat_bits: int = 0,
    random_bits: np.ndarray | None = None,
    n_random_bits: int = 0,
) -> np.ndarray:
    """Values of ``x`` rounded to ``fmt``, in ``x``'s dtype."""
    arr = np.asarray(x)
    codes = fixed_encode_reference(arr, fmt, rounding, overflow, sat_bits, random_bits, n_random_bits)
    return fixed_decode_reference(codes, fmt).astype(arr.dtype)
