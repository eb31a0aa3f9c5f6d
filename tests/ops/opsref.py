"""Shared helpers of the lowprec.ops tests: the exact oracle on Fractions (imported as ``opsref``)."""

from __future__ import annotations

import math
from fractions import Fraction

from lowprec.formats import get_format
from lowprec.reference import decode_code, round_to_code
from lowprec.rounding import Rounding, resolve_overflow


def ref_round(x: Fraction | float, fmt: object, mode: Rounding = Rounding.NEAREST_EVEN, ovf=None) -> float:
    """Exact oracle: round the exact value ``x`` once to ``fmt`` and return the float64 value."""
    f = get_format(fmt)
    o = resolve_overflow(f, ovf)
    if isinstance(x, float) and math.isnan(x):
        return math.nan
    return decode_code(round_to_code(x, f, mode, o), f)


def same(a: float, b: float) -> bool:
    """Equal as values, NaN equals NaN, and zeros must agree in sign."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
