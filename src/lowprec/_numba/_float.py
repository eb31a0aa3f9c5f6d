"""Numba kernels rounding float32/float64 arrays to any float format, by integer bit operations.

One pass over memory, parallel over elements. The format arrives as the integers of
:class:`lowprec._params.FloatParams`; the rounding mode and overflow policy are integers of the
``Rounding``/``Overflow`` enums. Everything follows the contract in ``docs/development.md``.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ._random import sr_bits

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
    """Index of the highest set bit of v > 0."""
    k = np.int64(0)
    while v > 1:
        v >>= 1
        k += 1
    return k


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
    exf = a >> in_m
    is_nan = False
    over = False
    is_inf = False
    mag = np.int64(0)
    zero_in = a == 0
    if exf == in_expmask:
        if (a & ((np.int64(1) << in_m) - 1)) != 0:
            is_nan = True
        else:
            is_inf = True
            over = True
    elif not zero_in:
        if exf == 0:
            sig = a
            lsb = 1 - in_bias - in_m
            ex = lsb + _msb(sig)
        else:
            sig = (a & ((np.int64(1) << in_m) - 1)) | (np.int64(1) << in_m)
            ex = exf - in_bias
            lsb = ex - in_m
        if ex > emax + 1:
            mag = max_mag + 1  # beyond the exponent range: overflow in every mode
            inexact = True
        elif ex < emin and (flags & F_ZERO) == 0:
            mag = 0  # no zero: everything below the minimum is the minimum
            inexact = True
        else:
            below = ex < emin
            if not below:
                qexp = ex - mbits
            elif flags & F_SUB:
                qexp = emin - mbits
            else:
                qexp = emin
            s = qexp - lsb
            if s <= 0:
                t = sig << (-s)
                rem = np.int64(0)
            elif s >= 63:
                t = np.int64(0)
                rem = sig
            else:
                t = sig >> s
                rem = sig & ((np.int64(1) << s) - 1)
            if below:
                lo = t if flags & F_SUB else np.int64(0)
                hi = lo + 1 if flags & F_SUB else (np.int64(1) << mbits)
            else:
                z = np.int64(1) if flags & F_ZERO else np.int64(0)
                lo = ((ex - emin + z) << mbits) + t - (np.int64(1) << mbits)
                hi = lo + 1
            inexact = rem != 0
            up = False
            if inexact:
                if mode <= RNZ:
                    if s >= 63:
                        up = False
                    else:
                        half = np.int64(1) << (s - 1)
                        if rem > half:
                            up = True
                        elif rem == half:
                            if mode == RNE:
                                up = (lo & 1) == 1
                            else:
                                up = mode == RNA
                elif mode == RTP:
                    up = not neg
                elif mode == RTN:
                    up = neg
                elif mode == RTO:
                    up = (lo & 1) == 0
                elif mode == SR:
                    d = s - n
                    if d >= 63:
                        frac = np.int64(0)
                    elif d >= 0:
                        frac = rem >> d
                    else:
                        frac = rem << (-d)
                    up = frac + r >= (np.int64(1) << n)
                elif mode == SRE:
                    up = r >= (np.int64(1) << (n - 1))
            mag = hi if up else lo
        if mag > max_mag:
            over = True
    if over:
        toward_zero = (
            mode == RTZ or mode == RTO or (mode == RTN and not neg) or (mode == RTP and neg)
        ) and not is_inf
        if ovf == OV_SAT or toward_zero:
            mag = max_mag
        elif (flags & F_INF) and (is_inf or ovf == OV_INF):
            mag = inf_mag
        else:
            is_nan = True
    if (flags & F_SIGNED) == 0 and neg and not is_nan:
        if not (mag == 0 and not is_inf and (flags & F_ZERO)):
            if ovf == OV_SAT:
                mag = 0
            else:
                is_nan = True
        neg = False
    elif (flags & F_ZERO) == 0 and zero_in and not is_nan:
        if ovf == OV_SAT:
            mag = 0
        else:
            is_nan = True
    if is_nan:
        if (flags & F_NAN) == 0:
            return np.int64(0)
        if neg and (flags & F_NANSIGN) and (flags & F_SIGNED):
            return nan_code | sign_mask
        return nan_code
    if neg and (flags & F_SIGNED):
        if mag == 0 and (flags & F_NEGZERO) == 0:
            return np.int64(0)
        return mag | sign_mask
    return mag


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


# ---- array kernels --------------------------------------------------------------------------------
# x: contiguous 1-d float32 or float64; bits read through a same-size integer view.


@numba.njit(inline="always", **_NJ)
def _split(xb: np.int64, width: np.int64) -> tuple:
    neg = ((xb >> (width - 1)) & 1) == 1
    a = xb & ((np.int64(1) << (width - 1)) - 1) if width < 64 else xb & np.int64(0x7FFFFFFFFFFFFFFF)
    return neg, a


@numba.njit(parallel=True, **_NJ)
def encode_kernel(xbits, out, in_m, in_bias, in_expmask, width, p, mode, ovf, key, rbits, n, start):
    """Codes of ``xbits`` (int32/int64 view of the input) into ``out``; returns #NaN-not-encodable."""
    mbits, emin, emax, max_mag, inf_mag, nan_code, sign_mask, flags = p
    bad = 0
    use_key = rbits.size == 0
    for i in numba.prange(xbits.size):
        neg, a = _split(np.int64(xbits[i]), width)
        r = np.int64(0)
        if mode >= SR:
            r = sr_bits(key, start + i, n) if use_key else np.int64(rbits[i])
        c = encode_one(
            a, neg, in_m, in_bias, in_expmask, mbits, emin, emax, max_mag, inf_mag, nan_code,
            sign_mask, flags, mode, ovf, r, n,
        )  # fmt: skip
        if (flags & F_NAN) == 0 and a > (in_expmask << in_m):
            bad += 1  # NaN input, and the format has no NaN code
            c = 0
        out[i] = c
    return bad


@numba.njit(parallel=True, **_NJ)
def quantize_kernel(
    xbits, x, out, in_m, in_bias, in_expmask, width, p, mag_bits, mode, ovf, key, rbits, n, start, lut
):
    """Rounded values of ``x`` into ``out`` (same dtype). NaN passes through formats without NaN."""
    mbits, emin, emax, max_mag, inf_mag, nan_code, sign_mask, flags = p
    use_key = rbits.size == 0
    use_lut = lut.size > 0
    for i in numba.prange(xbits.size):
        neg, a = _split(np.int64(xbits[i]), width)
        r = np.int64(0)
        if mode >= SR:
            r = sr_bits(key, start + i, n) if use_key else np.int64(rbits[i])
        c = encode_one(
            a, neg, in_m, in_bias, in_expmask, mbits, emin, emax, max_mag, inf_mag, nan_code,
            sign_mask, flags, mode, ovf, r, n,
        )  # fmt: skip
        if (flags & F_NAN) == 0 and a > (in_expmask << in_m):
            out[i] = x[i]  # NaN in a format without NaN: pass it through
        elif use_lut:
            out[i] = lut[c]
        else:
            out[i] = decode_one(c, mbits, emin, max_mag, inf_mag, nan_code, sign_mask, flags, mag_bits)


@numba.njit(parallel=True, **_NJ)
def decode_kernel(codes, out, p, mag_bits):
    """Values of ``codes`` into ``out``."""
    mbits, emin, emax, max_mag, inf_mag, nan_code, sign_mask, flags = p
    for i in numba.prange(codes.size):
        out[i] = decode_one(np.int64(codes[i]), mbits, emin, max_mag, inf_mag, nan_code, sign_mask, flags, mag_bits)
