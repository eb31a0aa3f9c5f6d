"""Fast Numba kernels for block-scaled formats: float32 input, one pass on threads, branch-light elements.

These cover the common case of :func:`lowprec._numba._block.block_kernel`, which dispatches here
(:func:`fast_supported`) and keeps its general kernel for everything else (float64 input, element
formats without zero/subnormals/sign, bounds below). Per block: the amax is the integer max of the
magnitude bits (a NaN/Inf block is one whose max reaches the Inf pattern), the scale comes from
those bits (:func:`lowprec._numba._block._pow2_exponent`; for the ``amax`` rule one exact float64
division, see below), and the elements are rounded by one of two short, vectorisable rules:

- **int32 lanes** (quantize, power-of-two scale, when the block's grid ``element x 2**e`` is
  exact in float32 -- everything but blocks with amax below ~2**-120): the input's own float32
  bits are rounded on the scaled grid. Shift right by ``23 - M`` (more below the grid's smallest
  normal), decide the carry with the rounding mode, and rebuild the value with the carry running
  into the exponent (normal range) or by a magic-number subtraction (subnormal range); saturation
  is a ``min`` against the grid's maximum. No division, no float64. Stochastic modes with
  ``n <= 32`` random bits round by the float kernels' word rule on the grid (:func:`_run32_sr`): the
  random words of a block row (or, in :func:`flat_kernel`, of 4096 elements) are made first by a
  loop of their own.
- **float64** (everything else): the element's value divided by the block scale is formed
  exactly -- ``|x| * 2**-e`` for power-of-two scales, or ``|x| / (s * g)`` for the ``amax``
  (NVFP4) rule, a correctly rounded float64 division that cannot change a rounding decision: the
  exact quotient of a 24-bit ``x`` by the ``<= 28``-bit divisor is either exactly a point of the
  element grid (values, midpoints, and for stochastic rounding the ``2**-n`` steps between them)
  or separated from every such point by a relative gap of at least ``2**-(bits + 1)``, far above
  float64's half-ulp (:func:`fast_supported` checks the bound per format) -- and rounded on its
  float64 bits as above (stochastic rounding, encode) or, for deterministic quantize, scaled to
  grid units and rounded by the CPU's rounding instructions (:func:`_round_grid`), then multiplied
  back by the scale (exact) and stored (one rounding). Blocks along a non-last axis replace the
  ``amax``-rule division by a rounded reciprocal with snapping onto the grid's decision points
  (:data:`_SNAP_TOL`), where the bit bound allows it. Stochastic quantize with random words
  (:func:`_run64_sr`) does not divide either: for the ``amax`` rule it decides by exact compares
  and an fma, for any tensor scale.

Stochastic rounding uses the same counter-based bits as every backend (flat C-order index).
All functions are module-level (cacheable). :func:`run_fast` splits the blocks over threads
(:func:`lowprec._numba._threads.run_parts`); each runs serial loops over its blocks.
"""

from __future__ import annotations

import functools
import math

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from ._block import (
    RULE_AMAX,
    _enc,
    _pow2_exponent,
    block_span,
    blocks_per_column,
    store_code,
)
from ._float import F_NEGZERO, F_SIGNED, F_SUB, F_ZERO, RNA, RNE, RNZ, RTN, RTP, RTZ, SR, SRE, _round_up
from ._float_simd import _chunk_words, _word_bits
from ._fma import fma
from ._random import sr_bits
from ._threads import PAR_MIN, run_parts

__all__ = [
    "fast64_supported", "fast_kernel", "fast_supported", "flat_amax_kernel", "flat_kernel", "flat_supported",
    "neg_zero_ok", "r1_kernel64", "run_fast", "run_fast64",
]  # fmt: skip

_NJ = {"cache": True, "nogil": True}
_MANT = np.int64((1 << 52) - 1)
_IMPL = np.int64(1 << 52)
_ABS32 = np.int32(0x7FFFFFFF)
_INF32 = np.int32(0x7F800000)
#: float32 input for the float kernels' rules (:func:`_run32_sr`): mantissa bits, all-ones exponent
#: field, sign bit and magnitude mask as int64, and the int32 lane marker
_IN_M32, _EXPF32, _SIGNBIT32, _ABS64_32 = (
    np.int64(23),
    np.int64(255),
    np.int64(-(1 << 31)),
    np.int64(0x7FFFFFFF),
)
_LANE32 = np.int32(0)
#: columns per work item of the strided kernel (blocks along a non-last axis)
_COLS = 64
_MIN_NORMAL = 2.2250738585072014e-308  # float64's smallest normal, 2**-1022
_ABS64 = np.int64(0x7FFFFFFFFFFFFFFF)
_INF64 = np.int64(0x7FF0000000000000)
#: how the float64 element rule forms the element-unit quotient (:func:`_run64`)
_Q_POW2, _Q_DIV, _Q_RECIP = 0, 1, 2
#: ``amax``-rule quotients by a rounded reciprocal: ``fl(|x| * fl(1 / div))`` is within a relative
#: ``2**-52`` of the exact quotient, which is either exactly a decision point of the element grid or
#: at least ``2**-43`` away from every one when :func:`recip_ok` holds (the bound of the module
#: docstring, ``max(24, grid + divisor bits) + 2 <= 44``). So a value within ``2**-46`` of a
#: half-integer of the element grid is that half-integer, and any other keeps every decision.
_SNAP_TOL = 2.0**-46


@intrinsic
def _f64_bits(typingctx, x):  # type: ignore[no-untyped-def]
    """Bit pattern of a float64 as int64 (no conversion)."""
    if not (isinstance(x, types.Float) and x.bitwidth == 64):
        return None

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _bits_f64(typingctx, b):  # type: ignore[no-untyped-def]
    """Float64 of an int64 bit pattern."""
    if not (isinstance(b, types.Integer) and b.bitwidth == 64):
        return None

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(b), codegen


@intrinsic
def _bits_f32(typingctx, b):  # type: ignore[no-untyped-def]
    """Float32 of an int32 bit pattern."""
    if not (isinstance(b, types.Integer) and b.bitwidth == 32):
        return None

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(b), codegen


@numba.njit(inline="always", **_NJ)
def _pow2(e: np.int64) -> np.float64:
    """``2.0**e`` for ``-1022 <= e <= 1023``."""
    return _bits_f64((np.int64(1023) + e) << np.int64(52))


@numba.njit(inline="always", **_NJ)
def _round_elem(q, neg, s0, thr, mbits, cbits, c, mode, r, n) -> tuple:
    """Round ``q >= 0`` (finite float64, the exact element-unit quotient) to the element grid.

    Returns ``(value, magnitude code)`` before saturation. ``thr`` is the biased float64 exponent of
    the element's smallest normal, ``s0 = 52 - M``, ``c = 2**(52 + emin - M)`` (``cbits`` its bits).
    """
    qb, exf, sub, s, sc, lo, rem = _grid_position(q, s0, thr)
    half = (np.int64(1) << sc) >> np.int64(1)
    up = _round_up(mode, rem, half, (lo & 1) == 1, neg, s - n, r, n) & (rem != 0)
    inc = np.int64(1) if up else np.int64(0)
    k = lo + inc
    v = _grid_value(qb, sub, lo, inc, s0, cbits, c)
    code = k if sub else ((exf - thr) << mbits) + k
    return v, code


@numba.njit(inline="always", **_NJ)
def _grid_position(q, s0, thr) -> tuple:
    """``(bits, exponent field, sub, s, sc, lo, rem)`` of the quotient ``q >= 0`` on the element grid:
    below the grid's smallest normal (``sub``) the rounding position ``s`` grows by the binades
    under it; ``sc = min(s, 62)``, ``lo`` the significand's kept part, ``rem`` the dropped one."""
    qb = _f64_bits(q)
    exf = qb >> np.int64(52)
    d = thr - exf
    sub = d > 0
    s = s0 + (d if sub else np.int64(0))
    sc = min(s, np.int64(62))
    sig = (qb & _MANT) | (_IMPL if exf != 0 else np.int64(0))
    return qb, exf, sub, s, sc, sig >> sc, sig & ((np.int64(1) << sc) - np.int64(1))


