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

import math

import numba
import numpy as np

__all__ = ["cast_codes_kernel", "encode_float_kernel", "quantize_float_kernel", "splitmix64"]

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


@numba.njit(parallel=True, cache=True)
def encode_float_kernel(x, out, w, fb, signed, q, o, nsat, key, rmode, rbits, nb):
    """Codes of the finite floats ``x`` (sign-extended two's complement in uint64) into ``out``.

    Infinities overflow (callers reject them for wrapping modes); NaN must not occur.
    """
    for i in numba.prange(x.size):
        xv = np.float64(x[i])
        r = _rand(i, key, rmode, rbits, nb)
        if math.isinf(xv):
            p = _core(xv < 0.0, _U1, np.int64(4096), w, signed, q, o, nsat, r, nb)
        else:
            neg, m, s = _split(xv, fb)
            p = _core(neg, m, s, w, signed, q, o, nsat, r, nb)
        out[i] = _sign_extend(p, w, signed)


@numba.njit(parallel=True, cache=True)
def quantize_float_kernel(x, out, w, fb, signed, q, o, nsat, key, rmode, rbits, nb):
    """Rounded values of ``x`` into ``out`` (its dtype); NaN stays NaN, as does an infinity under
    a wrapping mode (which has no meaningful result)."""
    for i in numba.prange(x.size):
        xv = np.float64(x[i])
        r = _rand(i, key, rmode, rbits, nb)
        if math.isnan(xv):
            out[i] = xv
            continue
        if math.isinf(xv):
            if o == _WRAP or o == _WRAP_SM:
                out[i] = np.nan
                continue
            p = _core(xv < 0.0, _U1, np.int64(4096), w, signed, q, o, nsat, r, nb)
        else:
            neg, m, s = _split(xv, fb)
            p = _core(neg, m, s, w, signed, q, o, nsat, r, nb)
        p = _sign_extend(p, w, signed)
        if signed:
            val = np.float64(np.int64(p))
        else:
            val = np.float64(p)
        out[i] = math.ldexp(val, -fb)


@numba.njit(parallel=True, cache=True)
def cast_codes_kernel(codes, out, shift, w, signed, q, o, nsat, key, rmode, rbits, nb):
    """Cast int64 codes scaled by ``2**shift`` (``shift = F_dst - F_src``) to the target format."""
    for i in numba.prange(codes.size):
        c = np.int64(codes[i])
        r = _rand(i, key, rmode, rbits, nb)
        neg = c < 0
        u = np.uint64(c)
        m = (~u + _U1) if neg else u
        p = _core(neg, m, np.int64(shift), w, signed, q, o, nsat, r, nb)
        out[i] = _sign_extend(p, w, signed)


@numba.njit(parallel=True, cache=True)
def decode_kernel(codes, out, fb, signed):
    """Float64 values of codes (uint64 holding sign-extended two's complement for signed formats)."""
    for i in numba.prange(codes.size):
        c = np.uint64(codes[i])
        val = np.float64(np.int64(c)) if signed else np.float64(c)
        out[i] = math.ldexp(val, -fb)
