"""Emulated GEMM with hardware accumulator models (``GemmProfile``); Numba, parallel over rows.

No BLAS is involved: every product is formed exactly in float64 (the profile checks that the input
formats make that true) and every sum is computed exactly (int64 after alignment, error-free
transformations, or a long accumulator) before the single rounding the model prescribes.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .._api import _kparams, quantize
from .._numba._threads import PAR_MIN, run_parts
from ..rounding import parse_rounding, resolve_overflow
from ._core import (
    SA_NL,
    _zero_sum_sign,
    round_scaled,
    round_value,
    sa_add,
    sa_round,
    two_sum,
)
from ._profile import GemmProfile

__all__ = ["matmul"]

_NJ = {"cache": True, "nogil": True, "error_model": "numpy"}
_RNE = 0
_RTZ = 3
_NO_EXP = -(1 << 30)
_F32_MIN = 2.0**-126  # fast paths below cover |x| in (_F32_MIN, _F32_MAX): normal, no overflow
_F32_MAX = float(np.finfo(np.float32).max)
_LOW29 = np.int64((1 << 29) - 1)  # float64 fraction bits below float32's 23
_MID29 = np.int64(1 << 28)  # those bits at a float32 midpoint


@numba.njit(inline="always", **_NJ)
def _f32_round(x, mode):
    """RNE or RZ of float64 ``x`` (|x| in the float32 normal range, below FLT_MAX) to float32.

    Used only where the kernel has checked that the rounding target is exactly IEEE float32, so it
    equals ``round_value``; ``x`` is exact or a float64 round-to-odd value (Boldo & Melquiond).
    """
    if mode == _RNE:
        return np.float64(np.float32(x))
    b = np.float64(x).view(np.int64) & ~_LOW29
    return np.int64(b).view(np.float64)


@numba.njit(inline="always", **_NJ)
def _fma_step(v, c, f32, p, mode, ovf):
    """round(v + c) (= add2); with ``f32`` a float32 fast path for the common normal-range case."""
    if f32:
        s, t = two_sum(v, c)
        m = abs(s)
        if m > _F32_MIN and m < _F32_MAX:
            b = np.float64(s).view(np.int64)
            if t != 0.0 and (b & 1) == 0:  # round to odd at 53 bits, toward the exact v + c
                b = b + 1 if (t > 0.0) == (s > 0.0) else b - 1
            return _f32_round(np.int64(b).view(np.float64), mode)
    return add2(v, c, p, mode, ovf)


@numba.njit(inline="always", **_NJ)
def _fma32(v, c, mode, pa, aovf):
    """``_fma_step(v, c, True, ...)`` with the error-free transformation only where it matters.

    ``s = fl64(v + c)`` has the same RNE/RZ float32 rounding as the exact sum unless its 29 low
    fraction bits are a float32 midpoint (RNE) or zero (RZ): only there can the float64 rounding
    have moved it onto or across the float32 decision point, and only there is the round-to-odd
    correction of ``_fma_step`` (which leaves ``s`` unchanged or moves it by one float64 ulp
    between two such points) able to change the result.
    """
    s = v + c
    m = abs(s)
    if m > _F32_MIN and m < _F32_MAX:
        b = np.float64(s).view(np.int64)
        low = b & _LOW29
        if low == 0 or low == _MID29:
            t = two_sum(v, c)[1]
            if t != 0.0:  # b is even here: round to odd, toward the exact v + c
                b = b + 1 if (t > 0.0) == (s > 0.0) else b - 1
            return _f32_round(np.int64(b).view(np.float64), mode)
        return _f32_round(s, mode)
    return add2(v, c, pa, mode, aovf)


@numba.njit(inline="always", **_NJ)
def _pow2(e):
    """``2.0 ** e`` from the bits, for an integer ``e`` in [-1022, 1023]."""
    return np.int64((e + 1023) << 52).view(np.float64)


@numba.njit(inline="always", **_NJ)
def _round_bits(x, sh, mode):
    """RNE or RZ of a normal float64 ``x`` to ``53 - sh`` significant bits by bit operations.

    The caller checks that the result is normal and finite in the target format.
    """
    b = np.float64(x).view(np.int64)
    low = b & ((np.int64(1) << sh) - 1)
    b -= low
    if mode == _RNE:
        half = np.int64(1) << (sh - 1)
        if low > half or (low == half and ((b >> sh) & 1) == 1):
            b += np.int64(1) << sh
    return np.int64(b).view(np.float64)


@numba.njit(**_NJ)
def _rv(x, p, mode, ovf):
    mbits, emin, emax, max_mag, inf_mag, nan_code, sign_mask, flags, mag_bits = p
    return round_value(
        x, mbits, emin, emax, max_mag, inf_mag, nan_code, sign_mask, flags, mag_bits, mode, ovf
    )


@numba.njit(**_NJ)
def _rs(s, t, e, neg, p, mode, ovf):
    mbits, emin, emax, max_mag, inf_mag, nan_code, sign_mask, flags, mag_bits = p
    return round_scaled(s, t, e, neg, mbits, emin, emax, max_mag, inf_mag, nan_code, sign_mask, flags, mag_bits,
                        mode, ovf)  # fmt: skip


@numba.njit(**_NJ)
def add2(x, y, p, mode, ovf):
    """round(x + y) for finite float64 values whose bits all lie in float64's normal range."""
    if not (math.isfinite(x) and math.isfinite(y)):
        return _rv(x + y, p, mode, ovf)
    s, t = two_sum(x, y)
    if s == 0.0:
        return _rv(_zero_sum_sign(x, y, mode), p, mode, ovf)
    if s < 0.0:
        return _rs(-s, -t, np.int64(0), np.bool_(True), p, mode, ovf)
    return _rs(s, t, np.int64(0), np.bool_(False), p, mode, ovf)


