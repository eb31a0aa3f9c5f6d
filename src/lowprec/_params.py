"""Integer parameters of a float format, in the order every kernel (Numba, C++, CUDA) takes them.

This is the one place the format model is flattened for compiled code; the kernels re-derive
nothing. Field order is part of the C++ ABI (``lowprec::FloatParams`` in ``csrc/include``).
"""

from __future__ import annotations

from typing import NamedTuple

from .formats._float import FloatFormat

__all__ = ["FloatParams", "float_params"]

FLAG_SUBNORMALS = 1
FLAG_ZERO = 2
FLAG_SIGNED = 4
FLAG_NEGZERO = 8
FLAG_HAS_INF = 16
FLAG_HAS_NAN = 32
FLAG_NAN_KEEPS_SIGN = 64


class FloatParams(NamedTuple):
    """Flattened format: every number a kernel needs, as Python ints."""

    mbits: int  #: stored mantissa bits M
    emin: int  #: exponent of the smallest normal binade
    emax: int  #: exponent of the largest finite value
    max_mag: int  #: magnitude code of the largest finite value
    inf_mag: int  #: magnitude code of +Inf (-1: none)
    nan_code: int  #: canonical positive NaN code (-1: none)
    sign_mask: int  #: the sign bit of a code (0: unsigned)
    flags: int  #: FLAG_* bits


def float_params(fmt: FloatFormat) -> FloatParams:
    """Flatten ``fmt`` for the kernels."""
    flags = (
        (FLAG_SUBNORMALS if fmt.subnormals else 0)
        | (FLAG_ZERO if fmt.zero else 0)
        | (FLAG_SIGNED if fmt.signed else 0)
        | (FLAG_NEGZERO if fmt.has_negzero else 0)
        | (FLAG_HAS_INF if fmt.has_inf else 0)
        | (FLAG_HAS_NAN if fmt.has_nan else 0)
        | (FLAG_NAN_KEEPS_SIGN if fmt.nan_keeps_sign else 0)
    )
    return FloatParams(
        mbits=fmt.mbits,
        emin=fmt.emin_,
        emax=fmt.emax_,
        max_mag=fmt.max_mag,
        inf_mag=fmt.inf_mag,
        nan_code=fmt.nan_code,
        sign_mask=fmt.sign_mask,
        flags=flags,
    )
