"""Correctly rounded elementwise arithmetic: the exact result of one operation, rounded once."""

from __future__ import annotations

import numpy as np

from .._api import _kparams
from .._numba._threads import run_parts
from ..formats._float import FloatFormat
from ..formats._registry import get_format
from ..rounding import Overflow, Rounding, parse_rounding, resolve_overflow
from . import _core

__all__ = ["add", "div", "fma", "mul", "sqrt", "sub"]

_MAX_PRECISION = 51  # round-to-odd at float64's 53 bits is exact for targets of <= 51 bits


def _target(fmt: object, rounding: str | Rounding, overflow: str | Overflow | None) -> tuple:
    """(format, mode, overflow, kernel params) after validation."""
    f = get_format(fmt)
    if not isinstance(f, FloatFormat):
        raise TypeError(f"{f} is not a floating-point format")
    if f.mbits + 1 > _MAX_PRECISION:
        raise ValueError(
            f"lowprec.ops rounds to formats of at most {_MAX_PRECISION} significant bits, not {f} "
            f"({f.mbits + 1} bits): its exactness argument is round-to-odd at float64 precision"
        )
    mode = parse_rounding(rounding)
    if mode.is_stochastic:
        raise ValueError("lowprec.ops supports the deterministic rounding modes only")
    ovf = resolve_overflow(f, overflow)
    return f, mode, ovf, (*_kparams(f), f.mag_bits)


def _as_f64(x: object) -> np.ndarray:
    a = np.asarray(x)
    ok = a.dtype.kind in "iu" or (a.dtype.kind == "f" and a.dtype.itemsize <= 8) or "float" in a.dtype.name
    if not ok or a.dtype.name == "float128":
        raise TypeError(f"expected real float64-representable numbers, got dtype {a.dtype}")
    return a.astype(np.float64)


def _run(op: int, args: tuple, fmt: object, rounding: str | Rounding, overflow: str | Overflow | None):
    _, mode, ovf, p = _target(fmt, rounding, overflow)
    scalar = all(np.ndim(a) == 0 for a in args)
    arrs = np.broadcast_arrays(*[_as_f64(a) for a in args])
    shape = arrs[0].shape
    flat = [np.ascontiguousarray(a).reshape(-1) for a in arrs]
    while len(flat) < 3:
        flat.append(flat[0])
    out = np.empty(flat[0].size, dtype=np.float64)
    run_parts(_core.elementwise_kernel, out.size, op, flat[0], flat[1], flat[2], out, p, int(mode), int(ovf))
    out = out.reshape(shape)
    return out[()] if scalar else out


_DOC = """

    Parameters
    ----------
    {args}
        Operands: arrays or scalars that broadcast together; their values are taken exactly (as
        float64). Use :func:`lowprec.quantize` first to model operands stored in a format.
    fmt
        Target format (name or :class:`~lowprec.FloatFormat`) of at most 51 significant bits.
    rounding
        A deterministic rounding mode (``nearest_even``, ``toward_zero``, ``to_odd``...).
    overflow
        ``saturate``, ``infinity`` or ``nan``; ``None`` takes the format's default.

    Returns
    -------
    numpy.ndarray
        float64 values of the format (a NumPy scalar for scalar operands).
"""


def add(x: object, y: object, fmt: object, rounding: str | Rounding = "nearest_even", *,
        overflow: str | Overflow | None = None) -> np.ndarray:  # fmt: skip
    """``x + y`` computed exactly and rounded once to ``fmt``."""
    return _run(_core.OP_ADD, (x, y), fmt, rounding, overflow)


def sub(x: object, y: object, fmt: object, rounding: str | Rounding = "nearest_even", *,
        overflow: str | Overflow | None = None) -> np.ndarray:  # fmt: skip
    """``x - y`` computed exactly and rounded once to ``fmt``."""
    return _run(_core.OP_SUB, (x, y), fmt, rounding, overflow)


def mul(x: object, y: object, fmt: object, rounding: str | Rounding = "nearest_even", *,
        overflow: str | Overflow | None = None) -> np.ndarray:  # fmt: skip
    """``x * y`` computed exactly and rounded once to ``fmt``."""
    return _run(_core.OP_MUL, (x, y), fmt, rounding, overflow)


def div(x: object, y: object, fmt: object, rounding: str | Rounding = "nearest_even", *,
        overflow: str | Overflow | None = None) -> np.ndarray:  # fmt: skip
    """``x / y`` correctly rounded to ``fmt`` (IEEE specials: x/0 is ±Inf, 0/0 is NaN)."""
    return _run(_core.OP_DIV, (x, y), fmt, rounding, overflow)


def fma(x: object, y: object, z: object, fmt: object, rounding: str | Rounding = "nearest_even", *,
        overflow: str | Overflow | None = None) -> np.ndarray:  # fmt: skip
    """``x * y + z`` computed exactly and rounded once to ``fmt`` (fused multiply-add)."""
    return _run(_core.OP_FMA, (x, y, z), fmt, rounding, overflow)


def sqrt(x: object, fmt: object, rounding: str | Rounding = "nearest_even", *,
         overflow: str | Overflow | None = None) -> np.ndarray:  # fmt: skip
    """Square root correctly rounded to ``fmt`` (``sqrt(-0) = -0``, negative inputs give NaN)."""
    return _run(_core.OP_SQRT, (x,), fmt, rounding, overflow)


for _f, _a in ((add, "x, y"), (sub, "x, y"), (mul, "x, y"), (div, "x, y"), (fma, "x, y, z"), (sqrt, "x")):
    _f.__doc__ = (_f.__doc__ or "") + _DOC.format(args=_a)