@numba.njit(inline="always", **_NJ)
def _grid_value(qb, sub, lo, inc, s0, cbits, c) -> float:
    """The rounded grid value (float64) of :func:`_grid_position`'s quotient, ``inc`` its increment:
    in the subnormal range by a magic-number subtraction, else with the carry into the exponent."""
    v_sub = _bits_f64(cbits + lo + inc) - c
    v_norm = _bits_f64(((qb >> s0) + inc) << s0)
    return v_sub if sub else v_norm


@numba.njit(inline="always", **_NJ)
def _block_scale(am, rule, emax_e, m_e, smax_e, s_emin, s_emax, z_s, s_nan, ps, g, den, slut, n) -> tuple:
    """``(bad, scale code, multiplier, divisor)`` of a block with amax bits ``am`` (float32).

    Power-of-two rules: the quotient is ``|x| * mul`` and the value ``element * div``; ``amax``
    rule: the quotient is ``|x| / div``.
    """
    if am >= _INF32:
        return True, s_nan, 1.0, 1.0
    if rule != RULE_AMAX:
        e = s_emin
        if am != 0:
            e = _pow2_exponent(np.int64(am), np.int64(23), np.int64(127), rule, emax_e, m_e, smax_e)
        e = min(max(e, s_emin), s_emax)
        return False, e - s_emin + z_s, _pow2(-e), _pow2(e)
    scode = z_s  # all-zero block: the smallest positive scale
    if am != 0:
        qs = np.float64(_bits_f32(np.int32(am))) / den  # exact decisions, see the module docstring
        scode = _enc(_f64_bits(qs), False, np.int64(52), np.int64(1023), np.int64(0x7FF), ps,
                     np.int64(RNE), np.int64(0), n)  # fmt: skip
        if scode == 0:
            scode = z_s
    return False, scode, 1.0, slut[scode] * g


@intrinsic
def _f32_bits(typingctx, x):  # type: ignore[no-untyped-def]
    """Bit pattern of a float32 as int32."""
    if not (isinstance(x, types.Float) and x.bitwidth == 32):
        return None

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.IntType(32))

    return types.int32(types.float32), codegen


_I32 = np.int32


@intrinsic
def _shr32(typingctx, a, s):  # type: ignore[no-untyped-def]
    """Logical ``a >> s`` in int32 lanes (``0 <= s < 32``); Numba would widen it to int64."""
    if not (isinstance(a, types.Integer) and isinstance(s, types.Integer)):
        return None

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        i32 = ir.IntType(32)
        return builder.lshr(builder.trunc(args[0], i32) if a.bitwidth > 32 else args[0],
                            builder.trunc(args[1], i32) if s.bitwidth > 32 else args[1])  # fmt: skip

    return types.int32(a, s), codegen


@intrinsic
def _shl32(typingctx, a, s):  # type: ignore[no-untyped-def]
    """``a << s`` in int32 lanes (``0 <= s < 32``)."""
    if not (isinstance(a, types.Integer) and isinstance(s, types.Integer)):
        return None

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        i32 = ir.IntType(32)
        return builder.shl(builder.trunc(args[0], i32) if a.bitwidth > 32 else args[0],
                           builder.trunc(args[1], i32) if s.bitwidth > 32 else args[1])  # fmt: skip

    return types.int32(a, s), codegen


@numba.njit(inline="always", **_NJ)
def _amax_scale(am, den, s_mbits, s_emin, s_maxv, s_minv):
    """The block scale value of the ``amax`` rule, ``sat(RNE_scale(amax / den))`` with a zero scale
    replaced by the smallest positive one: :func:`_block_scale`'s value computed on the float64
    quotient's bits instead of through the generic encoder (the same quotient, so the same
    decisions). For scale formats with zero and subnormals; ``am`` are finite amax bits."""
    if am == 0:
        return s_minv
    qs = np.float64(_bits_f32(np.int32(am))) / den
    e = max((_f64_bits(qs) >> np.int64(52)) - np.int64(1023), s_emin)  # qs is a normal float64
    sv = min(np.rint(qs * _pow2(s_mbits - e)) * _pow2(e - s_mbits), s_maxv)  # RNE on the scale grid
    return s_minv if sv == 0.0 else sv


@numba.njit(inline="always", **_NJ)
def _elem32(xi, thr, s0, cb, c, maxv, e_int, mode):
    """Quantized float32 bits of float32 bits ``xi`` on a power-of-two block grid, in int32 lanes.

    The grid is the element format scaled by the block's ``2**e``: ``thr`` is the biased float32
    exponent of its smallest normal (``>= 1``), ``s0 = 23 - M``, ``c = 2**23 * Q`` (``cb`` its
    bits) with ``Q`` the grid's smallest step, ``maxv`` its largest value (all exact in float32;
    the caller checks). Deterministic modes only.
    """
    a = xi & _ABS32
    exf = a >> _I32(23)
    d = _I32(thr - max(exf, _I32(1)))  # float32 subnormals share the step of exponent field 1
    sub = d > 0
    s = _I32(min(s0 + max(d, _I32(0)), _I32(25)))  # sig < 2**24: shifts past 25 decide alike
    sig = _I32((a & _I32(0x7FFFFF)) | (_I32(0x800000) if exf != 0 else _I32(0)))
    lo = _shr32(sig, s)
    unit = _shl32(_I32(1), s)
    rem = _I32(sig & (unit - _I32(1)))
    half = _shr32(unit, _I32(1))
    up = _round_up(mode, rem, half, (lo & 1) == 1, xi < 0, _I32(0), _I32(0), _I32(0)) & (rem != 0)
    inc = _I32(1) if up else _I32(0)
    v_sub = _bits_f32(_I32(cb + lo + inc)) - c
    v_norm = _bits_f32(_shl32(_I32(_shr32(a, s0) + inc), s0))
    v = min(v_sub if sub else v_norm, maxv)
    vb = _f32_bits(v)
    keep = (xi < 0) & ((not e_int) | (vb != 0))  # integer elements have no -0
    return _I32(vb | (_I32(-2147483648) if keep else _I32(0)))


@numba.njit(inline="always", **_NJ)
def _elem64(xf, xb, idx, mul, div, bad, s0, thr, mbits, cbits, c, maxv, max_mag, sign_mask, int_mask, e_int,
            mode, amax_rule, what, use_key, key, rbits, n, out_vals, out_codes, count):  # fmt: skip
    """One element by the float64 rule (any mode, either rule family, quantize or encode; ``count``:
    the number of elements, see :func:`lowprec._numba._block.store_code`)."""
    neg = xb < 0
    r = np.int64(0)
    if mode >= SR:
        r = sr_bits(key, idx, n) if use_key else np.int64(rbits[idx])
    ax = abs(np.float64(xf))
    q = ax / div if amax_rule else ax * mul
    v, code = _round_elem(q, neg, s0, thr, mbits, cbits, c, mode, r, n)
    if what == 1:
        mag = min(code, max_mag)
        if e_int:
            cc = ((-mag) if neg else mag) & int_mask
        else:
            cc = mag | (sign_mask if neg else np.int64(0))
        store_code(out_codes, idx, np.int64(0) if bad else cc, count)
    else:
        v = min(v, maxv)
        sv = -v if (neg and ((not e_int) or v != 0.0)) else v  # integer elements have no -0
        out_vals[idx] = np.nan if bad else sv * div  # exact in float64; one rounding on the store