@numba.njit(inline="always", **_NJ)
def _expo(v):
    return ((np.float64(v).view(np.int64) >> 52) & 0x7FF) - 1023


@numba.njit(**_NJ)
def _block_aligned(arow, brow, k, kend, c, keep, fused, pa, amode, aovf, tmp, f32):
    """One block FMA: align to the largest exponent, truncate to ``keep`` bits, sum exactly, round."""
    amax = abs(c)
    chk = c * 0.0  # NaN once any term is Inf or NaN
    n = kend - k
    for t in range(n):
        v = arow[k + t] * brow[k + t]
        if not fused:
            v = _rv(v, pa, amode, aovf)
        tmp[t] = v
        chk += v * 0.0
        amax = max(amax, abs(v))  # the largest exponent is the exponent of the largest magnitude
    if chk != chk:
        tot = c
        for t in range(n):
            tot += tmp[t]
        return _rv(tot, pa, amode, aovf)
    if amax == 0.0:
        return 0.0
    q = _expo(amax) + 1 - keep
    sc = math.ldexp(1.0, -q)
    acc = np.int64(c * sc)  # float -> int truncates toward zero: the alignment truncation
    for t in range(n):
        acc += np.int64(tmp[t] * sc)
    if acc == 0:
        return 0.0
    if f32 and abs(acc) < (np.int64(1) << 53):
        x = np.float64(acc) * math.ldexp(1.0, q)  # exact: a 53-bit integer times a power of two
        m = abs(x)
        if m > _F32_MIN and m < _F32_MAX:
            return _f32_round(x, amode)
    if acc < 0:
        return _rs(np.float64(-acc), 0.0, q, np.bool_(True), pa, amode, aovf)
    return _rs(np.float64(acc), 0.0, q, np.bool_(False), pa, amode, aovf)


