"""Numba kernels for fixed-point conversion (HLS ``ap_fixed`` semantics), bit-exact with
``lowprec.reference._fixed``.

Every input is reduced to ``value = (-1)**neg * m * 2**s`` with ``m`` a uint64 (a float's 53-bit
significand or an integer code's magnitude). The floor ``f`` of the value in LSB units is kept as a
128-bit two's-complement pair ``(hi, lo)`` (``big`` flags values beyond any 64-bit format, whose low
bits are still exact), together with the facts rounding needs about the remainder: whether it is
nonzero, how it compares with 1/2 and ``floor(rem * 2**n)`` for stochastic rounding. Rounding adds 0
or 1 to ``f``; the overflow stage then works on W-bit patterns. Integer values of the modes are
those of :class:`lowprec._fixed_modes.FixedRounding` / ``FixedOverflow``.
"""

from __future__ import annotations

import functools
import math

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from ._threads import run_parts

__all__ = [
    "cast_codes_kernel",
    "decode_kernel",
    "encode_float_kernel",
    "quantize_float_kernel",
    "splitmix64",
]

_U0 = np.uint64(0)
_U1 = np.uint64(1)
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)

# rounding modes (FixedRounding)
_TRN, _TRN_ZERO, _RND, _RND_ZERO, _RND_MIN_INF, _RND_INF, _RND_CONV = 0, 1, 2, 3, 4, 5, 6
_TO_ODD, _SR, _SR_EQ, _TRN_INF = 7, 8, 9, 10
# overflow modes (FixedOverflow)
_WRAP, _SAT, _SAT_ZERO, _SAT_SYM, _WRAP_SM = 0, 1, 2, 3, 4


@numba.njit(inline="always", cache=True)
def splitmix64(z):
    """SplitMix64 output function in uint64 arithmetic (same bits as ``reference._random``)."""
    z = np.uint64(z)
    z = (z ^ (z >> np.uint64(30))) * _C1
    z = (z ^ (z >> np.uint64(27))) * _C2
    return z ^ (z >> np.uint64(31))


@numba.njit(inline="always", cache=True)
def _rand(i, key, mode, rbits, nb):
    """Random integer for flat element ``i``: 0 (mode 0), counter-based (1) or given (2)."""
    if mode == 1:
        z = splitmix64(key + np.uint64(i + 1) * _GOLDEN)
        return z >> np.uint64(64 - nb)
    if mode == 2:
        return np.uint64(rbits[i])
    return _U0


@numba.njit(inline="always", cache=True)
def _lowmask(k):
    """uint64 with the low ``k`` bits set (k >= 64: all)."""
    if k >= 64:
        return _ALL
    return (_U1 << np.uint64(k)) - _U1