@numba.njit(inline="always", **_NJ)
def _word_consts(thr, s0, qmin, maxb, e_int):
    """A power-of-two block's float32 grid as the per-call constants ``c`` of the float kernels
    (:func:`lowprec._numba._float_simd.fast_consts`), for their stochastic rule with random words
    (:func:`lowprec._numba._float_simd._word_bits`): smallest normal at biased exponent ``thr``,
    normal rounding position ``s0``, smallest step (float32 bits ``qmin``), largest value (bits
    ``maxb``); saturating (the overflow result is the largest value, with the sign); zeros keep their
    sign for float elements, not for integer ones. C++ twin: ``block_lane_consts``."""
    z = np.int64(0)
    one = np.int64(1)
    top = np.int64(maxb)
    return (np.int64(23) - s0, np.int64(s0), np.int64(thr), one, one, z if e_int else one, top, np.int64(qmin),
            z, z, z, top, top | np.int64(-(1 << 31)))  # fmt: skip


@numba.njit(inline="always", **_NJ)
def _run32_sr(xbits, obits, base, cnt, w, c, mode, woff=0):
    """``cnt`` consecutive elements on a block's grid (:func:`_word_consts` ``c``) in a stochastic
    ``mode``, element ``j`` with random word ``w[woff + j]`` (the ``n <= 32`` bits at the top,
    :func:`lowprec._numba._float_simd._chunk_words`): the float kernels' rule
    :func:`lowprec._numba._float_simd._word_bits`, in int32 lanes."""
    ub = np.uint64(base)
    uw = np.uint64(woff)
    for j in range(cnt):
        xb = np.int64(xbits[ub + np.uint64(j)])
        r = np.int64(w[uw + np.uint64(j)])
        _slow, bits = _word_bits(xb & _ABS64_32, xb < 0, r, c, mode, _IN_M32, _EXPF32, _SIGNBIT32, _LANE32)
        obits[ub + np.uint64(j)] = bits


@numba.njit(inline="always", **_NJ)
def _elem32_rne(xi, thr, s0, maxv, e_int):
    """:func:`_elem32` for RNE by the FPU: ``(|x| + C) - C`` with ``C = 2**23`` times the grid step
    at ``|x|`` (``C = 2**(max(e_x, emin) - M + 23)``: its ulp is that step and ``|x| < C``) rounds
    ``|x|`` to the grid with ties to even in one float32 addition (C's significand is 1.0, so the
    even sum is the even grid code). Needs ``C`` finite for the block's amax (:func:`_rne32_ok`)."""
    a = _I32(xi & _ABS32)
    exf = _I32(a >> _I32(23))
    c = _bits_f32(_shl32(_I32(max(exf, thr) + s0), _I32(23)))
    v = min((_bits_f32(a) + c) - c, maxv)
    vb = _f32_bits(v)
    keep = (xi < 0) & ((not e_int) | (vb != 0))  # integer elements have no -0
    return _I32(vb | (_I32(-2147483648) if keep else _I32(0)))


@numba.njit(inline="always", **_NJ)
def _rne32_ok(am, s0, cexp):
    """Whether :func:`_elem32_rne` may round a block of amax bits ``am`` whose grid step has the
    biased exponent ``cexp - 23``: ``C`` stays finite, and that step is at least twice float32's
    smallest normal, so no subnormal takes part (a thread that flushes subnormals gets the same bits)."""
    return (am >> _I32(23)) + s0 <= _I32(254) and cexp >= 25


@numba.njit(inline="always", **_NJ)
def _run32_rne(xbits, obits, base, cnt, thr, s0, maxv, e_int):
    """``cnt`` consecutive elements by :func:`_elem32_rne`."""
    ub = np.uint64(base)
    for j in range(cnt):
        obits[ub + np.uint64(j)] = _elem32_rne(xbits[ub + np.uint64(j)], thr, s0, maxv, e_int)


@numba.njit(inline="always", **_NJ)
def _run32(xbits, obits, base, cnt, thr, s0, cb, c, maxv, e_int, mode):
    """``cnt`` consecutive elements by :func:`_elem32` (``cnt``/``mode`` constants after inlining)."""
    ub = np.uint64(base)  # unsigned indices: no negative-index select, which stops vectorisation
    for j in range(cnt):
        obits[ub + np.uint64(j)] = _elem32(xbits[ub + np.uint64(j)], thr, s0, cb, c, maxv, e_int, mode)


@numba.njit(inline="always", **_NJ)
def _round_grid(q, neg, thr, mbits, mode, snap):
    """The value of :func:`_round_elem` for a deterministic ``mode``, by float64 arithmetic.

    The grid step at ``q`` is ``2**(e - M)`` with ``e`` the exponent of ``q`` (at least the
    element's ``emin``; ``thr`` is its biased float64 exponent), so ``y = q * 2**(M - e)`` (exact: a
    power of two) is rounded to an integer by the CPU's rounding instructions and scaled back
    (exact). Branch-free after inlining (``mode`` is a constant), so it runs in SIMD lanes.

    ``snap``: ``q`` is the quotient by a rounded reciprocal (:data:`_SNAP_TOL`), so ``y`` is moved
    onto the nearest half-integer (the decision points of every deterministic mode) when it lies
    within a relative ``2**-46`` of one.
    """
    e = max(_f64_bits(q) >> np.int64(52), thr)  # q >= 0: the sign bit is clear
    y = q * _bits_f64((np.int64(2046) + mbits - e) << np.int64(52))  # 2**(M - e + 1023 - 1023)
    if snap:
        h = np.rint(2.0 * y) * 0.5
        y = h if abs(y - h) <= y * _SNAP_TOL else y
    if mode == RNE:
        k = np.rint(y)
    elif mode == RNA:
        k = np.floor(y + 0.5)  # exact: y < 2**(M + 1), its ulp is at most 2**-1
    elif mode == RNZ:
        k = np.ceil(y - 0.5) + 0.0  # + 0.0: ceil(-0.3) is -0
    elif mode == RTZ:
        k = np.trunc(y)
    elif mode == RTP:
        k = np.trunc(y) if neg else np.ceil(y)  # on the magnitude: toward +inf
    elif mode == RTN:
        k = np.ceil(y) if neg else np.trunc(y)
    else:  # RTO: truncate, and make an inexact result odd
        t = np.trunc(y)
        k = t + 1.0 if (t != y and t - 2.0 * np.floor(t * 0.5) == 0.0) else t
    return k * _bits_f64((e - mbits) << np.int64(52))  # 2**(e - 1023 - M)


@numba.njit(inline="always", **_NJ)
def _run64(xf, out_vals, ub, cnt, mul, div, thr, mbits, maxv, e_int, mode, qk, lift=False):
    """``cnt`` elements from unsigned index ``ub``: quantize by the float64 rule, deterministic modes.

    The element-unit quotient is ``|x| * mul`` (``qk`` = :data:`_Q_POW2`: a power of two, exact),
    ``|x| / div`` (:data:`_Q_DIV`) or ``|x| * mul`` with ``mul = fl(1 / div)`` and snapping
    (:data:`_Q_RECIP`, see :data:`_SNAP_TOL`).

    ``lift`` (float64 input, a constant): a quotient below float64's smallest normal, where
    ``|x| * mul`` may have lost bits or underflowed to 0, is replaced by that smallest normal. Both
    lie strictly below half the element grid's first step when that step is at least ``2**-1020``
    (:func:`fast64_supported`), so every deterministic mode decides the same for them.
    """
    for j in range(cnt):
        k = ub + np.uint64(j)
        xv = np.float64(xf[k])
        ax = abs(xv)
        q = ax / div if qk == _Q_DIV else ax * mul
        if lift:
            q = _MIN_NORMAL if (q < _MIN_NORMAL) & (ax != 0.0) else q
        neg = math.copysign(1.0, xv) < 0.0  # the sign bit (-0 included)
        v = min(_round_grid(q, neg, thr, mbits, mode, qk == _Q_RECIP), maxv)
        sv = -v if (neg and ((not e_int) or v != 0.0)) else v  # integer elements have no -0
        out_vals[k] = sv * div


