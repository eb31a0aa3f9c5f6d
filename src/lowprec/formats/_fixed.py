"""The fixed-point format model (HLS ``ap_fixed<W, I>`` / ``ap_ufixed<W, I>``): one frozen dataclass."""

from __future__ import annotations

import dataclasses
import re
from fractions import Fraction

from .._fixed_modes import (
    FixedOverflow,
    FixedRounding,
    parse_fixed_overflow,
    parse_fixed_rounding,
)

__all__ = ["FixedFormat", "FixedOverflow", "FixedRounding"]

_HLS_RE = re.compile(r"^\s*ap_(u?)(fixed|int)\s*<([^<>]*)>\s*$", re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class FixedFormat:
    """A binary fixed-point format: ``bits``-bit two's-complement (or unsigned) integer codes
    scaled by ``2**-frac_bits``, the model of HLS ``ap_fixed<bits, int_bits>``.

    Parameters
    ----------
    bits
        Total width W, 1..64.
    int_bits
        Integer bits I, counting the sign bit for signed formats. As in HLS it may exceed
        ``bits`` (the LSB is then above 1, e.g. ``ap_fixed<4,6>`` steps by 4) or be negative
        (every value is below ``2**(int_bits-1)``). Limited to ``-1010 <= int_bits <= 1023``
        and ``frac_bits <= 1074`` so that every value is a float64 number.
    signed
        Two's complement (``ap_fixed``) or unsigned (``ap_ufixed``).

    Notes
    -----
    The value of code ``c`` is ``c * 2**-frac_bits`` with ``c`` in ``[min_code, max_code]``.
    Codes are the integers themselves (negative for negative values), not bit patterns;
    ``code & ((1 << bits) - 1)`` is the bit pattern.

    Examples
    --------
    >>> f = FixedFormat(8, 3)
    >>> f.frac_bits, f.min, f.max, f.resolution
    (5, Fraction(-4, 1), Fraction(127, 32), Fraction(1, 32))
    >>> f.hls("RND_CONV", "SAT")
    'ap_fixed<8,3,AP_RND_CONV,AP_SAT>'
    """

    bits: int
    int_bits: int
    signed: bool = True

    __lowprec_format__ = "fixed"

    def __post_init__(self) -> None:
        for name in ("bits", "int_bits"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int):
                raise TypeError(f"{name} must be an integer, not {type(v).__name__}")
        if not isinstance(self.signed, bool):
            raise TypeError("signed must be a bool")
        if not 1 <= self.bits <= 64:
            raise ValueError(f"fixed-point widths must be 1..64 bits, got bits={self.bits}")
        if not -1010 <= self.int_bits <= 1023:
            raise ValueError(f"int_bits={self.int_bits} is out of the supported range -1010..1023")
        if self.bits - self.int_bits > 1074:
            raise ValueError(f"frac_bits={self.bits - self.int_bits} > 1074: values below float64's range")

    @classmethod
    def from_frac(cls, bits: int, frac_bits: int, signed: bool = True) -> FixedFormat:
        """The format with ``bits`` total and ``frac_bits`` fractional bits (``int_bits = bits - frac_bits``)."""
        return cls(bits, bits - frac_bits, signed)

    # ---- derived numbers ------------------------------------------------------------------------
    @property
    def frac_bits(self) -> int:
        """Fractional bits F = bits - int_bits (negative when int_bits > bits)."""
        return self.bits - self.int_bits

    @property
    def min_code(self) -> int:
        """The smallest code: ``-2**(bits-1)`` (signed) or 0."""
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def max_code(self) -> int:
        """The largest code: ``2**(bits-1) - 1`` (signed) or ``2**bits - 1``."""
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    @property
    def resolution(self) -> Fraction:
        """The LSB, ``2**-frac_bits``."""
        return Fraction(2) ** -self.frac_bits

    @property
    def min(self) -> Fraction:
        """The smallest value."""
        return self.min_code * self.resolution

    @property
    def max(self) -> Fraction:
        """The largest value."""
        return self.max_code * self.resolution

    @property
    def nbits(self) -> int:
        """Total bits of a code (same as ``bits``; the name the float formats use)."""
        return self.bits

    def value(self, code: int) -> Fraction:
        """Exact value of an integer code."""
        if not self.min_code <= code <= self.max_code:
            raise ValueError(f"code {code} is outside [{self.min_code}, {self.max_code}] of {self}")
        return code * self.resolution

    # ---- HLS type strings -----------------------------------------------------------------------
    def hls(
        self, rounding: str | FixedRounding = "TRN", overflow: str | FixedOverflow = "WRAP", sat_bits: int = 0
    ) -> str:
        """The HLS type, e.g. ``ap_fixed<8,3,AP_RND_CONV,AP_SAT>`` (``ap_ufixed`` when unsigned).

        Trailing defaults (``AP_TRN``, ``AP_WRAP``, 0) are left out, as HLS writes them.

        Raises
        ------
        ValueError
            For a rounding mode HLS lacks (TO_ODD, stochastic, TRN_INF), ``WRAP_SM`` on an unsigned
            format, or ``sat_bits`` outside ``0..bits``.
        """
        q = parse_fixed_rounding(rounding)
        o = parse_fixed_overflow(overflow)
        if not q.is_hls:
            raise ValueError(f"HLS ap_fixed has no rounding mode {q.name}")
        _check_overflow(self, o, sat_bits)
        args = [str(self.bits), str(self.int_bits)]
        if sat_bits:
            args += [f"AP_{q.name}", f"AP_{o.name}", str(sat_bits)]
        elif o != FixedOverflow.WRAP:
            args += [f"AP_{q.name}", f"AP_{o.name}"]
        elif q != FixedRounding.TRN:
            args += [f"AP_{q.name}"]
        return f"ap_{'' if self.signed else 'u'}fixed<{','.join(args)}>"

    @classmethod
    def from_hls(cls, text: str) -> tuple[FixedFormat, FixedRounding, FixedOverflow, int]:
        """Parse an HLS type string.

        Accepts ``ap_fixed<W,I[,Q[,O[,N]]]>``, ``ap_ufixed<...>``, ``ap_int<W>`` and ``ap_uint<W>``
        (integers are ``<W,W>``); modes may be written with or without ``AP_``.

        Returns
        -------
        tuple
            ``(format, rounding, overflow, sat_bits)``: a :class:`FixedFormat`, a
            :class:`FixedRounding`, a :class:`FixedOverflow` and an int (HLS defaults TRN, WRAP, 0
            where not given) — exactly the arguments :func:`lowprec.fixed_quantize` takes.

        Examples
        --------
        >>> FixedFormat.from_hls("ap_ufixed<8, 3, AP_RND, AP_SAT>")
        (FixedFormat(bits=8, int_bits=3, signed=False), <FixedRounding.RND: 2>, <FixedOverflow.SAT: 1>, 0)
        """
        if not isinstance(text, str):
            raise TypeError(f"expected an HLS type string, not {type(text).__name__}")
        m = _HLS_RE.match(text)
        if not m:
            raise ValueError(f"not an HLS ap_[u]fixed / ap_[u]int type: {text!r}")
        signed = m[1] == ""
        parts = [p.strip() for p in m[3].split(",")]
        try:
            if m[2].lower() == "int":
                if len(parts) != 1:
                    raise ValueError
                w = int(parts[0])
                return cls(w, w, signed), FixedRounding.TRN, FixedOverflow.WRAP, 0
            if not 2 <= len(parts) <= 5:
                raise ValueError
            fmt = cls(int(parts[0]), int(parts[1]), signed)
        except ValueError as exc:
            if exc.args:
                raise
            raise ValueError(f"cannot parse the parameters of {text!r}") from None
        q = parse_fixed_rounding(parts[2]) if len(parts) > 2 else FixedRounding.TRN
        o = parse_fixed_overflow(parts[3]) if len(parts) > 3 else FixedOverflow.WRAP
        try:
            n = int(parts[4]) if len(parts) > 4 else 0
        except ValueError:
            raise ValueError(f"saturation bits must be an integer in {text!r}") from None
        if not q.is_hls:
            raise ValueError(f"{parts[2]!r} is not an HLS quantization mode")
        _check_overflow(fmt, o, n)
        return fmt, q, o, n

    def __str__(self) -> str:
        return f"ap_{'' if self.signed else 'u'}fixed<{self.bits},{self.int_bits}>"


def _check_overflow(fmt: FixedFormat, overflow: FixedOverflow, sat_bits: int) -> None:
    """Validate an overflow mode and saturation-bit count for ``fmt``."""
    if isinstance(sat_bits, bool) or not isinstance(sat_bits, int):
        raise TypeError(f"sat_bits must be an integer, not {type(sat_bits).__name__}")
    if not 0 <= sat_bits <= fmt.bits:
        raise ValueError(f"sat_bits must be in 0..{fmt.bits} for {fmt}, got {sat_bits}")
    if sat_bits and overflow not in (FixedOverflow.WRAP, FixedOverflow.WRAP_SM):
        raise ValueError(f"saturation bits only apply to WRAP and WRAP_SM, not {overflow.name}")
    if overflow == FixedOverflow.WRAP_SM and not fmt.signed:
        raise ValueError("WRAP_SM needs a signed format (HLS rejects ap_ufixed with AP_WRAP_SM)")
