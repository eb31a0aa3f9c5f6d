"""The floating-point format model: one frozen dataclass, the single source of every constant."""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from typing import Literal

import numpy as np

__all__ = ["ENCODINGS", "FloatFormat"]

Encoding = Literal["ieee", "fn", "fnuz", "finite", "p3109"]

#: Special-value encodings and what they mean.
ENCODINGS: dict[str, str] = {
    "ieee": "IEEE 754 style: exponent all ones is +-Inf (mantissa 0) or NaN (mantissa != 0)",
    "fn": "finite + NaN: no Inf, NaN is the all-ones magnitude (sign kept, e.g. 0x7F/0xFF)",
    "fnuz": "finite + NaN, unsigned zero: no Inf, no -0, NaN is the -0 code (0x80)",
    "finite": "no Inf and no NaN (e.g. FP6, FP4)",
    "p3109": "P3109 extended: Inf is the all-ones magnitude (0x7F/0xFF signed, 0xFE unsigned), "
    "NaN is 0x80 (signed) or all ones (unsigned), no -0",
}


def _reserved_top(encoding: str, mbits: int, signed: bool) -> int:
    """How many magnitude codes at the top of the code space are not finite numbers."""
    if encoding == "ieee":
        return 1 << mbits
    if encoding == "fn":
        return 1
    if encoding == "fnuz":
        return 0
    if encoding == "finite":
        return 0
    # p3109: signed reserves the top magnitude for Inf (NaN is -0); unsigned reserves Inf and NaN
    return 1 if signed else 2