@numba.njit(inline="always", **_NJ)
def _run64_sr(xf, out_vals, ub, cnt, mul, div, mbits, thr, maxv, e_int, sre, amax_rule, w, n, woff=0):
    """``cnt`` elements from unsigned index ``ub``: quantize by the float64 rule, stochastic modes
    (``sre``: stochastic_equal) with ``n <= 32`` random bits given as 32-bit words ``w[woff + j]`` (the bits
    at the top; :func:`lowprec._numba._float_simd._chunk_words`); no data-dependent branch (the
    conditionals are selects).

    Power-of-two scales: the quotient ``|x| * mul`` is exact; in units of its grid step, ``y``, it
    splits into ``k = floor(y)`` and the dropped fraction ``y - k`` (exact), and
    ``floor((y - k) * 2**32)``, the reference's dropped bits ``rem`` at position ``s`` as
    ``floor(rem * 2**32 / 2**s)``, rounds up iff it plus the word reaches ``2**32`` (the same test as
    ``floor(rem * 2**n / 2**s) + r >= 2**n``: the word is a multiple of ``2**(32 - n)``);
    stochastic_equal: the word's top bit and ``y != k``.

    ``amax`` rule (``amax_rule``): no division. The quotient by the rounded reciprocal,
    ``|x| * fl(1 / div)``, has the exact quotient's grid floor and binade except when ``|x|`` is
    exactly a grid point times ``div`` (every product of a grid point and ``div`` has at most 50
    bits under :func:`fast_supported`, so other float32 values lie a relative ``2**-50`` or more
    away), where one exact compare moves the floor up. Then the rule above is
    ``|x| >= step * div * 2**-32 * ((k + 1) * 2**32 - w)``, decided exactly by the sign of an fma,
    for any tensor scale. C++ twin: ``block_elem_div_word``."""
    two32 = 4294967296.0
    rdiv = 1.0 / div if amax_rule else 0.0
    for j in range(cnt):
        k = ub + np.uint64(j)
        xv = np.float64(xf[k])
        ax = abs(xv)
        neg = math.copysign(1.0, xv) < 0.0  # the sign bit (-0 included)
        r = np.float64(w[np.uint64(woff) + np.uint64(j)])
        q = ax * rdiv if amax_rule else ax * mul
        e = max(_f64_bits(q) >> np.int64(52), thr)  # q >= 0: the sign bit is clear
        step = _bits_f64((e - mbits) << np.int64(52))  # 2**(e - 1023 - M)
        y = q * _bits_f64((np.int64(2046) + mbits - e) << np.int64(52))  # 2**(M - e + 1023 - 1023)
        fl = np.floor(y)
        if amax_rule:
            fl = fl + 1.0 if ax >= (fl + 1.0) * step * div else fl  # exact products
            if sre:
                up = (r >= 2147483648.0) & (ax != fl * step * div)
            else:
                up = fma(step * div * 2.3283064365386963e-10, (fl + 1.0) * two32 - r, -ax) <= 0.0
        elif sre:
            up = (r >= 2147483648.0) & (y != fl)
        else:
            up = np.floor((y - fl) * two32) + r >= two32  # below 2**33: exact
        v = min((fl + 1.0 if up else fl) * step, maxv)
        sv = -v if (neg and ((not e_int) or v != 0.0)) else v  # integer elements have no -0
        out_vals[k] = sv * div


@numba.njit(inline="always", **_NJ)
def _run64_cols(xf, out_vals, base, w, muls, divs, bads, thr, mbits, maxv, e_int, mode, qk):
    """``w`` adjacent elements of one row of a strided layout, each in its own block (per-column
    ``muls``/``divs``/``bads``): quantize by the float64 rule, deterministic modes (as
    :func:`_run64`; a NaN/Inf block gives NaN)."""
    ub = np.uint64(base)
    for k in range(w):
        idx = ub + np.uint64(k)
        xv = np.float64(xf[idx])
        ax = abs(xv)
        div = divs[k]
        q = ax / div if qk == _Q_DIV else ax * muls[k]
        neg = math.copysign(1.0, xv) < 0.0  # the sign bit (-0 included)
        v = min(_round_grid(q, neg, thr, mbits, mode, qk == _Q_RECIP), maxv)
        sv = -v if (neg and ((not e_int) or v != 0.0)) else v  # integer elements have no -0
        out_vals[idx] = np.nan if bads[k] else sv * div


@numba.njit(inline="always", **_NJ)
def _amax(xbits, ub, cnt, am):
    """``max(am, |bits|)`` over ``cnt`` elements from unsigned index ``ub``: int32 lanes and a select
    (Numba widens int32 arithmetic to int64, and compiles ``max`` of two integers to a branch; either
    stops vectorisation)."""
    for j in range(cnt):
        a = _I32(xbits[ub + np.uint64(j)] & _ABS32)
        am = a if a > am else am
    return am


