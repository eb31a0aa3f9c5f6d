"""Reductions with a rounded accumulator and a stated order: ``sum`` and ``dot``."""

from __future__ import annotations

import numba
import numpy as np

from .._numba._threads import PAR_MIN, run_parts
from ..rounding import Overflow, Rounding
from ._core import OP_ADD, OP_FMA, OP_MUL, OP_SUB, op_round
from ._elementwise import _as_f64, _target

__all__ = ["dot", "sum"]

_NJ = {"cache": True, "nogil": True, "error_model": "numpy"}
ORDERS = ("sequential", "pairwise", "blocked", "kahan")
_SEQ, _PAIR, _BLOCK, _KAHAN = 0, 1, 2, 3


@numba.njit(**_NJ)
def _reduce_row(x, y, use_y, fused, order, block, p, mode, ovf):
    """Reduce one row; with ``use_y`` the terms are products x[k] * y[k]."""
    # the op codes as run-time int64, not literals: one compiled op_round (shared with the
    # elementwise ops) instead of one specialisation per op code (~4 s of compilation each)
    o_add, o_sub, o_mul, o_fma = np.int64(OP_ADD), np.int64(OP_SUB), np.int64(OP_MUL), np.int64(OP_FMA)
    n = x.size
    if n == 0:
        return 0.0
    if use_y and (order == _SEQ or order == _BLOCK) and fused:
        # fused multiply-add chain (per block for blocked)
        total = 0.0
        first_block = True
        for k0 in range(0, n, block if order == _BLOCK else n):
            k1 = min(n, k0 + (block if order == _BLOCK else n))
            acc = op_round(o_mul, x[k0], y[k0], 0.0, p, mode, ovf)
            for k in range(k0 + 1, k1):
                acc = op_round(o_fma, x[k], y[k], acc, p, mode, ovf)
            total = acc if first_block else op_round(o_add, total, acc, 0.0, p, mode, ovf)
            first_block = False
        return total
    t = np.empty(n, np.float64)
    for k in range(n):
        t[k] = op_round(o_mul, x[k], y[k], 0.0, p, mode, ovf) if use_y else x[k]
    if order == _SEQ or order == _BLOCK:
        step = block if order == _BLOCK else n
        total = 0.0
        for k0 in range(0, n, step):
            acc = t[k0]
            if not use_y:
                acc = op_round(o_add, t[k0], 0.0, 0.0, p, mode, ovf)  # round the first term too
            for k in range(k0 + 1, min(n, k0 + step)):
                acc = op_round(o_add, acc, t[k], 0.0, p, mode, ovf)
            total = acc if k0 == 0 else op_round(o_add, total, acc, 0.0, p, mode, ovf)
        return total
    if order == _PAIR:
        if not use_y:
            for k in range(n):
                t[k] = op_round(o_add, t[k], 0.0, 0.0, p, mode, ovf)
        w = n
        while w > 1:
            h = w // 2
            for q in range(h):
                t[q] = op_round(o_add, t[2 * q], t[2 * q + 1], 0.0, p, mode, ovf)
            if w % 2 == 1:
                t[h] = t[w - 1]
                w = h + 1
            else:
                w = h
        return t[0]
    # Kahan compensated summation, every operation rounded to the accumulator format
    s = 0.0
    c = 0.0
    for k in range(n):
        yk = op_round(o_sub, t[k], c, 0.0, p, mode, ovf)
        tk = op_round(o_add, s, yk, 0.0, p, mode, ovf)
        c = op_round(o_sub, op_round(o_sub, tk, s, 0.0, p, mode, ovf), yk, 0.0, p, mode, ovf)
        s = tk
    return s


@numba.njit(**_NJ)
def _reduce_kernel(lo, hi, x, y, use_y, fused, order, block, out, p, mode, ovf):
    """Rows ``[lo, hi)`` (run on threads by :func:`lowprec._numba._threads.run_parts`)."""
    for i in range(lo, hi):
        out[i] = _reduce_row(x[i], y[i], use_y, fused, order, block, p, mode, ovf)
    return 0


def _check_order(order: str, block: int | None) -> tuple[int, int]:
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}, not {order!r}")
    if order == "blocked":
        if block is None or int(block) < 1:
            raise ValueError("order='blocked' needs block >= 1")
        return _BLOCK, int(block)
    return ORDERS.index(order), 1


def _reduce(x, y, fmt, order, block, rounding, overflow, axis, fused):
    _, mode, ovf, p = _target(fmt, rounding, overflow)
    code, blk = _check_order(order, block)
    xa = np.moveaxis(_as_f64(x), axis, -1)
    ya = np.moveaxis(_as_f64(y), axis, -1) if y is not None else xa
    xa, ya = np.broadcast_arrays(xa, ya)
    shape = xa.shape[:-1]
    x2 = np.ascontiguousarray(xa.reshape(-1, xa.shape[-1]))
    y2 = np.ascontiguousarray(ya.reshape(-1, ya.shape[-1]))
    out = np.empty(x2.shape[0], np.float64)
    run_parts(_reduce_kernel, x2.shape[0], x2, y2, y is not None, fused, code, blk, out, p, int(mode), int(ovf),
              align=1, min_part=max(1, PAR_MIN // max(1, x2.shape[1])))  # fmt: skip
    out = out.reshape(shape)
    return out[()] if out.ndim == 0 else out


def sum(
    x: object, fmt: object, order: str = "sequential", *, block: int | None = None,
    rounding: str | Rounding = "nearest_even", overflow: str | Overflow | None = None, axis: int = -1,
) -> np.ndarray:  # fmt: skip
    """Sum along ``axis`` with every addition rounded once to ``fmt``.

    Parameters
    ----------
    x
        Values (taken exactly as float64).
    fmt
        Accumulator format (at most 51 significant bits).
    order
        ``sequential`` (``((x0 + x1) + x2) + ...``), ``pairwise`` (adjacent pairs level by level;
        an odd last element moves up unchanged), ``blocked`` (sequential sums of ``block``
        consecutive elements, then a sequential sum of the block sums) or ``kahan`` (compensated
        summation, each of its four operations rounded to ``fmt``).
    block
        Block length for ``order="blocked"``.
    rounding, overflow
        Rounding mode (deterministic) and overflow policy of every operation.
    axis
        Axis to reduce.

    Returns
    -------
    numpy.ndarray
        float64 values of ``fmt``. Every term is first rounded to ``fmt`` (an exact no-op for values
        of the format).
    """
    return _reduce(x, None, fmt, order, block, rounding, overflow, axis, True)


def dot(
    x: object, y: object, fmt: object, order: str = "sequential", *, block: int | None = None,
    fused: bool = True, rounding: str | Rounding = "nearest_even", overflow: str | Overflow | None = None,
    axis: int = -1,
) -> np.ndarray:  # fmt: skip
    """Dot product along ``axis`` with an accumulator in ``fmt``.

    Parameters
    ----------
    x, y
        Operands (broadcast together; taken exactly as float64).
    fmt, order, block, rounding, overflow, axis
        As in :func:`sum`.
    fused
        With ``sequential``/``blocked`` order: ``True`` accumulates by fused multiply-adds
        (``acc = round(x*y + acc)``), ``False`` rounds each product first. ``pairwise`` and ``kahan``
        always round the products to ``fmt`` first and then sum them in that order.

    Returns
    -------
    numpy.ndarray
        float64 values of ``fmt``.
    """
    return _reduce(x, y, fmt, order, block, rounding, overflow, axis, bool(fused))