@numba.njit(inline="always", **_NJ)
def _block_fast(arow, brow, k, kend, c, keep, sh, hi, pa, amode, aovf, tmp):
    """``_block_aligned`` (fused) for finite terms whose aligned sum is exact in float64.

    Preconditions (checked by :func:`matmul`): every product and ``c`` is finite, ``(block + 1) *
    2**keep <= 2**53`` (so the truncated terms, integers below ``2**keep``, add exactly as float64 in
    any order), and the accumulator has float32's exponent range with ``53 - sh`` significant bits
    and largest finite value ``hi``. Four partial maxima/sums give the pipeline independent chains.
    """
    n = kend - k
    m0 = abs(c)
    m1 = m2 = m3 = 0.0
    t = 0
    while t + 4 <= n:
        v0 = arow[k + t] * brow[k + t]
        v1 = arow[k + t + 1] * brow[k + t + 1]
        v2 = arow[k + t + 2] * brow[k + t + 2]
        v3 = arow[k + t + 3] * brow[k + t + 3]
        tmp[t] = v0
        tmp[t + 1] = v1
        tmp[t + 2] = v2
        tmp[t + 3] = v3
        m0 = max(m0, abs(v0))
        m1 = max(m1, abs(v1))
        m2 = max(m2, abs(v2))
        m3 = max(m3, abs(v3))
        t += 4
    while t < n:
        v0 = arow[k + t] * brow[k + t]
        tmp[t] = v0
        m0 = max(m0, abs(v0))
        t += 1
    amax = max(max(m0, m1), max(m2, m3))
    if amax == 0.0:
        return 0.0
    q = _expo(amax) + 1 - keep
    sc = _pow2(-q)
    s0 = np.trunc(c * sc)  # the alignment truncation toward zero, as an integer-valued float
    s1 = s2 = s3 = 0.0
    t = 0
    while t + 4 <= n:
        s0 += np.trunc(tmp[t] * sc)
        s1 += np.trunc(tmp[t + 1] * sc)
        s2 += np.trunc(tmp[t + 2] * sc)
        s3 += np.trunc(tmp[t + 3] * sc)
        t += 4
    while t < n:
        s0 += np.trunc(tmp[t] * sc)
        t += 1
    tot = (s0 + s1) + (s2 + s3)
    if tot == 0.0:
        return 0.0
    x = tot * _pow2(q)  # exact: an integer below 2**53 times a power of two
    m = abs(x)
    if m > _F32_MIN and m < hi:
        if sh == 29 and amode == _RNE:
            return np.float64(np.float32(x))
        return _round_bits(x, sh, amode)
    return _rs(abs(tot), 0.0, q, tot < 0.0, pa, amode, aovf)


@numba.njit(**_NJ)
def _block_exact(arow, brow, k, kend, c, fused, pa, amode, aovf, limbs):
    """One block FMA with unbounded alignment: the exact block sum rounded once."""
    limbs[:] = 0
    tot = c
    for t in range(k, kend):
        v = arow[t] * brow[t]
        if not fused:
            v = _rv(v, pa, amode, aovf)
        tot += v
        if math.isfinite(v):
            sa_add(limbs, v)
    if not math.isfinite(tot) or not math.isfinite(c):
        return _rv(tot, pa, amode, aovf)
    sa_add(limbs, c)
    return sa_round(limbs, pa, amode, aovf)


@numba.njit(inline="always", **_NJ)
def block_end(k, k1, block, promote, cnt):
    """End of the block FMA that starts at product ``k``: ``block`` products, cut at the slice end
    ``k1`` and, with promotion every ``promote`` products, after ``promote - cnt`` more."""
    kend = min(k + block, k1)
    return min(kend, k + promote - cnt) if promote > 0 else kend


@numba.njit(**_NJ)
def _slice(arow, brow, k0, k1, c, block, keep, fused, promote, pa, amode, aovf, pp, povf, tmp, limbs, f32,
           fast, sh, hi):  # fmt: skip
    """Accumulate products k0..k1-1 onto carry-in ``c`` per the block/promotion model."""
    r = 0.0
    cnt = 0
    k = k0
    while k < k1:
        kend = block_end(k, k1, block, promote, cnt)
        if fast and math.isfinite(c):  # a carry that overflowed to Inf takes the general path
            c = _block_fast(arow, brow, k, kend, c, keep, sh, hi, pa, amode, aovf, tmp)
        elif keep >= 0:
            c = _block_aligned(arow, brow, k, kend, c, keep, fused, pa, amode, aovf, tmp, f32)
        elif kend - k == 1:
            v = arow[k] * brow[k]
            if not fused:
                v = _rv(v, pa, amode, aovf)
            if f32:
                c = _fma32(v, c, amode, pa, aovf)  # exact product + carry, one rounding: an FMA
            else:
                c = add2(v, c, pa, amode, aovf)
        else:
            c = _block_exact(arow, brow, k, kend, c, fused, pa, amode, aovf, limbs)
        cnt += kend - k
        k = kend
        if promote > 0 and (cnt == promote or k == k1):
            r = add2(r, c, pp, np.int64(_RNE), povf)
            c = 0.0
            cnt = 0
    return r if promote > 0 else c