@numba.njit(**_NJ)
def _r1_blocks(xf, xbits, blk0, blk1, dims, bdims, rule, ein, sin, ep, g, den, slut, e_int, mode, amax_rule,
               what, key, rbits, n, out_vals, out_codes, out_scales, obits):  # fmt: skip
    """Blocks ``[blk0, blk1)`` of a layout with contiguous block rows (``R == 1``).

    A real call (not inlined): compiled on its own, its loops vectorise in int32 lanes.
    """
    s0, thr, mbits, cbits, c, maxv, max_mag, sign_mask, int_mask, emin_e, _recip = ep
    emax_e, m_e, smax_e = ein
    s_emin, s_emax, z_s, s_nan, p0, p1, p2, p3, p4, p5, p6, p7 = sin
    ps = (p0, p1, p2, p3, p4, p5, p6, p7)
    _big_p, l1, big_q, l2, _big_r = dims
    b1, b2 = bdims
    nb1 = (l1 + b1 - 1) // b1
    nb2 = (l2 + b2 - 1) // b2
    use_key = rbits.size == 0
    fast32 = (not amax_rule) and what == 0 and (mode < SR or n <= 32) and obits.size > 0
    wb = np.empty(b2 if mode >= SR else 0, np.uint32)  # a block row's random words
    s0_32 = _I32(23 - mbits)
    # block coordinates (pp, j1, qq, j2) of blk0, then stepped: no divisions per block
    pp, qq, i1_0, _i1_1, i2_0, _i2_1 = block_span(np.int64(blk0), dims, bdims)
    j1 = i1_0 // b1
    j2 = i2_0 // b2 - 1
    for blk in range(blk0, blk1):
        j2 += 1
        if j2 == nb2:
            j2 = 0
            qq += 1
            if qq == big_q:
                qq = 0
                j1 += 1
                if j1 == nb1:
                    j1 = 0
                    pp += 1
        i1_0 = j1 * b1
        i1_1 = min(l1, i1_0 + b1)
        i2_0 = j2 * b2
        cnt = min(l2, i2_0 + b2) - i2_0
        am = _I32(0)
        for i1 in range(i1_0, i1_1):
            ub = np.uint64(((pp * l1 + i1) * big_q + qq) * l2 + i2_0)
            if cnt == 32:
                am = _amax(xbits, ub, 32, am)
            elif cnt == 16:
                am = _amax(xbits, ub, 16, am)
            else:
                am = _amax(xbits, ub, cnt, am)
        bad, scode, mul, div = _block_scale(
            am, rule, emax_e, m_e, smax_e, s_emin, s_emax, z_s, s_nan, ps, g, den, slut, n
        )
        if what == 1:
            out_scales[blk] = scode
        if fast32 and not bad:
            # the block's grid in float32 (power-of-two scale div = 2**e)
            e = (_f64_bits(div) >> np.int64(52)) - np.int64(1023)
            t32 = emin_e + e + 127
            cexp = t32 - mbits + 23
            if t32 >= 1 and cexp <= 254 and maxv * div <= 3.4028234663852886e38:
                thr32 = _I32(t32)
                cb = _I32(cexp << 23)
                c32 = _bits_f32(cb)
                maxv32 = np.float32(maxv * div)
                cw = _word_consts(
                    thr32, s0_32, _f32_bits(_bits_f32(_I32(cb + 1)) - c32), _f32_bits(maxv32), e_int
                )
                for i1 in range(i1_0, i1_1):
                    base = ((pp * l1 + i1) * big_q + qq) * l2 + i2_0
                    if mode >= SR:  # stochastic: the block row's random words, then int32 lanes
                        if use_key and cnt == 32:
                            _chunk_words(wb, False, rbits, key, base, 32, n)
                        else:
                            _chunk_words(wb, not use_key, rbits[base : base + cnt], key, base, cnt, n)
                        if mode == SR and cnt == 32:
                            _run32_sr(xbits, obits, base, 32, wb, cw, SR)
                        elif mode == SR:
                            _run32_sr(xbits, obits, base, cnt, wb, cw, SR)
                        elif cnt == 32:
                            _run32_sr(xbits, obits, base, 32, wb, cw, SRE)
                        else:
                            _run32_sr(xbits, obits, base, cnt, wb, cw, SRE)
                    elif mode == RNE and _rne32_ok(am, s0_32, cexp):
                        if cnt == 32:
                            _run32_rne(xbits, obits, base, 32, thr32, s0_32, maxv32, e_int)
                        elif cnt == 16:
                            _run32_rne(xbits, obits, base, 16, thr32, s0_32, maxv32, e_int)
                        else:
                            _run32_rne(xbits, obits, base, cnt, thr32, s0_32, maxv32, e_int)
                    elif mode == RNE:
                        _run32(xbits, obits, base, cnt, thr32, s0_32, cb, c32, maxv32, e_int, RNE)
                    elif mode == RTZ:
                        if cnt == 32:
                            _run32(xbits, obits, base, 32, thr32, s0_32, cb, c32, maxv32, e_int, RTZ)
                        elif cnt == 16:
                            _run32(xbits, obits, base, 16, thr32, s0_32, cb, c32, maxv32, e_int, RTZ)
                        else:
                            _run32(xbits, obits, base, cnt, thr32, s0_32, cb, c32, maxv32, e_int, RTZ)
                    else:
                        _run32(xbits, obits, base, cnt, thr32, s0_32, cb, c32, maxv32, e_int, mode)
                continue
        if what == 0 and mode >= SR and n <= 32:  # stochastic quantize: random words, vectorisable loops
            for i1 in range(i1_0, i1_1):
                base = ((pp * l1 + i1) * big_q + qq) * l2 + i2_0
                ub = np.uint64(base)
                if bad:
                    for j in range(cnt):
                        out_vals[ub + np.uint64(j)] = np.nan
                    continue
                _chunk_words(wb, not use_key, rbits[base : base + cnt], key, base, cnt, n)
                # the mode and the rule as constants: a branch-free, SIMD loop (4.5 instead of 22 ns each)
                if amax_rule and mode == SR:
                    _run64_sr(xf, out_vals, ub, cnt, mul, div, mbits, thr, maxv, e_int, False, True, wb, n)
                elif amax_rule:
                    _run64_sr(xf, out_vals, ub, cnt, mul, div, mbits, thr, maxv, e_int, True, True, wb, n)
                elif mode == SR:
                    _run64_sr(xf, out_vals, ub, cnt, mul, div, mbits, thr, maxv, e_int, False, False, wb, n)
                else:
                    _run64_sr(xf, out_vals, ub, cnt, mul, div, mbits, thr, maxv, e_int, True, False, wb, n)
            continue
        if what == 0 and mode < SR:  # deterministic quantize by the float64 rule, vectorisable loops
            for i1 in range(i1_0, i1_1):
                ub = np.uint64(((pp * l1 + i1) * big_q + qq) * l2 + i2_0)
                if bad:
                    for j in range(cnt):
                        out_vals[ub + np.uint64(j)] = np.nan
                elif amax_rule and mode == RNE:  # the mode as a constant: a branch-free, SIMD loop
                    _run64(xf, out_vals, ub, cnt, mul, div, thr, mbits, maxv, e_int, RNE, _Q_DIV)
                elif amax_rule and mode == RTZ:
                    _run64(xf, out_vals, ub, cnt, mul, div, thr, mbits, maxv, e_int, RTZ, _Q_DIV)
                elif amax_rule:
                    _run64(xf, out_vals, ub, cnt, mul, div, thr, mbits, maxv, e_int, mode, _Q_DIV)
                else:
                    _run64(xf, out_vals, ub, cnt, mul, div, thr, mbits, maxv, e_int, mode, _Q_POW2)
            continue
        for i1 in range(i1_0, i1_1):
            base = ((pp * l1 + i1) * big_q + qq) * l2 + i2_0
            for i in range(base, base + cnt):
                _elem64(xf[i], xbits[i], i, mul, div, bad, s0, thr, mbits, cbits, c, maxv, max_mag, sign_mask,
                        int_mask, e_int, mode, amax_rule, what, use_key, key, rbits, n, out_vals, out_codes,
                        xbits.size)  # fmt: skip


@numba.njit(**_NJ)
def _strided_item(xf, xbits, it, dims, bdims, rule, ein, sin, ep, g, den, slut, e_int, mode, amax_rule, what,
                  key, rbits, n, out_vals, out_codes, out_scales):  # fmt: skip
    """One block row and up to ``_COLS`` adjacent columns of a layout with ``R > 1``."""
    s0, thr, mbits, cbits, c, maxv, max_mag, sign_mask, int_mask, _emin_e, recip = ep
    emax_e, m_e, smax_e = ein
    s_emin, s_emax, z_s, s_nan, p0, p1, p2, p3, p4, p5, p6, p7 = sin
    ps = (p0, p1, p2, p3, p4, p5, p6, p7)
    _big_p, l1, big_q, l2, big_r = dims
    ncol = (big_r + _COLS - 1) // _COLS
    use_key = rbits.size == 0
    cb = it % ncol
    blk = it // ncol  # scale index without the column
    pp, qq, i1_0, i1_1, i2_0, i2_1 = block_span(blk, dims, bdims)
    r0 = cb * _COLS
    w = min(big_r, r0 + _COLS) - r0
    am = np.zeros(_COLS, np.int32)
    for i1 in range(i1_0, i1_1):
        for i2 in range(i2_0, i2_1):
            base = (((pp * l1 + i1) * big_q + qq) * l2 + i2) * big_r + r0
            for k in range(w):
                am[k] = max(am[k], xbits[base + k] & _ABS32)
    bads = np.empty(_COLS, np.bool_)
    muls = np.empty(_COLS, np.float64)
    divs = np.empty(_COLS, np.float64)
    inline_amax = amax_rule and what == 0 and z_s == 1 and (p7 & F_SUB) != 0
    for k in range(w):
        if inline_amax and am[k] < _INF32:  # the scale value only (no code to store)
            bads[k] = False
            muls[k] = 1.0
            divs[k] = _amax_scale(am[k], den, p0, p1, slut[p3], slut[1]) * g
            continue
        bad, scode, mul, div = _block_scale(
            am[k], rule, emax_e, m_e, smax_e, s_emin, s_emax, z_s, s_nan, ps, g, den, slut, n
        )
        bads[k] = bad
        muls[k] = mul
        divs[k] = div
        if what == 1:
            out_scales[blk * big_r + r0 + k] = scode
    quick = what == 0 and mode < SR  # deterministic quantize: a loop specialised per mode and rule
    qk = (_Q_RECIP if recip else _Q_DIV) if amax_rule else _Q_POW2
    if quick and qk == _Q_RECIP:
        for k in range(w):
            muls[k] = 1.0 / divs[k]
    for i1 in range(i1_0, i1_1):
        for i2 in range(i2_0, i2_1):
            base = (((pp * l1 + i1) * big_q + qq) * l2 + i2) * big_r + r0
            if quick and mode == RNE:
                if qk == _Q_RECIP:
                    _run64_cols(
                        xf, out_vals, base, w, muls, divs, bads, thr, mbits, maxv, e_int, RNE, _Q_RECIP
                    )
                elif qk == _Q_DIV:
                    _run64_cols(xf, out_vals, base, w, muls, divs, bads, thr, mbits, maxv, e_int, RNE, _Q_DIV)
                else:
                    _run64_cols(
                        xf, out_vals, base, w, muls, divs, bads, thr, mbits, maxv, e_int, RNE, _Q_POW2
                    )
            elif quick and mode == RTZ:
                _run64_cols(xf, out_vals, base, w, muls, divs, bads, thr, mbits, maxv, e_int, RTZ, qk)
            elif quick:
                _run64_cols(xf, out_vals, base, w, muls, divs, bads, thr, mbits, maxv, e_int, mode, qk)
            else:
                for k in range(w):
                    i = base + k
                    _elem64(xf[i], xbits[i], i, muls[k], divs[k], bads[k], s0, thr, mbits, cbits, c, maxv,
                            max_mag, sign_mask, int_mask, e_int, mode, amax_rule, what, use_key, key, rbits, n,
                            out_vals, out_codes, xbits.size)  # fmt: skip


