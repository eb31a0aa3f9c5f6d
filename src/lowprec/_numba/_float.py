"""Numba kernels rounding float32/float64 arrays to any float format, by integer bit operations.

One pass over memory, parallel over elements. The format arrives as the integers of
:class:`lowprec._params.FloatParams`; the rounding mode and overflow policy are integers of the
``Rounding``/``Overflow`` enums. Everything follows the contract in ``docs/development.md``.
"""

from __future__ import annotations

import functools
import math

import numba
import numpy as np

from ._random import sr_bits
from ._threads import CHUNK, run_parts

# flag bits of FloatParams.flags (kept in sync with lowprec._params)
F_SUB = 1
F_ZERO = 2
F_SIGNED = 4
F_NEGZERO = 8
F_INF = 16
F_NAN = 32
F_NANSIGN = 64

# rounding modes and overflow policies (lowprec.rounding)
RNE, RNA, RNZ, RTZ, RTP, RTN, RTO, SR, SRE = 0, 1, 2, 3, 4, 5, 6, 7, 8
OV_SAT, OV_INF, OV_NAN = 0, 1, 2

_NJ = {"cache": True, "nogil": True}


@numba.njit(inline="always", **_NJ)
def _msb(v: np.int64) -> np.int64:
    """Index of the highest set bit of 0 < v < 2**63, without loops or branches.

    (A data-dependent loop here, even on a rarely taken path, made the whole kernel 4x slower.)
    """
    k = np.int64(0)
    b = np.int64(32) if (v >> 32) != 0 else np.int64(0)
    v >>= b
    k += b
    b = np.int64(16) if (v >> 16) != 0 else np.int64(0)
    v >>= b
    k += b
    b = np.int64(8) if (v >> 8) != 0 else np.int64(0)
    v >>= b
    k += b
    b = np.int64(4) if (v >> 4) != 0 else np.int64(0)
    v >>= b
    k += b
    b = np.int64(2) if (v >> 2) != 0 else np.int64(0)
    v >>= b
    k += b
    return k + (v >> 1)


@numba.njit(inline="always", **_NJ)
def _round_up(mode, rem, half, odd, neg, d, r, n) -> bool:
    """Whether an inexact value rounds away from zero: ``rem`` is the discarded part, ``half`` its
    midpoint, ``odd`` the parity of the truncated code, ``d`` = (discarded bits) - n for SR."""
    if mode == RNE:
        return (rem > half) | ((rem == half) & odd)
    if mode == RNA:
        return rem >= half
    if mode == RNZ:
        return rem > half
    if mode == RTZ:
        return False
    if mode == RTP:
        return not neg
    if mode == RTN:
        return neg
    if mode == RTO:
        return not odd
    if mode == SR:
        frac = (rem >> min(d, np.int64(62))) if d >= 0 else (rem << min(-d, np.int64(62)))
        return frac + r >= (np.int64(1) << n)
    return r >= (np.int64(1) << (n - 1))


