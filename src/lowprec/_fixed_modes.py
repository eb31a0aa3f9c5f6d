"""Quantization (rounding) and overflow modes of fixed-point formats, with HLS ``ap_fixed`` names.

The integer values are part of the contract with the compiled kernels (``lowprec._numba._fixed``)
and must never be renumbered. Rounding happens first, then overflow handling, as in HLS.
"""

from __future__ import annotations

import difflib
import enum

from .rounding import Rounding

__all__ = ["FixedOverflow", "FixedRounding", "parse_fixed_overflow", "parse_fixed_rounding"]


class FixedRounding(enum.IntEnum):
    """Rounding of a value to a multiple of the LSB ``2**-frac_bits``.

    With ``f`` the floor candidate and ``r = v - f`` in units of the LSB (``0 <= r < 1``):

    Attributes
    ----------
    TRN
        ``AP_TRN`` (HLS default): ``f``, toward minus infinity.
    TRN_ZERO
        ``AP_TRN_ZERO``: toward zero.
    RND
        ``AP_RND``: nearest, ties toward plus infinity.
    RND_ZERO
        ``AP_RND_ZERO``: nearest, ties toward zero.
    RND_MIN_INF
        ``AP_RND_MIN_INF``: nearest, ties toward minus infinity.
    RND_INF
        ``AP_RND_INF``: nearest, ties away from zero.
    RND_CONV
        ``AP_RND_CONV``: nearest, ties to the even code (convergent rounding).
    TO_ODD
        Inexact values take the odd one of ``f`` and ``f + 1`` (not an HLS mode).
    STOCHASTIC
        P3109 StochasticA applied to the floor candidate: ``f + 1`` iff
        ``floor(r * 2**n) + rand >= 2**n`` with ``rand`` uniform in ``[0, 2**n)`` (not HLS).
    STOCHASTIC_EQUAL
        Inexact values go to ``f + 1`` iff ``rand >= 2**(n-1)`` (probability 1/2; not HLS).
    TRN_INF
        Toward plus infinity (ceiling; APyTypes ``TRN_INF``, MATLAB ``Ceiling``; not HLS).
    """

    TRN = 0
    TRN_ZERO = 1
    RND = 2
    RND_ZERO = 3
    RND_MIN_INF = 4
    RND_INF = 5
    RND_CONV = 6
    TO_ODD = 7
    STOCHASTIC = 8
    STOCHASTIC_EQUAL = 9
    TRN_INF = 10

    @property
    def is_stochastic(self) -> bool:
        """Whether the mode consumes random bits."""
        return self in (FixedRounding.STOCHASTIC, FixedRounding.STOCHASTIC_EQUAL)

    @property
    def is_hls(self) -> bool:
        """Whether HLS ``ap_fixed`` has this mode (``AP_<name>``)."""
        return self <= FixedRounding.RND_CONV


class FixedOverflow(enum.IntEnum):
    """What a rounded value outside the format's range becomes.

    Attributes
    ----------
    WRAP
        ``AP_WRAP`` (HLS default): keep the low ``bits`` bits. With ``N = sat_bits > 0`` (signed):
        the MSB becomes the source sign and the next ``N - 1`` bits its complement; (unsigned): the
        top ``N`` bits are set.
    SAT
        ``AP_SAT``: clamp to ``[min, max]``.
    SAT_ZERO
        ``AP_SAT_ZERO``: any overflow gives 0.
    SAT_SYM
        ``AP_SAT_SYM``: clamp to ``[-max, max]``; for signed formats the minimum code is never
        produced (it becomes ``-max``). Unsigned: as ``SAT``.
    WRAP_SM
        ``AP_WRAP_SM``: sign-magnitude wrap that mirrors at the range edges (signed formats only).
    """

    WRAP = 0
    SAT = 1
    SAT_ZERO = 2
    SAT_SYM = 3
    WRAP_SM = 4


_R = FixedRounding
_ROUNDING_ALIASES: dict[str, FixedRounding] = {
    # generic lowprec names where they coincide
    "toward_negative": _R.TRN,
    "rtn": _R.TRN,
    "down": _R.TRN,
    "floor": _R.TRN,
    "toward_zero": _R.TRN_ZERO,
    "rtz": _R.TRN_ZERO,
    "truncate": _R.TRN_ZERO,
    "trunc": _R.TRN_ZERO,
    "toward_positive": _R.TRN_INF,
    "rtp": _R.TRN_INF,
    "up": _R.TRN_INF,
    "ceil": _R.TRN_INF,
    "nearest_even": _R.RND_CONV,
    "rne": _R.RND_CONV,
    "nearest": _R.RND_CONV,
    "convergent": _R.RND_CONV,
    "around": _R.RND_CONV,
    "nearest_away": _R.RND_INF,
    "rna": _R.RND_INF,
    "round": _R.RND_INF,
    "nearest_zero": _R.RND_ZERO,
    "nearest_posinf": _R.RND,
    "nearest_neginf": _R.RND_MIN_INF,
    "to_odd": _R.TO_ODD,
    "stochastic": _R.STOCHASTIC,
    "sr": _R.STOCHASTIC,
    "stochastic_equal": _R.STOCHASTIC_EQUAL,
}