@numba.njit(cache=True)
def _core(neg, m, s, w, signed, q, o, nsat, r, nb):
    """W-bit pattern (uint64) of ``(-1)**neg * m * 2**s`` rounded (``q``) and overflowed (``o``)."""
    lo = _U0
    hi = _U0
    big = False
    inexact = False
    gt = False
    tie = False
    t = _U0
    if m == _U0:
        pass
    elif s >= 0:
        if s >= 64:
            big = True
            if s < 128:
                hi = m << np.uint64(s - 64)
        else:
            lo = m << np.uint64(s)
            if s > 0:
                hi = m >> np.uint64(64 - s)
        if neg:
            borrow = _U1 if lo == _U0 else _U0
            lo = ~lo + _U1
            hi = ~hi + borrow
    else:
        k = -s
        if k < 64:
            qm = m >> np.uint64(k)
            rem = m & _lowmask(k)
        else:
            qm = _U0
            rem = m
        inexact = rem != _U0
        if k <= 64:
            half = _U1 << np.uint64(k - 1)
            rgt = rem > half
            rlt = rem < half
        else:
            rgt = False
            rlt = True
        fl = _U0
        ce = _U0
        if q == _SR:
            if k <= nb:
                fl = rem << np.uint64(nb - k)
                ce = fl
            else:
                d = k - nb
                fl = _U0 if d >= 64 else rem >> np.uint64(d)
                ce = fl + (_U1 if (rem & _lowmask(d)) != _U0 else _U0)
        if not neg:
            lo = qm
            gt = rgt
            tie = inexact and not rgt and not rlt
            t = fl
        elif inexact:
            lo = ~qm
            hi = _ALL
            gt = rlt
            tie = not rgt and not rlt
            t = (_U1 << np.uint64(nb)) - ce if q == _SR else _U0
        else:
            lo = _U0 - qm
            hi = _ALL if qm != _U0 else _U0
    # ---- rounding ------------------------------------------------------------------------------
    odd = (lo & _U1) == _U1
    if q == _TRN:
        up = False
    elif q == _TRN_ZERO:
        up = inexact and neg
    elif q == _TRN_INF:
        up = inexact
    elif q == _RND:
        up = gt or tie
    elif q == _RND_ZERO:
        up = gt or (tie and neg)
    elif q == _RND_MIN_INF:
        up = gt
    elif q == _RND_INF:
        up = gt or (tie and not neg)
    elif q == _RND_CONV:
        up = gt or (tie and odd)
    elif q == _TO_ODD:
        up = inexact and not odd
    elif q == _SR:
        up = t + r >= (_U1 << np.uint64(nb))
    else:
        up = inexact and r >= (_U1 << np.uint64(nb - 1))
    if w < 64:
        ld = ((lo >> np.uint64(w)) & _U1) == _U1
    else:
        ld = (hi & _U1) == _U1
    lo2 = lo
    hi2 = hi
    if up:
        lo2 = lo + _U1
        if lo2 == _U0:
            hi2 = hi + _U1
    # ---- overflow ------------------------------------------------------------------------------
    mask = _lowmask(w)
    msb = _U1 << np.uint64(w - 1)
    cmax = msb - _U1
    if big:
        in_range = False
    elif signed:
        in_range = (hi2 == _U0 and lo2 <= cmax) or (hi2 == _ALL and lo2 >= ~cmax)
    else:
        in_range = hi2 == _U0 and lo2 <= mask
    v = lo2 & mask
    if in_range:
        if o == _SAT_SYM and signed and hi2 == _ALL and lo2 == ~cmax:
            return msb | _U1
        return v
    if nsat > 1:
        mid = ((_U1 << np.uint64(nsat - 1)) - _U1) << np.uint64(w - nsat)
    else:
        mid = _U0
    if o == _WRAP:
        if nsat > 0:
            if signed:
                v = (v & ~mid) if neg else (v | mid)
                v = (v | msb) if neg else (v & ~msb)
            else:
                v = v | (_lowmask(nsat) << np.uint64(w - nsat))
    elif o == _SAT or o == _SAT_SYM:
        if signed:
            if neg:
                v = msb | (_U1 if o == _SAT_SYM else _U0)
            else:
                v = cmax
        else:
            v = _U0 if neg else mask
    elif o == _SAT_ZERO:
        v = _U0
    else:  # WRAP_SM
        ro = ((v >> np.uint64(w - 1)) & _U1) == _U1
        if nsat == 0:
            if ld != ro:
                v = ~v & mask
                v = (v | msb) if ld else (v & ~msb)
        else:
            if nsat == 1:
                if neg != ro:
                    v = ~v & mask
            else:
                lno = ((v >> np.uint64(w - nsat)) & _U1) == _U1
                if lno == neg:
                    v = ~v & mask
                v = (v & ~mid) if neg else (v | mid)
            v = (v | msb) if neg else (v & ~msb)
    return v & mask


@numba.njit(inline="always", cache=True)
def _sign_extend(p, w, signed):
    if signed and w < 64 and ((p >> np.uint64(w - 1)) & _U1) == _U1:
        return p | ~_lowmask(w)
    return p


@numba.njit(cache=True)
def _split(xv, fb):
    """(neg, m, s) with xv * 2**fb = (-1)**neg * m * 2**s; xv finite."""
    neg = xv < 0.0
    a = abs(xv)
    if a == 0.0:
        return neg, _U0, np.int64(0)
    mant, ex = math.frexp(a)
    return neg, np.uint64(math.ldexp(mant, 53)), np.int64(ex - 53 + fb)