#: blocks per inner call of the contiguous kernel
_CHUNK = 256


@numba.njit(**_NJ)
def fast_kernel(lo, hi, xf, xbits, dims, bdims, rule, ein, sin, ep, g, den, slut, e_int, mode, amax_rule, what,
                key, rbits, n, out_vals, out_codes, out_scales, obits):  # fmt: skip
    """Quantize (``what == 0``) or encode (``what == 1``) float32 input: work items ``[lo, hi)``.

    ``R == 1`` (blocks along the contiguous last axis, 1-D or 2-D): the items are blocks, taken
    ``_CHUNK`` at a time, see :func:`_r1_blocks`. ``R > 1``: an item is one block row times up to
    ``_COLS`` adjacent columns, so that the inner loops run over contiguous memory
    (:func:`_strided_item`). :func:`run_fast` splits the items over threads.
    """
    big_r = dims[4]
    if big_r == 1:
        for b0 in range(lo, hi, _CHUNK):
            _r1_blocks(xf, xbits, b0, min(hi, b0 + _CHUNK), dims, bdims, rule, ein, sin, ep, g, den, slut, e_int,
                       mode, amax_rule, what, key, rbits, n, out_vals, out_codes, out_scales, obits)  # fmt: skip
    else:
        for it in range(lo, hi):
            _strided_item(xf, xbits, it, dims, bdims, rule, ein, sin, ep, g, den, slut, e_int, mode, amax_rule,
                          what, key, rbits, n, out_vals, out_codes, out_scales)  # fmt: skip
    return 0


@numba.njit(**_NJ)
def r1_kernel64(lo, hi, xf, xbits, dims, bdims, rule, ein, ep, s_emin, s_emax, e_int, mode, out_vals):
    """Deterministic quantize of float64 input with a power-of-two scale rule, blocks along the
    contiguous last axis (``R == 1``): blocks ``[lo, hi)`` (:func:`fast64_supported`).

    Per block: the amax on the int64 magnitude bits (a NaN/Inf block gives NaN), the scale exponent
    from those bits (:func:`lowprec._numba._block._pow2_exponent`), then :func:`_run64` with the
    quotient ``|x| * 2**-e`` (exact, or lifted where it falls below float64's normal range).
    """
    _s0, thr, mbits, _cbits, _c, maxv, _max_mag, _sign_mask, _int_mask, _emin_e, _recip = ep
    emax_e, m_e, smax_e = ein
    _big_p, l1, big_q, l2, _big_r = dims
    for blk in range(lo, hi):
        pp, qq, i1_0, i1_1, i2_0, i2_1 = block_span(blk, dims, bdims)
        cnt = i2_1 - i2_0
        am = np.int64(0)
        for i1 in range(i1_0, i1_1):
            ub = ((pp * l1 + i1) * big_q + qq) * l2 + i2_0
            for j in range(cnt):
                am = max(am, xbits[ub + j] & _ABS64)
        e = s_emin
        if am != 0 and am < _INF64:
            e = _pow2_exponent(am, np.int64(52), np.int64(1023), rule, emax_e, m_e, smax_e)
        e = min(max(e, s_emin), s_emax)
        mul = _pow2(-e)
        div = _pow2(e)
        for i1 in range(i1_0, i1_1):
            ub = np.uint64(((pp * l1 + i1) * big_q + qq) * l2 + i2_0)
            if am >= _INF64:
                for j in range(cnt):
                    out_vals[ub + np.uint64(j)] = np.nan
            elif mode == RNE:  # the mode as a constant: a branch-free, SIMD loop
                _run64(xf, out_vals, ub, cnt, mul, div, thr, mbits, maxv, e_int, RNE, _Q_POW2, True)
            else:
                _run64(xf, out_vals, ub, cnt, mul, div, thr, mbits, maxv, e_int, mode, _Q_POW2, True)
    return 0


def fast64_supported(pe: tuple, e_mbits: int, e_int: bool, rule: int, mode: int, what: int, dims: tuple,
                     width: int) -> bool:  # fmt: skip
    """Whether :func:`r1_kernel64` takes a call: float64 input, the element formats of
    :func:`fast_supported` whose smallest step is at least ``2**-1020`` (see :func:`_run64`'s
    ``lift``), a power-of-two scale rule, deterministic quantize, blocks along the contiguous last
    axis."""
    flags = pe[7]
    need = F_SUB | F_ZERO | F_SIGNED
    step_exp = int(pe[1]) - int(pe[0])  # the element grid's smallest step is 2**(emin - M)
    return (
        width == 64 and (flags & need) == need and e_mbits >= 1 and neg_zero_ok(pe, e_int) and step_exp >= -1020
        and rule != RULE_AMAX and int(what) == 0 and int(mode) < SR and int(dims[4]) == 1
    )  # fmt: skip


@numba.njit(inline="always", **_NJ)
def _group_words(wb, use_key, rbits, key, blk, lo, hi, b2, wgroup, n):
    """Offset in ``wb`` of block ``blk``'s random words (blocks of ``b2`` elements from ``lo``), made
    for ``wgroup`` blocks at once when ``blk`` starts a group (the per-format kernels' stochastic
    modes: one long vectorised loop instead of one per block)."""
    woff = ((blk - lo) % wgroup) * b2
    if woff == 0:
        base = blk * b2
        cnt = min(hi - blk, wgroup) * b2
        if use_key:
            _chunk_words(wb, False, rbits, key, base, cnt, n)
        else:
            _chunk_words(wb, True, rbits[base : base + cnt], key, base, cnt, n)
    return woff


#: arrays of at least this many elements, in the layout of :func:`flat_supported`, get a kernel
#: compiled for their format, scale rule and rounding mode (:func:`flat_kernel`)
SPEC_MIN = 1 << 20


