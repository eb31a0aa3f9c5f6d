"""Scalar exact rounding to a floating-point format, written for clarity with Fractions.

This is the definition of every rounding mode in lowprec. It rounds with an unbounded exponent
range above (so overflow is judged after rounding, as IEEE 754 and OCP require) and the format's
own range below (subnormals, or the gap to the smallest normal when they are off).
"""

from __future__ import annotations

import math
from fractions import Fraction

from ..formats._float import FloatFormat
from ..rounding import Overflow, Rounding

__all__ = ["decode_code", "round_to_code"]

_TOWARD_ZERO_LIKE = (Rounding.TOWARD_ZERO, Rounding.TO_ODD)


def _floor_log2(a: Fraction) -> int:
    """Exact floor(log2(a)) for a > 0."""
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if Fraction(2) ** e > a:
        e -= 1
    return e


def _mag_code(fmt: FloatFormat, v: Fraction) -> int:
    """Magnitude code of a value on the format's grid, extended without bound above."""
    m = fmt.mbits
    if v == 0:
        return 0
    e = _floor_log2(v)
    if e < fmt.emin_:
        if not fmt.zero:
            raise AssertionError("values below the minimum have no code in a format without zero")
        n = v / Fraction(2) ** (fmt.emin_ - m)
        assert n.denominator == 1
        return int(n)
    t = v / Fraction(2) ** (e - m)
    assert t.denominator == 1
    ef = e - fmt.emin_ + (1 if fmt.zero else 0)
    return (ef << m) + int(t) - (1 << m)


def _neighbours(fmt: FloatFormat, a: Fraction) -> tuple[Fraction, Fraction, Fraction]:
    """For a > 0: the grid values lower <= a < upper around it, and rem = (a - lower) / (upper - lower)."""
    e = _floor_log2(a)
    if e >= fmt.emin_:
        q = Fraction(2) ** (e - fmt.mbits)
    elif fmt.subnormals:
        q = Fraction(2) ** (fmt.emin_ - fmt.mbits)
    else:  # the gap between 0 and the smallest normal is one step
        q = Fraction(2) ** fmt.emin_
    t = math.floor(a / q)
    return t * q, (t + 1) * q, a / q - t


def _round_magnitude(
    fmt: FloatFormat, a: Fraction, negative: bool, mode: Rounding, r: int, n: int
) -> tuple[int, bool]:
    """Round a >= 0; return (magnitude code on the unbounded grid, inexact)."""
    if a == 0:
        return 0, False
    if not fmt.zero and a < fmt.min_normal:
        return 0, True  # no zero: everything below the minimum becomes the minimum
    lower, upper, rem = _neighbours(fmt, a)
    lo = _mag_code(fmt, lower)
    hi = _mag_code(fmt, upper)
    if rem == 0:
        return lo, False
    half = Fraction(1, 2)
    if mode == Rounding.NEAREST_EVEN:
        up = rem > half or (rem == half and lo % 2 == 1)
    elif mode == Rounding.NEAREST_AWAY:
        up = rem >= half
    elif mode == Rounding.NEAREST_ZERO:
        up = rem > half
    elif mode == Rounding.TOWARD_ZERO:
        up = False
    elif mode == Rounding.TOWARD_POSITIVE:
        up = not negative
    elif mode == Rounding.TOWARD_NEGATIVE:
        up = negative
    elif mode == Rounding.TO_ODD:
        up = lo % 2 == 0
    elif mode == Rounding.STOCHASTIC:
        up = math.floor(rem * 2**n) + r >= 2**n
    elif mode == Rounding.STOCHASTIC_EQUAL:
        up = r >= 2 ** (n - 1)
    else:  # pragma: no cover - the enum is closed
        raise ValueError(mode)
    return (hi if up else lo), True


def _overflow_code(fmt: FloatFormat, negative: bool, mode: Rounding, ovf: Overflow) -> int:
    """Magnitude code (or full NaN code, flagged by -1) of a rounded overflow."""
    toward_zero = mode in _TOWARD_ZERO_LIKE or (
        (mode == Rounding.TOWARD_NEGATIVE and not negative) or (mode == Rounding.TOWARD_POSITIVE and negative)
    )
    if toward_zero or ovf == Overflow.SATURATE:
        return fmt.max_mag
    if ovf == Overflow.INFINITY:
        return fmt.inf_mag
    return -1


def _nan(fmt: FloatFormat, negative: bool) -> int:
    if not fmt.has_nan:
        raise ValueError(f"{fmt} has no NaN encoding, so NaN cannot be encoded")
    return fmt.nan_code | (fmt.sign_mask if negative and fmt.nan_keeps_sign else 0)


def round_to_code(
    x: float | int | Fraction,
    fmt: FloatFormat,
    mode: Rounding = Rounding.NEAREST_EVEN,
    overflow: Overflow = Overflow.SATURATE,
    r: int = 0,
    n: int = 0,
) -> int:
    """Round one number to ``fmt`` and return its code.

    Parameters
    ----------
    x
        A float (NaN, +-Inf and -0 included), an int or a Fraction.
    fmt, mode, overflow
        Target format, rounding mode and overflow policy (already checked against the format).
    r, n
        Random integer in ``[0, 2**n)`` and its width, for the stochastic modes.
    """
    if isinstance(x, float) and math.isnan(x):
        return _nan(fmt, math.copysign(1.0, x) < 0)
    negative = (x < 0) or (isinstance(x, float) and x == 0 and math.copysign(1.0, x) < 0)
    if isinstance(x, float) and math.isinf(x):
        a = None
        if overflow == Overflow.SATURATE:
            mag = fmt.max_mag
        else:
            mag = fmt.inf_mag if fmt.has_inf else -1
    else:
        a = abs(Fraction(x))
        mag, _ = _round_magnitude(fmt, a, negative, mode, r, n)
        if mag > fmt.max_mag:
            mag = _overflow_code(fmt, negative, mode, overflow)
    if not fmt.signed and negative:
        if a is not None and mag == 0 and fmt.zero:
            return 0  # a negative value that rounds to zero is +0
        if overflow == Overflow.SATURATE:
            return 0  # clamp into [min, max]
        return _nan(fmt, False)
    if not fmt.zero and a == 0:
        return 0 if overflow == Overflow.SATURATE else _nan(fmt, False)
    if mag == -1:
        return _nan(fmt, negative)
    if negative and fmt.signed:
        if mag == 0 and not fmt.has_negzero:
            return 0
        return mag | fmt.sign_mask
    return mag


def decode_code(code: int, fmt: FloatFormat) -> float:
    """Value of a code as a float64 (exact: every value of every format is a float64)."""
    if not 0 <= code < (1 << fmt.nbits):
        raise ValueError(f"code {code} out of range for {fmt.nbits}-bit format {fmt}")
    negative = bool(code & fmt.sign_mask)
    mag = code & ((1 << fmt.mag_bits) - 1)
    sign = -1.0 if negative else 1.0
    nan = math.copysign(math.nan, sign)  # NaN keeps the code's sign bit, as ml_dtypes does
    if fmt.has_nan:
        if fmt.encoding in ("fnuz", "p3109") and fmt.signed:
            if code == fmt.sign_mask:
                return nan
        elif fmt.encoding == "ieee":
            if mag > fmt.inf_mag:
                return nan
        elif mag == (1 << fmt.mag_bits) - 1:
            return nan
    if fmt.has_inf and mag == fmt.inf_mag:
        return sign * math.inf
    if mag > fmt.max_mag:
        # codes above the largest finite value that are not specials (emax override): not numbers
        return nan
    return sign * float(fmt.mag_value(mag))