@numba.njit(cache=True)
def _code_one(xv, w, fb, signed, q, o, nsat, r, nb):
    """Code of one non-NaN float (sign-extended two's complement in a uint64) by the exact rule;
    an infinity overflows."""
    if math.isinf(xv):
        p = _core(xv < 0.0, _U1, np.int64(4096), w, signed, q, o, nsat, r, nb)
    else:
        neg, m, s = _split(xv, fb)
        p = _core(neg, m, s, w, signed, q, o, nsat, r, nb)
    return _sign_extend(p, w, signed)


@numba.njit(cache=True)
def _value_one(xv, w, fb, signed, q, o, nsat, r, nb):
    """Rounded value of one float by the exact rule (float64). NaN stays NaN, as does an infinity
    under a wrapping mode (which has no meaningful result)."""
    if math.isnan(xv):
        return xv
    if math.isinf(xv) and (o == _WRAP or o == _WRAP_SM):
        return np.nan
    p = _code_one(xv, w, fb, signed, q, o, nsat, r, nb)
    val = np.float64(np.int64(p)) if signed else np.float64(p)
    return math.ldexp(val, -fb)


@numba.njit(cache=True, nogil=True)
def _cast_codes_range(lo, hi, codes, out, shift, w, signed, q, o, nsat, key, rmode, rbits, nb):
    """:func:`cast_codes_kernel` for elements ``[lo, hi)``."""
    for i in range(lo, hi):
        c = np.int64(codes[i])
        r = _rand(i, key, rmode, rbits, nb)
        neg = c < 0
        u = np.uint64(c)
        m = (~u + _U1) if neg else u
        p = _core(neg, m, np.int64(shift), w, signed, q, o, nsat, r, nb)
        out[i] = _sign_extend(p, w, signed)
    return 0, 0


def cast_codes_kernel(codes, out, shift, w, signed, q, o, nsat, key, rmode, rbits, nb) -> None:
    """Cast int64 codes scaled by ``2**shift`` (``shift = F_dst - F_src``) to the target format,
    by the exact rule, on threads."""
    _parallel(_cast_codes_range, codes.size, codes, out, np.int64(shift), np.int64(w), bool(signed), np.int64(q),
              np.int64(o), np.int64(nsat), key, np.int64(rmode), rbits, np.int64(nb))  # fmt: skip


# ---- array kernels: a float fast path per chunk, the exact rule for the rare rest -----------------
#
# With S = 2**F a normal float64, v = x * S is exact unless it underflows. For |v| < 2**52 the
# rounded integer R is then a few exact float64 operations (floor, ceil, trunc, rint, and
# remainders compared with 1/2, which are exact or, where 1 - |v| rounds, on the right side of
# 1/2). An underflowed v keeps its sign and stays below 1/2, so it rounds alike unless it became 0
# (checked where F < 0). R (|R| <= 2**52) goes through the overflow mode in float64 too: clamping,
# wrapping by R - 2**W * floor((R - cmin) / 2**W) (exact for W <= 53) or zeroing. Elements outside
# all this (|v| >= 2**52, NaN, infinities, a wrapped result of more than 53 bits, N saturation
# bits, WRAP_SM out of range) are flagged and redone by the exact rule (:func:`_core`) while their
# chunk is in cache.
#
# Float32 inputs of formats with W <= 24 and 0 <= F <= 100 in deterministic modes run the same
# loop in float32 (:func:`f32_lanes`: twice the lanes), with the limit |v| < 2**22 instead of 2**52.
#
# Kernels are compiled per rounding-mode group and overflow kind (constants, so each fast loop is
# a dozen vector instructions per 4 elements), serially: a parallel (prange) kernel took 4x longer
# to compile, and :func:`_parallel` splits large arrays over threads instead (the kernels release
# the GIL).

_LIM = 2.0**52
_LIM32 = 2.0**22  # the limit on |x * 2**F| of the float32 lanes (f32_lanes)
_CHUNK = 4096
# overflow kinds of the fast path: clamp (SAT, SAT_SYM), float wrap (WRAP, N = 0, W <= 53), other
_K_CLAMP, _K_WRAP, _K_OTHER = 0, 1, 2
# rounding-mode groups of the fast path beyond the FixedRounding values 0..10 of single modes
_G_MAG = 11  # RND_ZERO, RND_INF: rounding the magnitude, ties down or up
_G_STOCH = 12  # STOCHASTIC, STOCHASTIC_EQUAL


