"""Machine limits of a format, in the spirit of ``numpy.finfo``."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

from ._float import FloatFormat

__all__ = ["FInfo", "finfo"]


@dataclasses.dataclass(frozen=True)
class FInfo:
    """Limits of a floating-point format (exact values as :class:`~fractions.Fraction`)."""

    format: FloatFormat
    bits: int
    max: float
    min_normal: float
    min_subnormal: float
    eps: float
    emin: int
    emax: int
    max_exact: Fraction
    min_normal_exact: Fraction
    min_subnormal_exact: Fraction

    def __str__(self) -> str:
        f = self.format
        specials = []
        if f.has_inf:
            specials.append("inf")
        if f.has_nan:
            specials.append("nan")
        if f.has_negzero:
            specials.append("-0")
        lines = [
            f"Format {f} ({f.short}), {self.bits} bits",
            f"  max finite     {self.max!r}",
            f"  min normal     {self.min_normal!r}  (2**{self.emin})",
            f"  min subnormal  {self.min_subnormal!r}",
            f"  eps            {self.eps!r}",
            f"  emin, emax     {self.emin}, {self.emax}",
            f"  specials       {', '.join(specials) or 'none'}",
        ]
        return "\n".join(lines)


def finfo(fmt: object) -> FInfo:
    """Limits of a format given by name or object.

    Examples
    --------
    >>> import lowprec
    >>> lowprec.finfo("float8_e4m3fn").max
    448.0
    """
    from ._registry import get_format

    f = get_format(fmt)
    if not isinstance(f, FloatFormat):
        raise TypeError(f"finfo needs a floating-point format, got {f}")
    return FInfo(
        format=f,
        bits=f.nbits,
        max=float(f.max_finite),
        min_normal=float(f.min_normal),
        min_subnormal=float(f.min_subnormal),
        eps=float(f.eps),
        emin=f.emin_,
        emax=f.emax_,
        max_exact=f.max_finite,
        min_normal_exact=f.min_normal,
        min_subnormal_exact=f.min_subnormal,
    )