@functools.lru_cache(maxsize=64)
def flat_kernel(rule: int, e_int: bool, b2: int, mode: int, consts: tuple):
    """A kernel with :func:`fast_kernel`'s arguments that quantizes blocks ``[lo, hi)`` of the
    commonest layout, compiled for one element format, scale rule, block size and mode.

    The layout (:func:`flat_supported`): 1-D blocks that tile the contiguous last axis exactly
    (``R == 1``, ``b1 == 1``, ``l2 % b2 == 0``: block ``k`` is elements ``[k * b2, (k + 1) * b2)``),
    a power-of-two scale rule, a deterministic mode (or a stochastic one with ``n <= 32`` random
    bits, made 4096 at a time) and float32 output. One short loop per block: the amax, the scale
    exponent and the int32-lane element rule of :func:`_r1_blocks`, with
    ``consts`` = (element max, ``emax_e``, ``m_e``, ``smax_e``, scale ``emin``, scale ``emax``,
    element mantissa bits, element ``emin``) and the arguments above folded in at compile time
    (about 1.5x faster than :func:`_r1_blocks`; about 2 s of compilation the first time, then the
    disk cache). Blocks outside the float32 grid, or with NaN/Inf, are handed to
    :func:`_r1_blocks`. The closure captures numbers only (disk-cacheable).
    """
    RULE, EINT, B2, MODE = np.int64(rule), bool(e_int), np.int64(b2), np.int64(mode)
    MAXV = float(consts[0])
    EMAX_E, M_E, SMAX_E, S_EMIN, S_EMAX, MBITS, EMIN_E = (np.int64(v) for v in consts[1:])
    S0_32 = _I32(23 - int(consts[6]))
    WGROUP = max(1, 4096 // b2)  # stochastic modes: blocks whose random words are made at once

    @numba.njit(**_NJ)
    def kernel(lo, hi, xf, xbits, dims, bdims, rule, ein, sin, ep, g, den, slut, e_int, mode, amax_rule, what,
               key, rbits, n, out_vals, out_codes, out_scales, obits):  # fmt: skip
        wb = np.empty(WGROUP * B2 if MODE >= SR else 0, np.uint32)  # random words of WGROUP blocks
        use_key = rbits.size == 0
        for blk in range(lo, hi):
            base = blk * B2
            woff = _group_words(wb, use_key, rbits, key, blk, lo, hi, B2, WGROUP, n) if MODE >= SR else 0
            am = _amax(xbits, np.uint64(base), B2, _I32(0))
            e = S_EMIN
            if am != 0:
                e = _pow2_exponent(np.int64(am), np.int64(23), np.int64(127), RULE, EMAX_E, M_E, SMAX_E)
            e = min(max(e, S_EMIN), S_EMAX)
            t32 = EMIN_E + e + 127
            cexp = t32 - MBITS + 23
            if am >= _INF32 or t32 < 1 or cexp > 254 or MAXV * _pow2(e) > 3.4028234663852886e38:
                _r1_blocks(xf, xbits, blk, blk + 1, dims, bdims, rule, ein, sin, ep, g, den, slut, e_int, mode,
                           amax_rule, what, key, rbits, n, out_vals, out_codes, out_scales, obits)  # fmt: skip
                continue
            cb = _I32(cexp << 23)
            maxv32 = np.float32(MAXV * _pow2(e))
            if MODE >= SR:
                qmin32 = _f32_bits(_bits_f32(_I32(cb + 1)) - _bits_f32(cb))  # the grid's smallest step
                cw = _word_consts(t32, S0_32, qmin32, _f32_bits(maxv32), EINT)
                _run32_sr(xbits, obits, base, B2, wb, cw, MODE, woff)
            elif MODE == RNE and _rne32_ok(am, S0_32, cexp):
                _run32_rne(xbits, obits, base, B2, _I32(t32), S0_32, maxv32, EINT)
            else:
                _run32(xbits, obits, base, B2, _I32(t32), S0_32, cb, _bits_f32(cb), maxv32, EINT, MODE)
        return 0

    return kernel


@functools.lru_cache(maxsize=64)
def flat_amax_kernel(e_int: bool, b2: int, mode: int, consts: tuple):
    """:func:`flat_kernel` for the ``amax`` scale rule (NVFP4): the same layout and arguments.

    Per block: the amax bits, the scale ``s = sat(RNE_scale(amax / den))`` (a zero scale becomes
    the smallest positive one), rounded inline on the float64 quotient's bits instead of through
    the generic encoder and the scale table (the same float64 quotient, so the same decisions),
    then the float64 element rule of :func:`_run64` (stochastic modes with ``n <= 32`` random bits:
    :func:`_run64_sr`, the words made 4096 at a time) with the block size, the mode and ``consts`` =
    (``thr``, element mantissa bits, element max, scale mantissa bits, scale ``emin``, largest
    scale, smallest positive scale) folded in. The tensor scale ``g`` and ``den``
    stay run-time arguments. NaN/Inf blocks are handed to :func:`_r1_blocks`.
    """
    EINT, B2, MODE = bool(e_int), np.int64(b2), np.int64(mode)
    THR, MBITS, MAXV = np.int64(consts[0]), np.int64(consts[1]), float(consts[2])
    S_MBITS, S_EMIN = np.int64(consts[3]), np.int64(consts[4])
    S_MAXV, S_MINV = float(consts[5]), float(consts[6])
    WGROUP = max(1, 4096 // b2)  # stochastic modes: blocks whose random words are made at once

    @numba.njit(**_NJ)
    def kernel(lo, hi, xf, xbits, dims, bdims, rule, ein, sin, ep, g, den, slut, e_int, mode, amax_rule, what,
               key, rbits, n, out_vals, out_codes, out_scales, obits):  # fmt: skip
        wb = np.empty(WGROUP * B2 if MODE >= SR else 0, np.uint32)  # random words of WGROUP blocks
        use_key = rbits.size == 0
        for blk in range(lo, hi):
            base = blk * B2
            woff = _group_words(wb, use_key, rbits, key, blk, lo, hi, B2, WGROUP, n) if MODE >= SR else 0
            am = _amax(xbits, np.uint64(base), B2, _I32(0))
            if am >= _INF32:
                _r1_blocks(xf, xbits, blk, blk + 1, dims, bdims, rule, ein, sin, ep, g, den, slut, e_int, mode,
                           amax_rule, what, key, rbits, n, out_vals, out_codes, out_scales, obits)  # fmt: skip
                continue
            sv = _amax_scale(am, den, S_MBITS, S_EMIN, S_MAXV, S_MINV)
            if MODE >= SR:
                _run64_sr(xf, out_vals, np.uint64(base), B2, 1.0, sv * g, MBITS, THR, MAXV, EINT, MODE == SRE, True, wb,
                          n, woff)  # fmt: skip
            else:
                _run64(xf, out_vals, np.uint64(base), B2, 1.0, sv * g, THR, MBITS, MAXV, EINT, MODE, _Q_DIV)
        return 0

    return kernel


def flat_supported(
    dims: tuple, bdims: tuple, amax_rule: bool, what: int, mode: int, float32_out: bool, n: int = 0
) -> bool:
    """Whether :func:`flat_kernel` (power-of-two rules) or :func:`flat_amax_kernel` takes a call
    that :func:`fast_supported` accepted (before the size threshold :data:`SPEC_MIN`)."""
    return (
        int(dims[4]) == 1 and int(bdims[0]) == 1 and int(dims[3]) % int(bdims[1]) == 0
        and int(what) == 0 and float32_out and (int(mode) < SR or n <= 32)
    )  # fmt: skip


def fast_supported(pe: tuple, e_mbits: int, rule: int, s_mbits: int, g: float, d_sig: int, mode: int, n: int,
                   width: int, words: bool = False, s_emin: int = 0) -> bool:  # fmt: skip
    """Whether the fast kernels compute this call exactly (else the general kernel runs).

    Float32 input; element formats that are signed, with zero, subnormals, ``-0`` (or integer
    elements, whose ``-0`` the kernel drops) and at least one mantissa bit; for the ``amax`` rule,
    the bit bound of the module docstring for the scale, the element midpoints and, with stochastic
    rounding, the ``2**-n`` steps -- except for a stochastic quantize whose blocks run along the
    last axis with ``n <= 32`` random bits (``words``, the random words of :func:`_run64_sr`), which
    decides by an fma for any tensor scale: the deterministic bound, element significands of at most
    20 bits, and ``step * div * 2**-32`` a float64 normal for the smallest scale (emin ``s_emin``)
    and step (C++ twin: ``block_div_word_fits``).
    """
    flags = pe[7]
    need = F_SUB | F_ZERO | F_SIGNED
    if width != 32 or (flags & need) != need or e_mbits < 1:
        return False
    if rule != RULE_AMAX:
        return True
    g_bits = _sig_bits(g)  # significant bits of the tensor scale
    den_bits = int(d_sig).bit_length()  # max_elem * g, odd significand
    div_bits = s_mbits + 1 + g_bits
    steps_bound = mode >= SR and not words  # the 2**-n steps are decision points of the division
    grid_bits = e_mbits + 2 + (n if steps_bound else 0)
    ok = max(24, s_mbits + 2 + den_bits) + 2 <= 52 and max(24, grid_bits + div_bits) + 2 <= 52
    if ok and mode >= SR and words:
        u_exp = (s_emin - s_mbits) + (math.frexp(g)[1] - 1) + (int(pe[1]) - e_mbits) - 32
        ok = e_mbits <= 20 and u_exp >= -1020
    return ok


def _sig_bits(g: float) -> int:
    """Significant bits of a positive float (its odd significand's length)."""
    num = float(g).as_integer_ratio()[0]
    return (num // (num & -num)).bit_length()


def recip_ok(e_mbits: int, s_mbits: int, g: float) -> bool:
    """Whether deterministic ``amax``-rule quotients may use a rounded reciprocal (:data:`_SNAP_TOL`):
    ``max(24, (e_mbits + 2) + (s_mbits + 1 + bits(g))) + 2 <= 44``."""
    return max(24, e_mbits + 2 + s_mbits + 1 + _sig_bits(g)) + 2 <= 44


def neg_zero_ok(pe: tuple, e_int: bool) -> bool:
    """Float elements must keep ``-0`` (the kernel copies the input's sign)."""
    return e_int or (pe[7] & F_NEGZERO) != 0


@functools.cache
def _scale_lut(ps: tuple, s_magbits: int) -> np.ndarray:
    """Float64 values of every code of a scale format (``amax`` rule)."""
    from ._float import decode_kernel

    nbits = s_magbits + (1 if ps[6] else 0)
    codes = np.arange(1 << nbits, dtype=np.int64)
    out = np.empty(codes.size, np.float64)
    decode_kernel(codes, out, tuple(np.int64(v) for v in ps), np.int64(s_magbits))
    return out


_EMPTY_LUT = np.empty(0, np.float64)
_EMPTY_BITS = np.empty(0, np.int32)


def _elem_consts(pe: tuple, e_magbits: int, recip: bool) -> tuple:
    """``(ep, maxv)``: the element constants of the fast kernels, and the element format's largest value."""
    mb, emin, _emax, max_mag, _inf, _nan, sign_mask, _flags = (int(v) for v in pe)
    ef = max_mag >> mb
    mf = max_mag & ((1 << mb) - 1)
    maxv = mf * 2.0 ** (emin - mb) if ef == 0 else ((1 << mb) + mf) * 2.0 ** (ef - 1 + emin - mb)
    ep = (
        np.int64(52 - mb), np.int64(emin + 1023), np.int64(mb), np.int64((1023 + 52 + emin - mb) << 52),
        2.0 ** (52 + emin - mb), maxv, np.int64(max_mag), np.int64(sign_mask),
        np.int64((1 << (int(e_magbits) + 1)) - 1), np.int64(emin), recip,
    )  # fmt: skip
    return ep, maxv


def run_fast64(xbits, dims, bdims, pe, e_magbits, e_int, e_info, ps, rule, mode, out_vals) -> None:
    """Run :func:`r1_kernel64` for a call that :func:`fast64_supported` accepted (``xbits`` the int64
    view of the float64 input; ``block_kernel``'s other arguments)."""
    ep, _maxv = _elem_consts(pe, e_magbits, False)
    per_block = int(bdims[0]) * int(bdims[1])
    run_parts(r1_kernel64, blocks_per_column(dims, bdims), xbits.view(np.float64), xbits,
              tuple(np.int64(v) for v in dims), tuple(np.int64(v) for v in bdims), np.int64(rule),
              tuple(np.int64(v) for v in e_info), ep, np.int64(ps[1]), np.int64(ps[2]), bool(e_int), np.int64(mode),
              out_vals, align=_CHUNK, min_part=PAR_MIN // per_block)  # fmt: skip


def run_fast(xbits, dims, bdims, pe, e_magbits, e_int, e_info, ps, s_magbits, rule, g, d_sig, d_exp, mode, key,
             rbits, n, what, out_vals, out_codes, out_scales) -> None:  # fmt: skip
    """Run the fast kernel for a call that :func:`fast_supported` accepted (``block_kernel``'s arguments)."""
    mb, emin, _emax, _max_mag, _inf, _nan, _sign_mask, _flags = (int(v) for v in pe)
    recip = int(rule) == RULE_AMAX and recip_ok(mb, int(ps[0]), g)
    ep, maxv = _elem_consts(pe, e_magbits, recip)
    ps_t = tuple(np.int64(v) for v in ps)
    z_s = 1 if int(ps[7]) & F_ZERO else 0
    sin = (np.int64(ps[1]), np.int64(ps[2]), np.int64(z_s), np.int64(ps[5]), *ps_t)
    ein = tuple(np.int64(v) for v in e_info)
    amax_rule = int(rule) == RULE_AMAX
    slut = _scale_lut(tuple(int(v) for v in ps), int(s_magbits)) if amax_rule else _EMPTY_LUT
    den = float(np.ldexp(np.float64(d_sig), int(d_exp)))
    obits = out_vals.view(np.int32) if out_vals.dtype == np.float32 else _EMPTY_BITS
    big_r = int(dims[4])
    nbl = blocks_per_column(dims, bdims)
    per_block = int(bdims[0]) * int(bdims[1])
    if big_r == 1:
        items, align, min_part = nbl, _CHUNK, PAR_MIN // per_block
    else:
        items, align, min_part = nbl * -(-big_r // _COLS), 1, PAR_MIN // (per_block * _COLS)
    kernel = fast_kernel
    if xbits.size >= SPEC_MIN and flat_supported(dims, bdims, amax_rule, what, mode, obits.size > 0, int(n)):
        if not amax_rule:
            consts = (float(maxv), *(int(v) for v in e_info), int(ps[1]), int(ps[2]), mb, emin)
            kernel = flat_kernel(int(rule), bool(e_int), int(bdims[1]), int(mode), consts)
        elif int(ps[7]) & F_SUB and z_s == 1:  # the scale format has zero and subnormals
            smax = float(slut[int(ps[3])])  # the largest finite scale (max_mag code)
            sconsts = (emin + 1023, mb, float(maxv), int(ps[0]), int(ps[1]), smax, float(slut[1]))
            kernel = flat_amax_kernel(bool(e_int), int(bdims[1]), int(mode), sconsts)
    run_parts(kernel, items, xbits.view(np.float32), xbits, tuple(np.int64(v) for v in dims),
              tuple(np.int64(v) for v in bdims), np.int64(rule), ein, sin, ep, float(g), den, slut, bool(e_int),
              np.int64(mode), amax_rule, np.int64(what), key, rbits, np.int64(n), out_vals, out_codes, out_scales,
              obits, align=align, min_part=min_part)  # fmt: skip