@dataclasses.dataclass(frozen=True)
class FloatFormat:
    """A binary floating-point format.

    Parameters
    ----------
    ebits, mbits
        Exponent and (stored) mantissa bits.
    bias
        Exponent bias; default ``2**(ebits-1) - 1``. Mutually exclusive with ``emin``.
    signed
        Whether there is a sign bit (P3109 unsigned formats and E8M0 have none).
    subnormals
        Whether gradual underflow is supported. Without it, values below the smallest normal
        round to 0 or the smallest normal (ties to 0 under the nearest-even rule).
    encoding
        Special values in use: one of ``"ieee"``, ``"fn"``, ``"fnuz"``, ``"finite"``, ``"p3109"``
        (see :data:`ENCODINGS`).
    zero
        ``False`` for formats without a zero (E8M0): exponent field 0 is then a normal binade.
    emin
        Smallest normal exponent; sets ``bias = 1 - emin`` (``-emin`` when ``zero=False``).
    emax
        Largest exponent, to trim the range below what the encoding allows.
    name
        Display name; not part of equality.

    Notes
    -----
    Codes are laid out as ``sign | exponent field | mantissa`` with magnitudes increasing with the
    code. Every value of every format is a float64, so the kernels can work in float64.
    """

    ebits: int
    mbits: int
    bias: int | None = None
    signed: bool = True
    subnormals: bool = True
    encoding: Encoding = "ieee"
    zero: bool = True
    emin: int | None = None
    emax: int | None = None
    name: str | None = dataclasses.field(default=None, compare=False)

    def __post_init__(self) -> None:
        e, m = self.ebits, self.mbits
        if not isinstance(e, int) or not isinstance(m, int):
            raise TypeError("ebits and mbits must be integers")
        if e < 1:
            raise ValueError(f"a float format needs at least 1 exponent bit, got ebits={e}")
        if m < 0:
            raise ValueError(f"mbits must be >= 0, got {m}")
        if e + m + int(self.signed) > 64:
            raise ValueError(
                f"formats wider than 64 bits are not supported ({e + m + int(self.signed)} bits)"
            )
        if self.encoding not in ENCODINGS:
            raise ValueError(f"unknown encoding {self.encoding!r}; choose one of {', '.join(ENCODINGS)}")
        if m == 0 and self.subnormals:
            raise ValueError("a format with 0 mantissa bits has no subnormals: pass subnormals=False")
        if self.encoding == "ieee" and (m < 1 or e < 2):
            raise ValueError("IEEE-style encodings need ebits >= 2 and mbits >= 1 (Inf and NaN codes)")
        if self.encoding == "fnuz" and not self.signed:
            raise ValueError("'fnuz' needs a sign bit (its NaN is the -0 code); use 'fn' for unsigned")
        if not self.zero and (self.subnormals or self.signed):
            raise ValueError("a format without zero (like E8M0) must be unsigned and without subnormals")
        if self.bias is not None and self.emin is not None:
            raise ValueError("give bias or emin, not both")
        if self.emin is not None:
            bias = (1 if self.zero else 0) - self.emin
        elif self.bias is not None:
            bias = self.bias
        else:
            bias = (1 << (e - 1)) - 1
        top = _reserved_top(self.encoding, m, self.signed)
        max_mag = (1 << (e + m)) - 1 - top
        if self.emax is not None:
            cap = ((self.emax + bias) << m) | ((1 << m) - 1)
            if cap < 0:
                raise ValueError(f"emax={self.emax} leaves no finite value")
            max_mag = min(max_mag, cap)
        if max_mag < 1:
            raise ValueError("this format has no positive finite value")
        set_ = object.__setattr__
        set_(self, "_bias", bias)
        set_(self, "_max_mag", max_mag)
        # every value must be a float64 (the kernels compute in float64)
        if self.emax_ > 1023 or self.emin_ - m < -1074 or m > 52:
            raise ValueError(
                f"format e{e}m{m} (bias {bias}) has values that are not float64 numbers; "
                "lowprec supports formats whose values all fit in float64"
            )

    # ---- derived integers (the kernels read these) -------------------------------------------
    @property
    def exp_bias(self) -> int:
        """The effective exponent bias."""
        return self._bias  # type: ignore[attr-defined]

    @property
    def nbits(self) -> int:
        """Total bits of a code."""
        return self.ebits + self.mbits + int(self.signed)

    @property
    def mag_bits(self) -> int:
        """Bits of the magnitude field (exponent + mantissa)."""
        return self.ebits + self.mbits

    @property
    def codes_dtype(self) -> np.dtype:
        """The smallest unsigned integer dtype that holds a code (uint8, uint16, uint32, uint64)."""
        for dt in (np.uint8, np.uint16, np.uint32):
            if self.nbits <= np.dtype(dt).itemsize * 8:
                return np.dtype(dt)
        return np.dtype(np.uint64)

    @property
    def sign_mask(self) -> int:
        """The sign bit of a code (0 for unsigned formats)."""
        return (1 << self.mag_bits) if self.signed else 0

    @property
    def max_mag(self) -> int:
        """Magnitude code of the largest finite value."""
        return self._max_mag  # type: ignore[attr-defined]

    @property
    def emin_(self) -> int:
        """Exponent of the smallest normal binade."""
        return (1 if self.zero else 0) - self.exp_bias

    @property
    def emax_(self) -> int:
        """Exponent of the largest finite value."""
        return (self.max_mag >> self.mbits) - self.exp_bias

    @property
    def has_inf(self) -> bool:
        """Whether the format encodes infinities."""
        return self.encoding in ("ieee", "p3109")

    @property
    def has_nan(self) -> bool:
        """Whether the format encodes NaN."""
        return self.encoding != "finite"

    @property
    def has_negzero(self) -> bool:
        """Whether -0 is distinct from +0."""
        return self.signed and self.zero and self.encoding in ("ieee", "fn", "finite")

    @property
    def inf_mag(self) -> int:
        """Magnitude code of +Inf, or -1."""
        if self.encoding == "ieee":
            return ((1 << self.ebits) - 1) << self.mbits
        if self.encoding == "p3109":
            return (1 << self.mag_bits) - (1 if self.signed else 2)
        return -1

    @property
    def nan_code(self) -> int:
        """Canonical positive NaN code (ml_dtypes' choice), or -1 for formats without NaN."""
        if self.encoding == "ieee":
            return (((1 << self.ebits) - 1) << self.mbits) | (1 << (self.mbits - 1))
        if self.encoding == "fn":
            return (1 << self.mag_bits) - 1
        if self.encoding in ("fnuz", "p3109"):
            return self.sign_mask if self.signed else (1 << self.mag_bits) - 1
        return -1

    @property
    def nan_keeps_sign(self) -> bool:
        """Whether a negative NaN gets the sign bit set (IEEE and fn signed formats)."""
        return self.signed and self.encoding in ("ieee", "fn")

    # ---- derived values ------------------------------------------------------------------------
    def mag_value(self, mag: int) -> Fraction:
        """Exact value of a finite magnitude code."""
        if not 0 <= mag <= self.max_mag:
            raise ValueError(f"magnitude code {mag} is not a finite value of {self}")
        ef, mf = mag >> self.mbits, mag & ((1 << self.mbits) - 1)
        if self.zero and ef == 0:
            sig, exp = mf, self.emin_ - self.mbits
        else:
            sig, exp = (1 << self.mbits) + mf, ef - self.exp_bias - self.mbits
        return Fraction(sig << exp) if exp >= 0 else Fraction(sig, 1 << -exp)  # sig * 2**exp

    @property
    def max_finite(self) -> Fraction:
        """The largest finite value."""
        return self.mag_value(self.max_mag)

    @property
    def min_normal(self) -> Fraction:
        """The smallest positive normal value."""
        return Fraction(2) ** self.emin_

    @property
    def min_subnormal(self) -> Fraction:
        """The smallest positive value (the smallest normal when subnormals are off)."""
        if self.subnormals:
            return Fraction(2) ** (self.emin_ - self.mbits)
        return self.min_normal

    @property
    def eps(self) -> Fraction:
        """Distance from 1 to the next larger value."""
        return Fraction(2) ** -self.mbits

    def replace(self, **changes: object) -> FloatFormat:
        """A copy with some fields changed (the name is dropped unless given)."""
        changes.setdefault("name", None)
        if "subnormals" in changes and changes["subnormals"] is not None and self.name:
            changes["name"] = None
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @property
    def short(self) -> str:
        """A compact description, e.g. ``e4m3 bias=7 fn``."""
        parts = [f"e{self.ebits}m{self.mbits}", f"bias={self.exp_bias}", self.encoding]
        if not self.signed:
            parts.append("unsigned")
        if not self.subnormals:
            parts.append("no-subnormals")
        if not self.zero:
            parts.append("no-zero")
        if self.emax is not None:
            parts.append(f"emax={self.emax}")
        return " ".join(parts)

    def __str__(self) -> str:
        return self.name or f"FloatFormat({self.short})"