@numba.njit(**_NJ)
def gemm_kernel(
    lo, hi_row, a, bt, c0, out, bounds, order, tree, block, keep, fused, promote, exact,
    pa, amode, aovf, pp, povf, pw, wovf, po, omode, oovf, f32, fast, sh, hi,
):  # fmt: skip
    """out[i, j] = model(sum_k a[i, k] * bt[j, k] + c0[i, j]) for rows ``lo <= i < hi_row``
    (:func:`matmul` splits the rows over threads).

    :func:`matmul` sends two common cases to faster kernels with the same bits: a float32 RNE FMA
    chain on float32 operands to ``_gemm_fma`` (the hardware FMA) and a fused block FMA with one
    K slice and finite operands to ``_gemm_block`` (SIMD lanes across columns). This kernel does
    everything else, and the tests use it as the reference for both.

    ``f32``: the accumulator format is IEEE float32 and the block rounding RNE or RZ, so the
    normal-range fast paths (``_fma32``, the end of ``_block_aligned``) apply. ``fast``: every
    aligned block may take ``_block_fast`` (see its preconditions; ``sh``, ``hi`` describe the
    accumulator there).
    """
    n = bt.shape[0]
    kk = a.shape[1]
    ns = bounds.size - 1
    chain = f32 and not exact and ns == 1 and block == 1 and keep < 0 and promote == 0 and fused
    for i in range(lo, hi_row):
        tmp = np.empty(block, np.float64)
        limbs = np.zeros(SA_NL, np.int64)
        part = np.empty(ns, np.float64)
        arow = a[i]
        j0 = 0
        if chain:
            # a plain FMA chain: eight (then four) independent output columns per pass over the A
            # row, so the dependency chains overlap in the pipeline and the A row is read once per
            # eight (measured: 8 columns ~20 % faster than 4 per MAC on this machine).
            while j0 + 8 <= n:
                b0, b1, b2, b3 = bt[j0], bt[j0 + 1], bt[j0 + 2], bt[j0 + 3]
                b4, b5, b6, b7 = bt[j0 + 4], bt[j0 + 5], bt[j0 + 6], bt[j0 + 7]
                s0, s1, s2, s3 = c0[i, j0], c0[i, j0 + 1], c0[i, j0 + 2], c0[i, j0 + 3]
                s4, s5, s6, s7 = c0[i, j0 + 4], c0[i, j0 + 5], c0[i, j0 + 6], c0[i, j0 + 7]
                for k in range(kk):
                    x = arow[k]
                    s0 = _fma32(x * b0[k], s0, amode, pa, aovf)
                    s1 = _fma32(x * b1[k], s1, amode, pa, aovf)
                    s2 = _fma32(x * b2[k], s2, amode, pa, aovf)
                    s3 = _fma32(x * b3[k], s3, amode, pa, aovf)
                    s4 = _fma32(x * b4[k], s4, amode, pa, aovf)
                    s5 = _fma32(x * b5[k], s5, amode, pa, aovf)
                    s6 = _fma32(x * b6[k], s6, amode, pa, aovf)
                    s7 = _fma32(x * b7[k], s7, amode, pa, aovf)
                out[i, j0] = _rv(s0, po, omode, oovf)
                out[i, j0 + 1] = _rv(s1, po, omode, oovf)
                out[i, j0 + 2] = _rv(s2, po, omode, oovf)
                out[i, j0 + 3] = _rv(s3, po, omode, oovf)
                out[i, j0 + 4] = _rv(s4, po, omode, oovf)
                out[i, j0 + 5] = _rv(s5, po, omode, oovf)
                out[i, j0 + 6] = _rv(s6, po, omode, oovf)
                out[i, j0 + 7] = _rv(s7, po, omode, oovf)
                j0 += 8
            while j0 + 4 <= n:
                b0, b1, b2, b3 = bt[j0], bt[j0 + 1], bt[j0 + 2], bt[j0 + 3]
                s0, s1, s2, s3 = c0[i, j0], c0[i, j0 + 1], c0[i, j0 + 2], c0[i, j0 + 3]
                for k in range(kk):
                    x = arow[k]
                    s0 = _fma32(x * b0[k], s0, amode, pa, aovf)
                    s1 = _fma32(x * b1[k], s1, amode, pa, aovf)
                    s2 = _fma32(x * b2[k], s2, amode, pa, aovf)
                    s3 = _fma32(x * b3[k], s3, amode, pa, aovf)
                out[i, j0] = _rv(s0, po, omode, oovf)
                out[i, j0 + 1] = _rv(s1, po, omode, oovf)
                out[i, j0 + 2] = _rv(s2, po, omode, oovf)
                out[i, j0 + 3] = _rv(s3, po, omode, oovf)
                j0 += 4
        for j in range(j0, n):
            brow = bt[j]
            if exact:
                limbs[:] = 0
                tot = c0[i, j]
                for k in range(a.shape[1]):
                    v = arow[k] * brow[k]
                    tot += v
                    if math.isfinite(v):
                        sa_add(limbs, v)
                if math.isfinite(tot) and math.isfinite(c0[i, j]):
                    sa_add(limbs, c0[i, j])
                    out[i, j] = sa_round(limbs, po, omode, oovf)
                else:
                    out[i, j] = _rv(tot, po, omode, oovf)
                continue
            for s in range(ns):
                cin = c0[i, j] if s == 0 else 0.0
                v = _slice(arow, brow, bounds[s], bounds[s + 1], cin, block, keep, fused, promote,
                           pa, amode, aovf, pp, povf, tmp, limbs, f32, fast, sh, hi)  # fmt: skip
                part[s] = _rv(v, pw, np.int64(_RNE), wovf) if ns > 1 else v
            if ns == 1:
                acc = part[0]
            elif tree:
                w = ns
                while w > 1:
                    h = w // 2
                    for q in range(h):
                        part[q] = add2(part[2 * q], part[2 * q + 1], pw, np.int64(_RNE), wovf)
                    if w % 2 == 1:
                        part[h] = part[w - 1]
                        w = h + 1
                    else:
                        w = h
                acc = part[0]
            else:
                acc = part[order[0]]
                for q in range(1, ns):
                    acc = add2(acc, part[order[q]], pw, np.int64(_RNE), wovf)
            out[i, j] = _rv(acc, po, omode, oovf)
    return 0