@numba.njit(inline="always", **_NJ)
def encode_one(
    a: np.int64,
    neg: bool,
    in_m: np.int64,
    in_bias: np.int64,
    in_expmask: np.int64,
    mbits: np.int64,
    emin: np.int64,
    emax: np.int64,
    max_mag: np.int64,
    inf_mag: np.int64,
    nan_code: np.int64,
    sign_mask: np.int64,
    flags: np.int64,
    mode: np.int64,
    ovf: np.int64,
    r: np.int64,
    n: np.int64,
) -> np.int64:
    """Code of one input given by its magnitude bits ``a`` and sign (as an int64 bit pattern).

    A NaN input of a format without NaN returns 0; the array kernels detect that case themselves.
    """
    # Written with few data-dependent branches: the common path (finite, normal input) uses
    # selects only, so random signs and remainders cost no branch mispredictions.
    one = np.int64(1)
    in_mmask = (one << in_m) - 1
    exf = a >> in_m
    special = exf == in_expmask
    is_nan = special and (a & in_mmask) != 0
    is_inf = special and (a & in_mmask) == 0
    zero_in = a == 0
    sub_in = exf == 0  # zero or subnormal input
    sig = (a & in_mmask) | (np.int64(0) if sub_in else (one << in_m))
    lsb = (1 - in_bias - in_m) if sub_in else (exf - in_bias - in_m)
    ex = (lsb + _msb(sig | 1)) if sub_in else (exf - in_bias)
    sub = (flags & F_SUB) != 0
    has_zero = (flags & F_ZERO) != 0
    below = ex < emin
    qexp = (emin - mbits if sub else emin) if below else ex - mbits
    s = qexp - lsb
    s_c = min(max(s, np.int64(0)), np.int64(62))
    t = (sig << min(-s, np.int64(62))) if s <= 0 else (sig >> s_c)
    rem = sig & ((one << s_c) - 1)
    half = (one << s_c) >> 1
    z = one if has_zero else np.int64(0)
    lo_norm = ((ex - emin + z) << mbits) + t - (one << mbits)
    lo = (t if sub else np.int64(0)) if below else lo_norm
    hi = (one << mbits) if (below and not sub) else lo + 1
    inexact = rem != 0
    odd = (lo & 1) == 1
    up = _round_up(mode, rem, half, odd, neg, s - n, r, n)
    up = up & inexact & (s > 0)
    mag = hi if up else lo
    # ---- specials, overflow, sign: all selects (the mode/policy tests are loop-invariant) ----
    has_inf = (flags & F_INF) != 0
    signed = (flags & F_SIGNED) != 0
    mag = (max_mag + 1) if ex > emax + 1 else mag  # beyond the exponent range: overflow in any mode
    mag = np.int64(0) if ((below & (not has_zero)) | zero_in) else mag  # no zero: below min -> min
    over = is_inf | ((not is_nan) & (mag > max_mag))
    tz = (mode == RTZ) | (mode == RTO) | ((mode == RTN) & (not neg)) | ((mode == RTP) & neg)
    sat = over & ((ovf == OV_SAT) | (tz & (not is_inf)))
    to_inf = over & (not sat) & has_inf & (is_inf | (ovf == OV_INF))
    nan = is_nan | (over & (not sat) & (not to_inf))
    mag = max_mag if sat else mag
    mag = inf_mag if to_inf else mag
    # unsigned formats: a negative value that rounds to zero is +0, others NaN (0 under saturate)
    uneg = neg & (not signed) & (not nan)
    bad_neg = uneg & (not ((mag == 0) & (not is_inf) & has_zero))
    # formats without zero: zero is NaN (the minimum under saturate)
    zz = zero_in & (not has_zero) & (not nan) & (not uneg)
    fix = bad_neg | zz
    mag = np.int64(0) if (fix & (ovf == OV_SAT)) else mag
    nan = nan | (fix & (ovf != OV_SAT))
    neg = neg & signed
    nan_c = nan_code | (sign_mask if (neg & ((flags & F_NANSIGN) != 0)) else np.int64(0))
    keep_sign = neg & ((mag != 0) | ((flags & F_NEGZERO) != 0))
    code = mag | (sign_mask if keep_sign else np.int64(0))
    if nan:
        code = nan_c if (flags & F_NAN) != 0 else np.int64(0)
    return code