@intrinsic
def _bits_to_f64(typingctx, u):  # type: ignore[no-untyped-def]
    """The float64 whose bit pattern is the uint64 ``u`` (a bit cast, emitted in place)."""
    if not isinstance(u, types.Integer) or u.bitwidth != 64:
        return None

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(u), codegen


@numba.njit(inline="always", cache=True)
def _u52_to_f64(r):
    """``r`` (a uint64 below 2**52) as a float64, exactly, by placing it in the significand of 2**52:
    AVX2 has no conversion of 64-bit integers, which would keep the loop from vectorising."""
    return _bits_to_f64(np.uint64(0x4330000000000000) | r) - 4503599627370496.0


@numba.njit(inline="always", cache=True)
def _fast(xv, group, clamp, r, c, fl):
    """(handled, rounded and overflowed integer R as a float, -0 made +0) of ``xv`` (float64, or
    float32 in the float32 lanes).

    ``group`` (a rounding mode or ``_G_*``) and ``clamp`` (the overflow kind is ``_K_CLAMP``) are
    compile-time constants;
    ``c`` = (S, cmin, cmax, lo_c, hi_c, 2**W, 2**-W, 2**n, limit on |v|, 1, 1/2, 0), all float64
    or, for the float32 lanes of :func:`_setup`, all float32 (then ``xv`` is a float32 and the whole
    computation stays in float32: the literals come from ``c``), and ``fl`` = (check for v
    underflowing to 0, ties up (_G_MAG) / STOCHASTIC_EQUAL (_G_STOCH), out of range -> 0) as bools
    (see :func:`_setup`); ``r`` the random integer of stochastic modes.

    The clamp (``_K_CLAMP``, the saturating policies) has a loop of its own; the other two kinds
    share one: every element goes through the float wrap and the range check, and ``2**-W = 0``
    in ``c`` turns the wrap off for ``_K_OTHER`` (it subtracts 0). That costs two compilations per
    rounding group instead of three, at a few vector operations per element of the wrap.
    """
    scale, cmin, cmax, lo_c, hi_c, two_w, inv_two_w, p2n, lim, one, half, zero = c
    under, alt, zero_oor = fl
    v = xv * scale
    if group == _TRN:
        rr = np.floor(v)
    elif group == _TRN_INF:
        rr = np.ceil(v)
    elif group == _TRN_ZERO:
        rr = np.trunc(v)
    elif group == _RND_CONV:
        rr = np.rint(v)  # ties to even, the default floating-point rounding
    elif group == _RND:
        fl_ = np.floor(v)
        rr = fl_ + (one if v - fl_ >= half else zero)
    elif group == _RND_MIN_INF:
        cl = np.ceil(v)
        rr = cl - (one if cl - v >= half else zero)
    elif group == _TO_ODD:
        fl_ = np.floor(v)
        h = fl_ * half
        rr = fl_ + (one if (v != fl_) & (np.floor(h) == h) else zero)
    else:  # in magnitude: RND_ZERO, RND_INF, stochastic
        a = abs(v)
        fa = np.floor(a)
        ra = a - fa  # exact: the fractional part of a float
        neg = v < zero
        if group == _G_MAG:
            up = (ra > half) | ((ra == half) & alt)
        elif not alt:  # STOCHASTIC
            # in float64, exactly: r < 2**n <= 2**52 and floor(rem * 2**n) < 2**n, so every operand
            # and the sum are integers below 2**53 (n > 52 takes the exact rule: see _setup)
            sc = ra * p2n  # exact
            rf = _u52_to_f64(r)
            up_pos = np.floor(sc) + rf >= p2n  # floor(rem * 2**n) + r >= 2**n
            up_neg = (ra != 0.0) & (rf < np.ceil(sc))  # not (2**n - ceil(...) + r >= 2**n)
            up = up_neg if neg else up_pos
        else:  # STOCHASTIC_EQUAL
            up = (ra != 0.0) & ((_u52_to_f64(r) >= p2n * 0.5) != neg)
        m = fa + (one if up else zero)
        rr = -m if neg else m
    ok = (abs(v) < lim) & ((v != zero) | (xv == zero) | (not under))
    if clamp:
        rr = lo_c if rr < lo_c else rr
        rr = hi_c if rr > hi_c else rr
    else:
        rr = rr - two_w * np.floor((rr - cmin) * inv_two_w)  # the wrap: inv_two_w = 0 unless _K_WRAP
        in_range = (rr >= cmin) & (rr <= cmax)  # always after an exact wrap
        rr = zero if zero_oor & (not in_range) else rr
        ok = ok & (in_range | zero_oor)
    return ok, rr + zero