def _params(f) -> tuple:
    return (*_kparams(f), f.mag_bits)


def _is_float32(f) -> bool:
    """Whether ``f`` rounds exactly like IEEE float32 (same parameters; the fast paths assume it)."""
    from ..formats._registry import get_format

    return _params(f) == _params(get_format("float32"))


def _fp32_range_shift(f) -> int:
    """``52 - mbits`` if ``f`` is an IEEE-layout binary format with float32's exponent range (8 bits,
    subnormals, Inf/NaN) and at most 23 fraction bits, else -1 (the bit-operation rounding applies)."""
    from ..formats._float import FloatFormat

    if not 1 <= f.mbits <= 23:
        return -1
    return 52 - f.mbits if _params(f) == _params(FloatFormat(8, f.mbits)) else -1


def _hw_chain(prof: GemmProfile, facc: object, bmode: int, keep: int) -> bool:
    """Whether the profile is a plain chain of IEEE float32 FMAs rounded to nearest even."""
    return (
        _is_float32(facc) and bmode == _RNE and keep < 0 and prof.fused and not prof.exact
        and prof.split_k == 1 and max(prof.block_size, 1) == 1 and not prof.promote_interval
    )  # fmt: skip


def _run_hw_chain(aq, bt, c0, out, fout, prof, macs_per_row) -> bool:  # type: ignore[no-untyped-def]
    """The chain on the hardware FMA (``_gemm_fma``) if A, B and C0 hold float32 values.

    Returns False (``out`` then still to be computed) if an operand is not float32-exact or a
    thread flushes subnormals.
    """
    from ._gemm_fma import chain_kernel, fits_float32

    a32, b32, c32 = fits_float32(aq), fits_float32(bt.T), fits_float32(c0)
    if a32 is None or b32 is None or c32 is None:
        return False
    flags = run_parts(
        chain_kernel, aq.shape[0], a32, b32, c32, out, _params(fout),
        int(parse_rounding(prof.out_rounding)), int(resolve_overflow(fout, None)),
        np.float32(2.0**-100), np.float32(2.0**40), align=1, min_part=PAR_MIN // macs_per_row,
    )  # fmt: skip
    return not any(flags)


