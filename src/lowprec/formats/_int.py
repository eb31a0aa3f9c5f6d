"""The integer format model (``int8``, ``uint4``...): a frozen dataclass used with scale-based quantization."""

from __future__ import annotations

import dataclasses

from ._fixed import FixedFormat

__all__ = ["IntFormat"]


@dataclasses.dataclass(frozen=True)
class IntFormat:
    """A ``bits``-bit two's-complement (or unsigned) integer format, 1..64 bits.

    Used by :mod:`lowprec.intquant` (``q = clip(round(x / scale) + zero_point, qmin, qmax)``). As a
    plain format (``lowprec.quantize(x, IntFormat(8))``) it behaves as the fixed-point format
    ``ap_fixed<bits, bits>`` (integer steps, see :meth:`as_fixed`).

    Examples
    --------
    >>> IntFormat(8).qmin, IntFormat(8).qmax, IntFormat(4, signed=False).qmax
    (-128, 127, 15)
    """

    bits: int
    signed: bool = True

    __lowprec_format__ = "int"

    def __post_init__(self) -> None:
        if isinstance(self.bits, bool) or not isinstance(self.bits, int):
            raise TypeError(f"bits must be an integer, not {type(self.bits).__name__}")
        if not isinstance(self.signed, bool):
            raise TypeError("signed must be a bool")
        if not 1 <= self.bits <= 64:
            raise ValueError(f"integer widths must be 1..64 bits, got bits={self.bits}")

    @property
    def qmin(self) -> int:
        """The smallest integer."""
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def qmax(self) -> int:
        """The largest integer."""
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    @property
    def nbits(self) -> int:
        """Total bits (same as ``bits``)."""
        return self.bits

    def as_fixed(self) -> FixedFormat:
        """The equivalent fixed-point format ``ap_[u]fixed<bits, bits>`` (``ap_[u]int<bits>``)."""
        return FixedFormat(self.bits, self.bits, self.signed)

    def __str__(self) -> str:
        return f"{'' if self.signed else 'u'}int{self.bits}"