@numba.njit(cache=True, nogil=True)
def _fix_codes(start, n, bad, x, out, w, fb, signed, q, o, nsat, key, rmode, rbits, nb):
    """Codes of the flagged elements ``start + j`` (``bad[j]``, j < n) by the exact rule;
    returns (#NaN, #Inf under a wrapping mode), which get code 0."""
    nans = 0
    infs = 0
    wrapping = o == _WRAP or o == _WRAP_SM
    for j in range(n):
        if not bad[j]:
            continue
        i = start + j
        xv = np.float64(x[i])
        if math.isnan(xv):
            nans += 1
            out[i] = _U0
        elif wrapping and math.isinf(xv):
            infs += 1
            out[i] = _U0
        else:
            out[i] = _code_one(xv, w, fb, signed, q, o, nsat, _rand(i, key, rmode, rbits, nb), nb)
    return nans, infs


@numba.njit(cache=True, nogil=True)
def _fix_values(start, n, bad, x, out, w, fb, signed, q, o, nsat, key, rmode, rbits, nb):
    """Values of the flagged elements ``start + j`` (``bad[j]``, j < n) by the exact rule."""
    for j in range(n):
        if bad[j]:
            i = start + j
            xv = np.float64(x[i])
            out[i] = _value_one(xv, w, fb, signed, q, o, nsat, _rand(i, key, rmode, rbits, nb), nb)
    return 0, 0


@functools.cache
def _kernels(group: int, clamp: bool, rmode: int) -> tuple:
    """``(encode, quantize)`` for one rounding-mode group, clamping or not (see :func:`_fast`) and
    source of random bits (``rmode`` as :func:`_rand`; 0 for the deterministic groups).

    Each runs over elements ``[lo, hi)`` in chunks of ``_CHUNK``: the fast loop writes every
    element and flags those it cannot handle; :func:`_fix_codes` / :func:`_fix_values` redo the
    flagged ones of a chunk, called only when there are any. The random source is a compile-time
    constant, so the loop has no branch on it and vectorises.
    """
    GROUP = group
    CLAMP = bool(clamp)
    STOCH = group == _G_STOCH
    RMODE = np.int64(rmode if STOCH else 0)

    @numba.njit(cache=True, nogil=True)
    def encode(lo, hi, x, out, c, fl, w, fb, signed, q, o, nsat, key, rmode, rbits, nb):
        """Codes of ``x[lo:hi]`` into ``out`` (uint64, sign-extended); returns (#NaN, #Inf under a wrap)."""
        bad = np.empty(_CHUNK, np.uint8)
        nans = 0
        infs = 0
        for start in range(lo, hi, _CHUNK):
            n = min(_CHUNK, hi - start)
            xs = x[start : start + n]  # views: indices from 0 need no wraparound code (vectorises)
            os = out[start : start + n]
            nslow = 0
            for j in range(n):
                r = _rand(start + j, key, RMODE, rbits, nb) if STOCH else _U0
                ok, rr = _fast(xs[j] * c[9], GROUP, CLAMP, r, c, fl)  # c[9] = 1 in c's float type
                os[j] = np.uint64(np.int64(rr))
                bad[j] = 0 if ok else 1
                nslow += 0 if ok else 1
            if nslow:
                a, b = _fix_codes(start, n, bad, x, out, w, fb, signed, q, o, nsat, key, rmode, rbits, nb)
                nans += a
                infs += b
        return nans, infs

    @numba.njit(cache=True, nogil=True)
    def quantize(lo, hi, x, out, c, fl, inv_scale, w, fb, signed, q, o, nsat, key, rmode, rbits, nb):
        """Rounded values of ``x[lo:hi]`` into ``out`` (its dtype)."""
        bad = np.empty(_CHUNK, np.uint8)
        for start in range(lo, hi, _CHUNK):
            n = min(_CHUNK, hi - start)
            xs = x[start : start + n]
            os = out[start : start + n]
            nslow = 0
            for j in range(n):
                r = _rand(start + j, key, RMODE, rbits, nb) if STOCH else _U0
                ok, rr = _fast(xs[j] * c[9], GROUP, CLAMP, r, c, fl)  # c[9] = 1 in c's float type
                os[j] = rr * inv_scale  # exact: |R| <= 2**53 and 2**-F normal
                bad[j] = 0 if ok else 1
                nslow += 0 if ok else 1
            if nslow:
                _fix_values(start, n, bad, x, out, w, fb, signed, q, o, nsat, key, rmode, rbits, nb)
        return 0, 0

    return encode, quantize