@numba.njit(inline="always", **_NJ)
def decode_one(
    code: np.int64,
    mbits: np.int64,
    emin: np.int64,
    max_mag: np.int64,
    inf_mag: np.int64,
    nan_code: np.int64,
    sign_mask: np.int64,
    flags: np.int64,
    mag_bits: np.int64,
) -> np.float64:
    """Float64 value of a code (exact)."""
    neg = sign_mask != 0 and (code & sign_mask) != 0
    mag = code & ((np.int64(1) << mag_bits) - 1)
    sgn = -1.0 if neg else 1.0
    if sign_mask != 0 and code == sign_mask and nan_code == sign_mask:
        return math.copysign(np.nan, -1.0)  # fnuz / P3109 signed: NaN is the -0 code
    if (flags & F_INF) and mag == inf_mag:
        return sgn * np.inf
    if mag > max_mag:
        return math.copysign(np.nan, sgn)  # NaN codes (and codes above an emax override)
    ef = mag >> mbits
    mf = mag & ((np.int64(1) << mbits) - 1)
    if (flags & F_ZERO) and ef == 0:
        return sgn * np.ldexp(np.float64(mf), emin - mbits)
    z = np.int64(1) if flags & F_ZERO else np.int64(0)
    return sgn * np.ldexp(np.float64((np.int64(1) << mbits) + mf), ef - z + emin - mbits)


@numba.njit(**_NJ)
def encode_slow(a, neg, in_m, in_bias, in_expmask, mbits, emin, emax, max_mag, inf_mag, nan_code, sign_mask,
                flags, mode, ovf, r, n):  # fmt: skip
    """:func:`encode_one` as a real call: the kernels take it for rare elements only, and keeping its
    code out of their loops lets the common path stay small (about 3x faster)."""
    return encode_one(
        a, neg, in_m, in_bias, in_expmask, mbits, emin, emax, max_mag, inf_mag, nan_code,
        sign_mask, flags, mode, ovf, r, n,
    )  # fmt: skip


@numba.njit(inline="always", **_NJ)
def fast_round(a, neg, in_m, in_bias, in_expmask, mbits, emin, emax, max_mag, flags, mode, r, n) -> tuple:
    """The common case in a few integer operations: a finite normal input whose exponent lies in
    the target's normal range, rounded by shifting the input's own bits (the carry runs into the
    exponent). Returns (handled, magnitude code, magnitude bits of the result in the input format);
    anything else (subnormal targets, overflow, specials, unsigned negatives) is not handled.
    """
    one = np.int64(1)
    exf = a >> in_m
    ex = exf - in_bias
    ok = (
        (exf != 0)
        & (exf != in_expmask)
        & (ex >= emin)
        & (ex <= emax)
        & (((flags & F_SIGNED) != 0) | (not neg))
    )
    s = in_m - mbits
    sh = max(s, np.int64(0))
    lsh = max(-s, np.int64(0))
    q = a >> sh
    rem = a & ((one << sh) - 1)
    half = (one << sh) >> 1
    z = one if (flags & F_ZERO) != 0 else np.int64(0)
    lo = (q << lsh) - ((in_bias + emin - z) << mbits)  # the truncated value's code
    # parity from the code itself: with 0 mantissa bits the input's exponent LSB may differ from it
    up = _round_up(mode, rem, half, (lo & 1) == 1, neg, sh - n, r, n) & (rem != 0)
    inc = one if up else np.int64(0)
    code = lo + inc
    qr = q + inc
    return ok & (code <= max_mag), code, qr << sh


# ---- array kernels --------------------------------------------------------------------------------
# x: contiguous 1-d float32 or float64; bits read through a same-size integer view.


@numba.njit(inline="always", **_NJ)
def _split(xb: np.int64, width: np.int64) -> tuple:
    neg = ((xb >> (width - 1)) & 1) == 1
    a = xb & ((np.int64(1) << (width - 1)) - 1) if width < 64 else xb & np.int64(0x7FFFFFFFFFFFFFFF)
    return neg, a


@numba.njit(inline="always", **_NJ)
def _random_at(stoch, use_key, key, rbits, start, i, n) -> np.int64:
    """Element ``i``'s random integer: from the counter generator, or the explicit array."""
    if not stoch:
        return np.int64(0)
    return sr_bits(key, start + i, n) if use_key else np.int64(rbits[i])