def split_bounds(k: int, n_split: int) -> np.ndarray:
    """Start indices of ``n_split`` contiguous slices of ``range(k)`` (size ``ceil(k / n_split)``)."""
    size = -(-k // n_split) if k else 0
    return np.array([min(s * size, k) for s in range(n_split + 1)], dtype=np.int64)


def gemm_operands(a: object, b: object, c: object, prof: GemmProfile) -> tuple:
    """The operands every GEMM backend takes: ``(aq, bt, c0, out, bounds, order, shape)``.

    ``aq`` is A and ``bt`` is B transposed, rounded to the profile's input formats (contiguous
    float64); ``c0`` is C0 rounded to the output format (zeros without ``c``); ``out`` an empty
    ``(m, n)`` result; ``bounds``/``order`` the split-K slices and their reduction order; ``shape``
    the shape of the returned result (1-d operands drop their dimension).
    """
    fa, fb, _, _, _, fout = prof.formats()
    a_ = np.asarray(a, dtype=np.float64)
    b_ = np.asarray(b, dtype=np.float64)
    if a_.ndim == 0 or b_.ndim == 0 or a_.ndim > 2 or b_.ndim > 2:
        raise ValueError("matmul takes 1-d or 2-d operands")
    va, vb = a_.ndim == 1, b_.ndim == 1
    a2 = a_[None, :] if va else a_
    b2 = b_[:, None] if vb else b_
    if a2.shape[1] != b2.shape[0]:
        raise ValueError(f"shapes {a_.shape} and {b_.shape} do not align")
    m, k = a2.shape
    n = b2.shape[1]
    aq = np.ascontiguousarray(quantize(np.ascontiguousarray(a2), fa))
    bt = np.ascontiguousarray(quantize(np.ascontiguousarray(b2.T), fb))
    if c is None:
        c0 = np.zeros((m, n))
    else:
        c_ = np.asarray(c, dtype=np.float64)
        c0 = np.ascontiguousarray(quantize(np.ascontiguousarray(np.broadcast_to(c_, (m, n))), fout))
    ns = prof.split_k
    bounds = split_bounds(k, ns)
    if prof.reduce_order == "permutation":
        order = np.random.default_rng(prof.reduce_seed).permutation(ns).astype(np.int64)
    else:
        order = np.arange(ns, dtype=np.int64)
    out = np.empty((m, n), dtype=np.float64)
    shape = (() if vb else (n,)) if va else ((m,) if vb else (m, n))
    return aq, bt, c0, out, bounds, order, shape


def matmul(a: object, b: object, profile: GemmProfile | str = "ieee_fp32_sequential", *,
           c: object = None, backend: str = "auto") -> np.ndarray:  # fmt: skip
    """Emulated ``a @ b + c`` under a hardware accumulation model.

    Parameters
    ----------
    a, b
        Real arrays of shapes ``(M, K)`` and ``(K, N)`` (1-d operands as in :func:`numpy.matmul`).
        They are rounded to the profile's input formats (nearest even) first.
    profile
        A :class:`GemmProfile` or a preset name (:meth:`GemmProfile.presets`).
    c
        Optional addend ``C0`` broadcastable to ``(M, N)``, rounded (nearest even) to the output
        format, the format of a GPU GEMM's C/D matrices; it is the carry-in of the first block of the
        first K slice (so a block FMA aligns and truncates it like a product).
    backend
        ``"numba"`` (this module's kernel), ``"cpp"`` (the C++ core, ``lowprec.ops._gemm_cpp``; same
        bits) or ``"auto"`` (= ``"numba"``).

    Returns
    -------
    numpy.ndarray
        float64 array of values of the profile's output format.

    Examples
    --------
    >>> import numpy as np, lowprec.ops as ops
    >>> a = np.array([[2.0**24, 1.0, 1.0]]); b = np.ones((3, 1))
    >>> float(ops.matmul(a, b, "ieee_fp32_sequential")[0, 0])  # 1 is lost twice
    16777216.0
    >>> float(ops.matmul(a, b, "exact")[0, 0])
    16777218.0
    """
    prof = profile if isinstance(profile, GemmProfile) else GemmProfile.preset(profile)
    if backend not in ("auto", "numba", "cpp"):
        raise ValueError(f"backend must be 'auto', 'numba' or 'cpp', not {backend!r}")
    if backend == "cpp":
        from ._gemm_cpp import matmul_cpp  # imported here: it imports this module

        return matmul_cpp(a, b, prof, c=c)
    _, _, facc, fprom, fpart, fout = prof.formats()
    aq, bt, c0, out, bounds, order, shape = gemm_operands(a, b, c, prof)
    bmode = int(parse_rounding(prof.block_rounding))
    keep = -1 if prof.align_bits is None else prof.align_bits
    sh = _fp32_range_shift(facc)
    fast = (
        keep >= 0 and prof.fused and not prof.exact and sh >= 0 and bmode in (_RNE, _RTZ)
        and (max(prof.block_size, 1) + 1) * 2.0**keep <= 2.0**53
        and bool(np.isfinite(aq).all() and np.isfinite(bt).all() and np.isfinite(c0).all())
    )  # fmt: skip
    hi = (2.0 - 2.0**-facc.mbits) * 2.0**127 if sh >= 0 else 0.0
    macs_per_row = max(1, bt.shape[0] * aq.shape[1])
    if _hw_chain(prof, facc, bmode, keep) and _run_hw_chain(aq, bt, c0, out, fout, prof, macs_per_row):
        return out.reshape(shape)[()]
    if fast and prof.split_k == 1:  # the column-lane block kernel
        from ._gemm_block import block_kernel

        run_parts(
            block_kernel, aq.shape[0], aq, np.ascontiguousarray(bt.T), bt, c0, out, max(prof.block_size, 1), keep,
            prof.promote_interval or 0, _params(facc), bmode, int(resolve_overflow(facc, None)), _params(fprom),
            int(resolve_overflow(fprom, None)), _params(fout), int(parse_rounding(prof.out_rounding)),
            int(resolve_overflow(fout, None)), sh, hi, align=1, min_part=PAR_MIN // macs_per_row,
        )  # fmt: skip
        return out.reshape(shape)[()]
    run_parts(
        gemm_kernel, aq.shape[0], aq, bt, c0, out, bounds, order, prof.reduce_order == "tree", max(prof.block_size, 1),
        -1 if prof.align_bits is None else prof.align_bits, prof.fused, prof.promote_interval or 0, prof.exact,
        _params(facc), int(parse_rounding(prof.block_rounding)), int(resolve_overflow(facc, None)),
        _params(fprom), int(resolve_overflow(fprom, None)),
        _params(fpart), int(resolve_overflow(fpart, None)),
        _params(fout), int(parse_rounding(prof.out_rounding)), int(resolve_overflow(fout, None)),
        _is_float32(facc) and bmode in (_RNE, _RTZ), fast, max(sh, 29), hi,
        align=1, min_part=PAR_MIN // macs_per_row,
    )  # fmt: skip
    return out.reshape(shape)[()]  # [()]: a numpy scalar for two 1-d operands