_FROM_ROUNDING: dict[Rounding, FixedRounding] = {
    Rounding.NEAREST_EVEN: _R.RND_CONV,
    Rounding.NEAREST_AWAY: _R.RND_INF,
    Rounding.NEAREST_ZERO: _R.RND_ZERO,
    Rounding.TOWARD_ZERO: _R.TRN_ZERO,
    Rounding.TOWARD_POSITIVE: _R.TRN_INF,
    Rounding.TOWARD_NEGATIVE: _R.TRN,
    Rounding.TO_ODD: _R.TO_ODD,
    Rounding.STOCHASTIC: _R.STOCHASTIC,
    Rounding.STOCHASTIC_EQUAL: _R.STOCHASTIC_EQUAL,
}

_O = FixedOverflow
_OVERFLOW_ALIASES: dict[str, FixedOverflow] = {
    "wrap": _O.WRAP,
    "wrap_around": _O.WRAP,
    "saturate": _O.SAT,
    "sat": _O.SAT,
    "satfinite": _O.SAT,
    "saturate_zero": _O.SAT_ZERO,
    "saturate_symmetric": _O.SAT_SYM,
    "symmetric": _O.SAT_SYM,
}


def _key(value: str) -> str:
    key = value.strip().lower()
    return key[3:] if key.startswith("ap_") else key


def _unknown(value: str, names: list[str], aliases: dict, what: str) -> ValueError:
    close = difflib.get_close_matches(_key(value), [n.lower() for n in names] + list(aliases), n=3)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return ValueError(f"unknown fixed-point {what} {value!r}{hint} Known: {', '.join(names)}")


def parse_fixed_rounding(value: str | FixedRounding | Rounding) -> FixedRounding:
    """Normalise a rounding name to :class:`FixedRounding`.

    Accepts the enum, HLS names with or without ``AP_`` (``"AP_RND_CONV"``, ``"rnd_conv"``),
    :class:`lowprec.Rounding` members and the generic lowprec names where they coincide
    (``"toward_negative"`` = TRN, ``"toward_zero"`` = TRN_ZERO, ``"nearest_even"`` = RND_CONV,
    ``"nearest_away"`` = RND_INF, ``"nearest_zero"`` = RND_ZERO, ``"toward_positive"`` = TRN_INF,
    ``"to_odd"``, ``"stochastic"``, ``"stochastic_equal"``) and fxpmath's names
    (``floor``, ``trunc``, ``ceil``, ``around``, ``nearest_posinf``, ``nearest_neginf``...).

    Raises
    ------
    ValueError
        For an unknown name (the message lists the modes and close matches).
    TypeError
        For a value that is neither a string nor an enum member.
    """
    if isinstance(value, FixedRounding):
        return value
    if isinstance(value, Rounding):
        return _FROM_ROUNDING[value]
    if isinstance(value, str):
        key = _key(value)
        if key.upper() in FixedRounding.__members__:
            return FixedRounding[key.upper()]
        if key in _ROUNDING_ALIASES:
            return _ROUNDING_ALIASES[key]
        raise _unknown(value, list(FixedRounding.__members__), _ROUNDING_ALIASES, "rounding mode")
    raise TypeError(f"rounding must be a string or FixedRounding, not {type(value).__name__}")


def parse_fixed_overflow(value: str | FixedOverflow | None) -> FixedOverflow:
    """Normalise an overflow name (``"AP_SAT"``, ``"sat_sym"``, ``"saturate"``...) to :class:`FixedOverflow`.

    ``None`` gives :attr:`FixedOverflow.WRAP` (the HLS default).
    """
    if value is None:
        return FixedOverflow.WRAP
    if isinstance(value, FixedOverflow):
        return value
    if isinstance(value, str):
        key = _key(value)
        if key.upper() in FixedOverflow.__members__:
            return FixedOverflow[key.upper()]
        if key in _OVERFLOW_ALIASES:
            return _OVERFLOW_ALIASES[key]
        raise _unknown(value, list(FixedOverflow.__members__), _OVERFLOW_ALIASES, "overflow mode")
    raise TypeError(f"overflow must be a string or FixedOverflow, not {type(value).__name__}")