@numba.njit(inline="always", **_NJ)
def _slow_at(xbits, i, width, in_m, in_bias, in_expmask, p, mode, ovf, r, n) -> tuple:
    """Element ``i`` by the full rule: ``(code, NaN input that the format cannot encode)``."""
    mbits, emin, emax, max_mag, inf_mag, nan_code, sign_mask, flags = p
    neg, a = _split(np.int64(xbits[i]), width)
    c = encode_slow(
        a, neg, in_m, in_bias, in_expmask, mbits, emin, emax, max_mag, inf_mag, nan_code,
        sign_mask, flags, mode, ovf, r, n,
    )  # fmt: skip
    return c, (flags & F_NAN) == 0 and a > (in_expmask << in_m)


@functools.cache
def kernels(mode: int) -> tuple:
    """``(encode_kernel, quantize_kernel)`` for one rounding mode: each takes the arguments of
    :func:`generic_kernels`' pair less the leading ``lo, hi``, and runs the whole array on threads
    (:func:`~lowprec._numba._threads.run_parts`). ``encode_kernel`` returns the number of NaN
    inputs the format cannot encode.

    Each runs the vectorised kernels of :mod:`lowprec._numba._float_simd` when the format fits
    them (every format with a zero whose range and precision lie within the input's) and the
    generic kernels otherwise.
    """
    from . import _float_simd as _fs
    from ._float_simd import fast_consts, simd_kernels

    enc_generic, quant_generic = generic_kernels(mode)

    def encode_kernel(xbits, out, in_m, in_bias, in_expmask, width, p, ovf, key, rbits, n, start):
        c = fast_consts(tuple(int(v) for v in p), int(width), mode, int(ovf))
        if c is None:
            args = (xbits, out, in_m, in_bias, in_expmask, width, p, ovf, key, rbits, n, start)
            return sum(run_parts(enc_generic, xbits.size, *args))
        spec = c if xbits.size >= _fs.SPEC_MIN else None
        kern = simd_kernels(mode, int(width), rbits.size > 0, spec, _fs.use_words(mode, width, n))[0]
        return sum(run_parts(kern, xbits.size, xbits, out, p, c, ovf, key, rbits, n, start))

    def quantize_kernel(
        xbits, x, out, obits, in_m, in_bias, in_expmask, width, p, mag_bits, ovf, key, rbits, n, start, lut
    ):
        c = fast_consts(tuple(int(v) for v in p), int(width), mode, int(ovf))
        if c is None:
            args = (xbits, x, out, obits, in_m, in_bias, in_expmask, width, p, mag_bits, ovf, key, rbits, n,
                    start, lut)  # fmt: skip
            run_parts(quant_generic, xbits.size, *args)
            return
        spec = c if xbits.size >= _fs.SPEC_MIN else None
        kern = simd_kernels(mode, int(width), rbits.size > 0, spec, _fs.use_words(mode, width, n))[1]
        run_parts(kern, xbits.size, xbits, x, out, obits, p, c, mag_bits, ovf, key, rbits, n, start, lut)

    return encode_kernel, quantize_kernel