def _parallel(kernel: object, size: int, *args: object) -> tuple[int, int]:
    """Run ``kernel(lo, hi, *args)`` over ``[0, size)`` on threads (:func:`run_parts`); sums the
    ``(#NaN, #Inf)`` pairs."""
    results = run_parts(kernel, size, *args, align=_CHUNK)
    return sum(res[0] for res in results), sum(res[1] for res in results)


def _setup(
    w: int, fb: int, signed: bool, q: int, o: int, nsat: int, nb: int, wide_input: bool, rmode: int
) -> tuple:
    """((encode, quantize), c, fl) of :func:`_fast` for a format, modes, input dtype and random source."""
    w, fb, q, o, nsat = int(w), int(fb), int(q), int(o), int(nsat)
    cmin = -(1 << (w - 1)) if signed else 0
    cmax = (1 << (w - 1)) - 1 if signed else (1 << w) - 1
    lo_c = cmin
    if o == _SAT_SYM and signed and w > 1:
        lo_c = -cmax  # the minimum code becomes -max (a 1-bit format keeps its minimum)
    if o in (_SAT, _SAT_SYM):
        kind = _K_CLAMP
    elif o == _WRAP and nsat == 0 and w <= 53:  # the float wrap is exact
        kind = _K_WRAP
    else:
        kind = _K_OTHER
    group = {_RND_ZERO: _G_MAG, _RND_INF: _G_MAG, _SR: _G_STOCH, _SR_EQ: _G_STOCH}.get(q, q)
    # formats whose LSB or range lies outside the normal float64 exponents: S = 0 sends every
    # nonzero input to the exact rule (zero is handled: code 0 in every mode)
    scale = 2.0**fb if -1022 <= fb <= 1022 else 0.0
    # x * 2**F can underflow to 0 only for F < 0 (float32 inputs: only for F < -900)
    under = scale == 0.0 or fb < (0 if wide_input else -900)
    c = (
        scale,
        float(cmin),
        float(cmax),
        float(lo_c),
        float(cmax),
        2.0**w,
        2.0**-w if kind == _K_WRAP else 0.0,
        2.0 ** int(nb),
        _LIM if group != _G_STOCH or nb <= 52 else 0.0,  # more random bits: all by the exact rule
        1.0,
        0.5,
        0.0,
    )
    fl = (under, q in (_RND_INF, _SR_EQ), o == _SAT_ZERO)
    if not wide_input and f32_lanes(w, fb, group, kind):
        c = tuple(np.float32(v) for v in (*c[:8], _LIM32, 1.0, 0.5, 0.0))
    return _kernels(group, kind == _K_CLAMP, int(rmode)), c, fl


def f32_lanes(w: int, fb: int, group: int, kind: int) -> bool:
    """Whether a float32 input runs the fast loop in float32 arithmetic (8 lanes per AVX2
    register instead of 4). Exact when the LSB scale ``2**F`` and its inverse are normal float32s
    with ``F >= 0`` (so ``x * 2**F`` neither underflows nor loses bits: it is flagged when it
    overflows), the codes fit float32's 24-bit significand (``W <= 24``; ``W <= 22`` for the float
    wrap, whose ``R - cmin`` must stay below ``2**23``), ``|v| < 2**22`` (:data:`_LIM32`: every
    floor, ceil, remainder and halving is then exact) and the mode is deterministic (the stochastic
    comparisons need 64-bit integers)."""
    return 0 <= fb <= 100 and w <= (22 if kind == _K_WRAP else 24) and group != _G_STOCH


