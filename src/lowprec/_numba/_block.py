"""Numba kernels for block-scaled formats: one parallel pass over blocks, integer bit operations.

The input is a contiguous 1-d float32/float64 array read through a same-size integer view and
addressed as ``(P, L1, Q, L2, R)`` (see ``lowprec.formats._block.block_geometry``), so any axis
and 2-D tiles need no copy. Each block: amax and "has NaN/Inf" from the bits (magnitude bits order
like values), the scale from the amax's exponent and significand bits (never ``log2``), then every
element through :func:`encode_one`:

- power-of-two scale ``2**e``: the element's own bits are re-read with the input bias raised by
  ``e``, which is ``x * 2**-e`` exactly (no underflow, no double rounding);
- NVFP4-style scale ``s``: ``x / s`` as an exact integer long division, kept as a 53-bit
  round-to-odd significand, which every deterministic mode (and stochastic rounding with
  ``element mbits + 1 + n_random_bits <= 52``) rounds exactly as it would the exact quotient.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ._float import F_ZERO, OV_SAT, RNE, SR, _msb, decode_one, encode_one
from ._random import sr_bits
from ._threads import PAR_MIN, run_parts

_NJ = {"cache": True, "nogil": True}

RULE_FLOOR, RULE_CEIL, RULE_EVEN, RULE_RCEIL, RULE_AMAX = 0, 1, 2, 3, 4
RULES = {"floor": RULE_FLOOR, "ceil": RULE_CEIL, "even": RULE_EVEN, "rceil": RULE_RCEIL, "amax": RULE_AMAX}
_TOP = np.int64(1) << np.int64(52)


@numba.njit(**_NJ)
def _finite_amax32(lo, hi, bits):
    """The largest magnitude bits below Inf's in ``bits[lo:hi]`` (float32 patterns as int32; 0 when
    none): the bits of the largest finite ``|x|``. The casts keep the loop in int32 lanes."""
    m = np.int32(0)
    for i in range(lo, hi):
        a = np.int32(bits[i] & np.int32(0x7FFFFFFF))
        a = np.int32(a if a < np.int32(0x7F800000) else 0)
        m = np.int32(max(m, a))
    return m


@numba.njit(**_NJ)
def _finite_amax64(lo, hi, bits):
    """:func:`_finite_amax32` for float64 patterns as int64."""
    m = np.int64(0)
    for i in range(lo, hi):
        a = np.int64(bits[i] & np.int64(0x7FFFFFFFFFFFFFFF))
        a = np.int64(a if a < np.int64(0x7FF0000000000000) else 0)
        m = max(m, a)
    return m


def finite_amax(xf: np.ndarray) -> float:
    """``max(|x|)`` over the finite values of the contiguous 1-d float32/float64 array ``xf`` (0.0
    when none): one pass on threads over its integer view, no temporary."""
    ints, part = (np.int32, _finite_amax32) if xf.dtype == np.float32 else (np.int64, _finite_amax64)
    bits = xf.view(ints)
    m = max(run_parts(part, bits.size, bits))
    return float(np.array(m, dtype=ints).view(xf.dtype))


@numba.njit(inline="always", **_NJ)
def sig_exp(v: np.float64) -> tuple:
    """``(sig, ex)`` with ``v = sig * 2**ex`` and ``sig`` odd, for finite ``v > 0``."""
    m, e = math.frexp(v)
    sig = np.int64(m * 9007199254740992.0)  # m * 2**53, exact
    ex = np.int64(e) - 53
    while (sig & 1) == 0:
        sig >>= 1
        ex += 1
    return sig, ex


@numba.njit(inline="always", **_NJ)
def div_r2o(a_sig: np.int64, a_exp: np.int64, b_sig: np.int64, b_exp: np.int64) -> tuple:
    """``(q, E)``: ``(a_sig*2**a_exp) / (b_sig*2**b_exp)`` as ``q * 2**(E-52)``, ``q`` in [2**52, 2**53).

    ``q`` is the quotient truncated to 53 bits with its last bit set when inexact (round to odd),
    i.e. a float64 significand that :func:`encode_one` reads with ``in_m = 52``.
    Needs ``a_sig < 2**53`` and ``b_sig < 2**40``.
    """
    q = a_sig // b_sig
    r = a_sig % b_sig
    k = np.int64(0)
    while q < _TOP:
        s = np.int64(22) if q == 0 else min(np.int64(22), 52 - _msb(q))
        r <<= s
        q = (q << s) | (r // b_sig)
        r = r % b_sig
        k += s
    if r != 0:
        q |= 1
    return q, a_exp - b_exp - k + 52


@numba.njit(inline="always", **_NJ)
def _in_sig_exp(a: np.int64, in_m: np.int64, in_bias: np.int64) -> tuple:
    """Integer significand and exponent of the value of magnitude bits ``a > 0`` (finite)."""
    exf = a >> in_m
    if exf == 0:
        return a, 1 - in_bias - in_m
    return (a & ((np.int64(1) << in_m) - 1)) | (np.int64(1) << in_m), exf - in_bias - in_m


@numba.njit(inline="always", **_NJ)
def _split(xb: np.int64, width: np.int64) -> tuple:
    neg = ((xb >> (width - 1)) & 1) == 1
    a = xb & ((np.int64(1) << (width - 1)) - 1) if width < 64 else xb & np.int64(0x7FFFFFFFFFFFFFFF)
    return neg, a


@numba.njit(inline="always", **_NJ)
def _pow2_exponent(am, in_m, in_bias, rule, emax_e, m_e, smax_e):
    """Scale exponent (before clamping) of finite nonzero amax bits ``am`` under a power-of-two rule."""
    exf = am >> in_m
    if exf == 0:  # subnormal input: normalise the significand to in_m + 1 bits
        k = _msb(am)
        big_e = 1 - in_bias - in_m + k
        sig = am << (in_m - k)
    else:
        big_e = exf - in_bias
        sig = (am & ((np.int64(1) << in_m) - 1)) | (np.int64(1) << in_m)
    one = np.int64(1) << in_m
    bump = np.int64(0)
    if rule == RULE_CEIL:
        bump = np.int64(1) if sig != one else np.int64(0)
    elif rule == RULE_EVEN:
        # significand rounded (ties away) to m_e bits reaches 2: sig >= 2 - 2**-(m_e+1)
        if in_m >= m_e + 1:
            bump = np.int64(1) if sig >= 2 * one - (np.int64(1) << (in_m - m_e - 1)) else np.int64(0)
    elif rule == RULE_RCEIL:
        # m > smax_e / 2**m_e (the element max significand)
        if in_m >= m_e:
            bump = np.int64(1) if sig > (smax_e << (in_m - m_e)) else np.int64(0)
        else:
            bump = np.int64(1) if (sig << (m_e - in_m)) > smax_e else np.int64(0)
    return big_e + bump - emax_e


@numba.njit(inline="always", **_NJ)
def block_span(blk: np.int64, dims: tuple, bdims: tuple) -> tuple:
    """Block ``blk`` of a ``(P, L1, Q, L2)`` layout, numbered in ``(P, block row, Q, block column)``
    order: ``(pp, qq, i1_0, i1_1, i2_0, i2_1)``, its outer indices and its element ranges."""
    _big_p, l1, big_q, l2, _big_r = dims
    b1, b2 = bdims
    nb1 = (l1 + b1 - 1) // b1
    nb2 = (l2 + b2 - 1) // b2
    j2 = blk % nb2
    t = blk // nb2
    qq = t % big_q
    t //= big_q
    j1 = t % nb1
    pp = t // nb1
    i1_0 = j1 * b1
    i2_0 = j2 * b2
    return pp, qq, i1_0, min(l1, i1_0 + b1), i2_0, min(l2, i2_0 + b2)


@numba.njit(inline="always", **_NJ)
def store_code(codes, idx, code, count):
    """``codes[idx] = code``; element codes wider than 8 bits travel as little-endian byte pairs in
    a uint8 array of ``2 * count`` entries, so one compiled kernel serves every element width
    (a uint16 array made Numba compile every block kernel twice, ~70 s cold)."""
    if codes.size > count:
        codes[2 * idx] = code & 0xFF
        codes[2 * idx + 1] = (code >> 8) & 0xFF
    else:
        codes[idx] = code


@numba.njit(**_NJ)
def _enc(a, neg, in_m, in_bias, in_expmask, p, mode, r, n):
    """:func:`encode_one` with saturation, as one compiled function (keeps the kernel small)."""
    mbits, emin, emax, max_mag, inf_mag, nan_code, sign_mask, flags = p
    return encode_one(
        a, neg, in_m, in_bias, in_expmask, mbits, emin, emax, max_mag, inf_mag, nan_code, sign_mask, flags,
        mode, OV_SAT, r, n,
    )  # fmt: skip


@numba.njit(**_NJ)
def general_kernel(
    lo, hi, xbits, dims, bdims, in_m, in_bias, in_expmask, width,
    pe, e_magbits, e_int, e_info, ps, s_magbits, rule, g, d_sig, d_exp,
    mode, key, rbits, n, what, out_vals, out_codes, out_scales,
):  # fmt: skip
    """Quantize (``what == 0``: values into ``out_vals``) or encode (``what == 1``: element codes
    into ``out_codes``, scale codes into ``out_scales``) blocks ``[lo, hi)`` (in scale order).

    ``pe``/``ps``: FloatParams of the element and scale formats; ``e_info = (emax_e, m_e, smax_e)``;
    ``g`` the tensor scale; ``d_sig * 2**d_exp = max_elem * g`` (the ``amax`` rule's divisor).
    """
    mbits, emin, _emax, max_mag, inf_mag, nan_code, sign_mask, flags = pe
    s_mbits, s_emin, s_emax, s_max_mag, s_inf_mag, s_nan, s_sign, s_flags = ps
    emax_e, m_e, smax_e = e_info
    _big_p, l1, big_q, l2, big_r = dims
    finite_lim = in_expmask << in_m
    use_key = rbits.size == 0
    z_s = np.int64(1) if s_flags & F_ZERO else np.int64(0)
    min_code = np.int64(1) if s_flags & F_ZERO else np.int64(0)  # smallest positive scale code
    int_mask = (np.int64(1) << (e_magbits + 1)) - 1
    for blk in range(lo, hi):
        rr = blk % big_r
        pp, qq, i1_0, i1_1, i2_0, i2_1 = block_span(blk // big_r, dims, bdims)
        # pass 1: amax bits and specials
        am = np.int64(0)
        bad = False
        for i1 in range(i1_0, i1_1):
            base = ((pp * l1 + i1) * big_q + qq) * l2
            for i2 in range(i2_0, i2_1):
                neg, a = _split(np.int64(xbits[(base + i2) * big_r + rr]), width)
                if a >= finite_lim:
                    bad = True
                if a > am:
                    am = a
        # the scale
        e = np.int64(0)
        sval = 1.0
        if bad:
            scode = s_nan
        elif rule != RULE_AMAX:
            if am == 0:
                e = s_emin
            else:
                e = _pow2_exponent(am, in_m, in_bias, rule, emax_e, m_e, smax_e)
            e = min(max(e, s_emin), s_emax)
            scode = e - s_emin + z_s
        else:
            if am == 0:
                scode = min_code
            else:
                a_sig, a_exp = _in_sig_exp(am, in_m, in_bias)
                qv, qe = div_r2o(a_sig, a_exp, d_sig, d_exp)
                scode = _enc(qv, False, np.int64(52), 1 - qe, np.int64(3), ps, np.int64(RNE), np.int64(0), n)
                if (scode & ~s_sign) == 0:
                    scode = min_code
            sval = decode_one(scode, s_mbits, s_emin, s_max_mag, s_inf_mag, s_nan, s_sign, s_flags, s_magbits)
        if what == 1:
            out_scales[blk] = scode
        div_sig = np.int64(1)
        div_exp = np.int64(0)
        if rule == RULE_AMAX and not bad:
            div_sig, div_exp = sig_exp(sval * g)
        # pass 2: elements
        for i1 in range(i1_0, i1_1):
            base = ((pp * l1 + i1) * big_q + qq) * l2
            for i2 in range(i2_0, i2_1):
                idx = (base + i2) * big_r + rr
                if bad:
                    if what == 1:
                        store_code(out_codes, idx, np.int64(0), xbits.size)
                    else:
                        out_vals[idx] = np.nan
                    continue
                neg, a = _split(np.int64(xbits[idx]), width)
                r = np.int64(0)
                if mode >= SR:
                    r = sr_bits(key, idx, n) if use_key else np.int64(rbits[idx])
                aa, im, ib, iem = a, in_m, in_bias + e, in_expmask
                if rule == RULE_AMAX and a != 0:
                    x_sig, x_exp = _in_sig_exp(a, in_m, in_bias)
                    aa, qe = div_r2o(x_sig, x_exp, div_sig, div_exp)
                    im, ib, iem = np.int64(52), 1 - qe, np.int64(3)
                c = _enc(aa, neg, im, ib, iem, pe, mode, r, n)
                if what == 1:
                    if e_int:
                        mag = c & ((np.int64(1) << e_magbits) - 1)
                        c = ((-mag) if (c & sign_mask) != 0 else mag) & int_mask
                    store_code(out_codes, idx, c, xbits.size)
                else:
                    if e_int and (c & ((np.int64(1) << e_magbits) - 1)) == 0:
                        ev = 0.0  # integers have no -0
                    else:
                        ev = decode_one(
                            c, mbits, emin, max_mag, inf_mag, nan_code, sign_mask, flags, e_magbits
                        )
                    if rule != RULE_AMAX:
                        out_vals[idx] = np.ldexp(ev, e)
                    else:
                        out_vals[idx] = ev * sval * g
    return 0


def blocks_per_column(dims: tuple, bdims: tuple) -> int:
    """Blocks of the layout ``dims = (P, L1, Q, L2, R)`` with block shape ``bdims = (B1, B2)``, per
    column of the trailing axis ``R`` (ragged last blocks count)."""
    big_p, l1, big_q, l2, _big_r = (int(v) for v in dims)
    b1, b2 = (int(v) for v in bdims)
    return big_p * -(-l1 // b1) * big_q * -(-l2 // b2)


def block_kernel(
    xbits, dims, bdims, in_m, in_bias, in_expmask, width,
    pe, e_magbits, e_int, e_info, ps, s_magbits, rule, g, d_sig, d_exp,
    mode, key, rbits, n, what, out_vals, out_codes, out_scales,
) -> None:  # fmt: skip
    """Quantize or encode every block, on threads (arguments as :func:`general_kernel` less ``lo, hi``).

    Float32 input with the preset-like element formats goes to the fast kernels of
    :mod:`lowprec._numba._block_fast`, float64 input in deterministic quantize with a power-of-two
    scale rule along the last axis to its ``r1_kernel64``; everything else to :func:`general_kernel`.
    """
    from . import _block_fast as bf

    words = int(dims[4]) == 1 and int(what) == 0 and int(n) <= 32  # stochastic: _run64_sr's random words
    if bf.fast_supported(pe, int(pe[0]), int(rule), int(ps[0]), float(g), int(d_sig), int(mode), int(n),
                         int(width), words, int(ps[1])) and bf.neg_zero_ok(pe, bool(e_int)):  # fmt: skip
        bf.run_fast(xbits, dims, bdims, pe, e_magbits, e_int, e_info, ps, s_magbits, rule, g, d_sig, d_exp,
                    mode, key, rbits, n, what, out_vals, out_codes, out_scales)  # fmt: skip
        return
    if bf.fast64_supported(pe, int(pe[0]), bool(e_int), int(rule), int(mode), int(what), dims, int(width)):
        bf.run_fast64(xbits, dims, bdims, pe, e_magbits, e_int, e_info, ps, rule, mode, out_vals)
        return
    nblocks = blocks_per_column(dims, bdims) * int(dims[4])
    run_parts(
        general_kernel, nblocks, xbits, dims, bdims, in_m, in_bias, in_expmask, width,
        pe, e_magbits, e_int, e_info, ps, s_magbits, rule, g, d_sig, d_exp,
        mode, key, rbits, n, what, out_vals, out_codes, out_scales, align=1, min_part=PAR_MIN // (int(bdims[0]) * int(bdims[1])),
    )  # fmt: skip


@numba.njit(**_NJ)
def round_quotient(num: np.float64, den: np.float64, p: tuple, mode: np.int64) -> np.int64:
    """Code of ``num / den`` (finite, positive) rounded once to the format of FloatParams ``p`` (saturating)."""
    a_sig, a_exp = sig_exp(num)
    b_sig, b_exp = sig_exp(den)
    qv, qe = div_r2o(a_sig, a_exp, b_sig, b_exp)
    return _enc(qv, False, np.int64(52), 1 - qe, np.int64(3), p, mode, np.int64(0), np.int64(1))