@functools.cache
def generic_kernels(mode: int) -> tuple:
    """``(encode_kernel, quantize_kernel)`` for any format, specialised for one rounding mode.

    The mode is a compile-time constant of each pair (closures are cached by Numba per value), so
    the mode test and, outside the stochastic modes, the random-bit code vanish from the loop.
    Each kernel runs over elements ``[lo, hi)`` in chunks of ``CHUNK``: a first loop runs the short common path
    (:func:`fast_round`) over the chunk with no calls, which the compiler vectorises; a second
    loop, run only when the chunk has such elements, redoes the rare ones (subnormal results,
    overflow, specials) with :func:`encode_slow` while they are still in cache.
    """
    MODE = np.int64(mode)
    STOCH = mode >= SR

    @numba.njit(**_NJ)
    def encode_kernel(lo0, hi0, xbits, out, in_m, in_bias, in_expmask, width, p, ovf, key, rbits, n, start):
        """Codes of ``xbits[lo0:hi0]`` (int32/int64 view of the input) into ``out``; returns
        #NaN-not-encodable."""
        mbits, emin, emax, max_mag, _inf_mag, _nan_code, sign_mask, flags = p
        use_key = rbits.size == 0
        bad = 0
        for lo in range(lo0, hi0, CHUNK):
            hi = min(lo + CHUNK, hi0)
            slow = np.empty(hi - lo, np.uint8)
            nslow = 0
            for i in range(lo, hi):
                neg, a = _split(np.int64(xbits[i]), width)
                r = _random_at(STOCH, use_key, key, rbits, start, i, n)
                ok, c, _ = fast_round(
                    a, neg, in_m, in_bias, in_expmask, mbits, emin, emax, max_mag, flags, MODE, r, n
                )
                out[i] = c | (sign_mask if neg else np.int64(0))
                slow[i - lo] = 0 if ok else 1
                nslow += 0 if ok else 1
            if nslow:
                for i in range(lo, hi):
                    if not slow[i - lo]:
                        continue
                    r = _random_at(STOCH, use_key, key, rbits, start, i, n)
                    c, nan_in = _slow_at(xbits, i, width, in_m, in_bias, in_expmask, p, MODE, ovf, r, n)
                    if nan_in:
                        bad += 1  # NaN input, and the format has no NaN code
                        c = 0
                    out[i] = c
        return bad

    @numba.njit(**_NJ)
    def quantize_kernel(
        lo0, hi0, xbits, x, out, obits, in_m, in_bias, in_expmask, width, p, mag_bits, ovf, key, rbits, n,
        start, lut,
    ):  # fmt: skip
        """Rounded values of ``x[lo0:hi0]`` into ``out`` (same dtype; ``obits`` is its integer view).
        NaN passes through formats without NaN."""
        mbits, emin, emax, max_mag, inf_mag, nan_code, sign_mask, flags = p
        use_key = rbits.size == 0
        use_lut = lut.size > 0
        for lo in range(lo0, hi0, CHUNK):
            hi = min(lo + CHUNK, hi0)
            slow = np.empty(hi - lo, np.uint8)
            nslow = 0
            for i in range(lo, hi):
                xb = np.int64(xbits[i])
                neg, a = _split(xb, width)
                r = _random_at(STOCH, use_key, key, rbits, start, i, n)
                ok, c, vb = fast_round(
                    a, neg, in_m, in_bias, in_expmask, mbits, emin, emax, max_mag, flags, MODE, r, n
                )
                obits[i] = vb | (xb & (np.int64(1) << (width - 1)))  # with the input's sign bit
                slow[i - lo] = 0 if ok else 1
                nslow += 0 if ok else 1
            if nslow:
                for i in range(lo, hi):
                    if not slow[i - lo]:
                        continue
                    r = _random_at(STOCH, use_key, key, rbits, start, i, n)
                    c, nan_in = _slow_at(xbits, i, width, in_m, in_bias, in_expmask, p, MODE, ovf, r, n)
                    if nan_in:
                        out[i] = x[i]  # NaN in a format without NaN: pass it through
                    elif use_lut:
                        out[i] = lut[c]
                    else:
                        out[i] = decode_one(
                            c, mbits, emin, max_mag, inf_mag, nan_code, sign_mask, flags, mag_bits
                        )
        return 0

    return encode_kernel, quantize_kernel


def decode_kernel(codes, out, p, mag_bits) -> None:
    """Values of ``codes`` into ``out`` (on threads)."""
    run_parts(_decode_range, codes.size, codes, out, p, mag_bits)


@numba.njit(**_NJ)
def _decode_range(lo, hi, codes, out, p, mag_bits):
    """Values of ``codes[lo:hi]`` into ``out``."""
    mbits, emin, _emax, max_mag, inf_mag, nan_code, sign_mask, flags = p
    for i in range(lo, hi):
        out[i] = decode_one(
            np.int64(codes[i]), mbits, emin, max_mag, inf_mag, nan_code, sign_mask, flags, mag_bits
        )
