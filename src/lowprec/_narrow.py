"""Float64 values rounded once to a narrower float dtype (nearest, ties to even).

NumPy rounds float64 to float32 and float16 once; ml_dtypes casts float64 to bfloat16 through
float32, which rounds twice (``1 + 2**-8 + 2**-40`` becomes 1 instead of ``1 + 2**-7``).
:func:`narrow` rounds to float32 with round-to-odd first where the target is narrower than float32:
float32 then keeps more than two bits beyond the target's significand (and its whole exponent
range), so the second rounding is the only one.
"""

from __future__ import annotations

import numpy as np

__all__ = ["narrow", "odd_float32"]


def odd_float32(v: np.ndarray) -> np.ndarray:
    """float64 ``v`` rounded to float32 toward zero, with the last bit set where that was inexact.

    Values beyond float32's range give its largest finite value (odd), NaN and infinities stay.
    """
    v = np.asarray(v, dtype=np.float64)
    with np.errstate(over="ignore"):
        y = v.astype(np.float32)
    bits = y.view(np.int32).copy()
    y64 = y.astype(np.float64)
    inexact = (y64 != v) & ~np.isnan(v)
    bits -= (inexact & (np.abs(y64) > np.abs(v))).astype(np.int32)  # rounded away from zero: step back
    bits |= inexact.astype(np.int32)
    return bits.view(np.float32)


def narrow(v: np.ndarray, dtype: object) -> np.ndarray:
    """float64 ``v`` rounded once (nearest, ties to even) to ``dtype`` (a NumPy or ml_dtypes float)."""
    dt = np.dtype(dtype)
    v = np.asarray(v)
    if v.dtype != np.float64 or dt in (np.float64, np.float32, np.float16):
        with np.errstate(over="ignore"):
            return v.astype(dt)
    with np.errstate(over="ignore"):
        return odd_float32(v).astype(dt)