def _call(which: int, x: np.ndarray, out: np.ndarray, w: int, fb: int, signed: bool, q: int, o: int, nsat: int,
          key: np.uint64, rmode: int, rbits: np.ndarray, nb: int) -> tuple[int, int]:  # fmt: skip
    kernels, c, fl = _setup(w, fb, signed, q, o, nsat, nb, x.dtype == np.float64, rmode)
    inv_scale = math.ldexp(1.0, -int(fb))
    args = (x, out, c, fl) + (
        ((np.float32(inv_scale) if isinstance(c[0], np.float32) else inv_scale),) if which else ()
    )
    args += (np.int64(w), np.int64(fb), bool(signed), np.int64(q), np.int64(o), np.int64(nsat), np.uint64(key),
             np.int64(rmode), rbits, np.int64(nb))  # fmt: skip
    nans, infs = _parallel(kernels[which], x.size, *args)
    return int(nans), int(infs)


def encode_float_kernel(
    x: np.ndarray, out: np.ndarray, w: int, fb: int, signed: bool, q: int, o: int, nsat: int,
    key: np.uint64, rmode: int, rbits: np.ndarray, nb: int,
) -> tuple[int, int]:  # fmt: skip
    """Codes of float32/float64 ``x`` (1-d, contiguous) into ``out`` (uint64 holding sign-extended
    two's complement), bit-exact with the reference.

    ``q``/``o`` are :class:`FixedRounding`/:class:`FixedOverflow` values, ``nsat`` the saturation
    bits; stochastic modes draw ``nb``-bit integers from the counter stream of ``key``
    (``rmode`` 1) or take ``rbits`` (uint64, ``rmode`` 2). NaN, and an infinity under a wrapping
    mode, get code 0 and are counted.

    Returns
    -------
    tuple
        (number of NaN inputs, number of infinite inputs under WRAP / WRAP_SM).
    """
    return _call(0, x, out, w, fb, signed, q, o, nsat, key, rmode, rbits, nb)


def quantize_float_kernel(
    x: np.ndarray, out: np.ndarray, w: int, fb: int, signed: bool, q: int, o: int, nsat: int,
    key: np.uint64, rmode: int, rbits: np.ndarray, nb: int,
) -> None:  # fmt: skip
    """Rounded values of float32/float64 ``x`` (1-d, contiguous) into ``out`` (its dtype), bit-exact
    with the reference (the float64 value of the code, then ``out``'s dtype). NaN stays NaN, as
    does an infinity under a wrapping mode. Arguments as :func:`encode_float_kernel`."""
    _call(1, x, out, w, fb, signed, q, o, nsat, key, rmode, rbits, nb)


@numba.njit(cache=True, nogil=True)
def _decode_range(lo, hi, codes, out, fb, inv, signed):
    """Values of ``codes[lo:hi]`` into ``out``: ``float64(code) * inv`` with ``inv = 2**-fb``, or
    ``ldexp`` where ``inv`` is 0 (2**-fb not normal)."""
    cs = codes[lo:hi]  # views indexed from 0 (see _kernels)
    os = out[lo:hi]
    if inv == 0.0:
        for j in range(hi - lo):
            val = np.float64(np.int64(cs[j])) if signed else np.float64(np.uint64(cs[j]))
            os[j] = math.ldexp(val, -fb)
    elif signed:
        for j in range(hi - lo):
            os[j] = np.float64(np.int64(cs[j])) * inv
    else:
        for j in range(hi - lo):
            os[j] = np.float64(np.uint64(cs[j])) * inv
    return 0, 0


def decode_kernel(codes: np.ndarray, out: np.ndarray, fb: int, signed: bool) -> None:
    """Values of ``codes`` (1-d, any integer dtype; for signed formats uint64 may hold sign-extended
    two's complement) into ``out`` (float64, or float32: the float64 value rounded once more): the
    nearest float64 of ``code * 2**-fb``.

    With 2**-fb normal, ``float64(code) * 2**-fb`` is that (one rounding, of the code, and the
    value of a nonzero code is then normal); otherwise ``ldexp`` (where a code has over 53 bits,
    its value is normal there too).
    """
    fb = int(fb)
    inv = math.ldexp(1.0, -fb) if -1022 <= fb <= 1022 else 0.0
    _parallel(_decode_range, codes.size, codes, out, np.int64(fb), inv, bool(signed))
