"""Rounding-mode and overflow-policy enums, with name parsing that gives helpful errors.

The same names are used everywhere: Python (``Rounding.NEAREST_EVEN``), strings
(``"nearest_even"``) and C++ (``kNearestEven``); the integer values are part of the
contract with the compiled kernels and must never be renumbered.
"""

from __future__ import annotations

import difflib
import enum

__all__ = [
    "Overflow",
    "Rounding",
    "default_overflow",
    "parse_overflow",
    "parse_rounding",
    "resolve_overflow",
]


class Rounding(enum.IntEnum):
    """Rounding modes.

    Attributes
    ----------
    NEAREST_EVEN
        Round to nearest, ties to the candidate whose code is even (IEEE 754 default).
    NEAREST_AWAY
        Round to nearest, ties away from zero.
    NEAREST_ZERO
        Round to nearest, ties toward zero.
    TOWARD_ZERO, TOWARD_POSITIVE, TOWARD_NEGATIVE
        Directed rounding (truncation, ceiling, floor).
    TO_ODD
        Round to odd: inexact results take the neighbour whose code is odd.
    STOCHASTIC
        P3109 StochasticA: round away from zero iff ``floor(delta * 2**n) + r >= 2**n``.
    STOCHASTIC_EQUAL
        CPFloat's equal-probability mode: an inexact value goes either way with probability 1/2
        (away iff the top of the ``n`` random bits is set).
    """

    NEAREST_EVEN = 0
    NEAREST_AWAY = 1
    NEAREST_ZERO = 2
    TOWARD_ZERO = 3
    TOWARD_POSITIVE = 4
    TOWARD_NEGATIVE = 5
    TO_ODD = 6
    STOCHASTIC = 7
    STOCHASTIC_EQUAL = 8

    @property
    def is_stochastic(self) -> bool:
        """Whether the mode consumes random bits."""
        return self in (Rounding.STOCHASTIC, Rounding.STOCHASTIC_EQUAL)


class Overflow(enum.IntEnum):
    """What a finite value beyond the largest finite number becomes.

    Attributes
    ----------
    SATURATE
        The largest finite value of the right sign (infinite inputs too).
    INFINITY
        Infinity of the right sign (the format must have infinities).
    NAN
        NaN (the format must have a NaN).
    """

    SATURATE = 0
    INFINITY = 1
    NAN = 2


_ROUNDING_ALIASES = {
    "rne": Rounding.NEAREST_EVEN,
    "nearest": Rounding.NEAREST_EVEN,
    "rna": Rounding.NEAREST_AWAY,
    "rtz": Rounding.TOWARD_ZERO,
    "truncate": Rounding.TOWARD_ZERO,
    "rtp": Rounding.TOWARD_POSITIVE,
    "up": Rounding.TOWARD_POSITIVE,
    "rtn": Rounding.TOWARD_NEGATIVE,
    "down": Rounding.TOWARD_NEGATIVE,
    "sr": Rounding.STOCHASTIC,
}


def _parse(value: object, enum_cls: type[enum.IntEnum], aliases: dict, what: str) -> enum.IntEnum:
    if isinstance(value, enum_cls):
        return value
    if isinstance(value, str):
        key = value.strip().lower()
        if key.upper() in enum_cls.__members__:
            return enum_cls[key.upper()]
        if key in aliases:
            return aliases[key]
        names = [m.lower() for m in enum_cls.__members__]
        close = difflib.get_close_matches(key, names + list(aliases), n=3)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"unknown {what} {value!r}{hint} Known {what}s: {', '.join(names)}")
    raise TypeError(f"{what} must be a string or {enum_cls.__name__}, not {type(value).__name__}")


def parse_rounding(value: str | Rounding) -> Rounding:
    """Normalise a rounding-mode name (or enum) to :class:`Rounding`.

    Raises
    ------
    ValueError
        For an unknown name; the message lists every mode and close matches.
    """
    return _parse(value, Rounding, _ROUNDING_ALIASES, "rounding mode")  # type: ignore[return-value]


def parse_overflow(value: str | Overflow) -> Overflow:
    """Normalise an overflow-policy name (or enum) to :class:`Overflow`."""
    aliases = {"sat": Overflow.SATURATE, "inf": Overflow.INFINITY, "satfinite": Overflow.SATURATE}
    return _parse(value, Overflow, aliases, "overflow policy")  # type: ignore[return-value]


def default_overflow(fmt: object) -> Overflow:
    """The non-saturating default of a format's own spec.

    IEEE-style and P3109 extended formats overflow to infinity, formats with NaN but no
    infinity (``fn``, ``fnuz``) to NaN, and formats with neither (FP6, FP4) saturate.
    """
    if getattr(fmt, "has_inf", False):
        return Overflow.INFINITY
    if getattr(fmt, "has_nan", False):
        return Overflow.NAN
    return Overflow.SATURATE


def resolve_overflow(fmt: object, overflow: str | Overflow | None) -> Overflow:
    """Parse ``overflow`` (``None`` = the format's default) and check the format supports it."""
    if overflow is None:
        return default_overflow(fmt)
    ovf = parse_overflow(overflow)
    if ovf == Overflow.INFINITY and not getattr(fmt, "has_inf", False):
        raise ValueError(f"overflow='infinity' but {fmt} has no infinities; use 'saturate' or 'nan'")
    if ovf == Overflow.NAN and not getattr(fmt, "has_nan", False):
        raise ValueError(f"overflow='nan' but {fmt} has no NaN; use 'saturate'")
    return ovf
