"""Block-FMA GEMM with truncated alignment, vectorised across output columns.

The NVIDIA presets (``v100_fp16`` … ``h100_fp8_promote128``) sum each block of ``block_size``
products and the carry after aligning them to the block's largest exponent and truncating to
``keep`` bits. ``_gemm._block_fast`` computes one block of one output with float64 sums that are
exact under its preconditions; this kernel computes the same arithmetic for a tile of up to
``_JT`` output columns at once, so the compiler runs it in SIMD lanes:

1. ``amax[j] = max(|c[j]|, |a[i, k+t] * b[k+t, j]|)`` over the block (products are exact in float64);
2. ``q = exponent(amax) + 1 - keep`` and the truncated terms ``trunc(v * 2**-q)`` summed exactly;
3. the sum times ``2**q`` rounded to the accumulator by bit operations (as ``_block_fast``).

The order of the K loop is unchanged for every output. A column whose block result leaves the
accumulator's normal range (subnormal, overflow) is redone whole by the general per-column code
(``_gemm._slice``), so the rare cases keep their exact treatment.
"""

from __future__ import annotations

import numba
import numpy as np

from ._gemm import _F32_MIN, _RNE, SA_NL, _rv, _slice, add2, block_end

__all__ = ["block_kernel"]

_NJ = {"cache": True, "nogil": True, "error_model": "numpy"}
#: output columns per tile (float64 state arrays of 256 x 8 B each stay in L1)
_JT = 256


@numba.njit(inline="always", **_NJ)
def _round_lane(x, sh, mode):  # type: ignore[no-untyped-def]
    """``_gemm._round_bits`` without branches (selects), so that it runs in SIMD lanes."""
    b = np.float64(x).view(np.int64)
    low = b & ((np.int64(1) << sh) - 1)
    b -= low
    half = np.int64(1) << (sh - 1)
    up = (low > half) | ((low == half) & (((b >> sh) & 1) == 1))
    b += np.int64(up and mode == _RNE) << sh
    return np.int64(b).view(np.float64)


@numba.njit(inline="always", **_NJ)
def _tile(arow, b, j0, jn, k0, k1, cc, rr, amax, tot, qs, bad, block, keep, promote, sh, hi, amode, pp, povf):  # type: ignore[no-untyped-def]  # fmt: skip
    """Run the block model over K for columns ``j0 .. j0+jn-1``; carries in ``cc``, promoted sums in ``rr``."""
    cnt = 0
    k = k0
    while k < k1:
        kend = block_end(k, k1, block, promote, cnt)
        for t in range(jn):  # amax holds the bits of |v|: as int64 they order as the values do
            amax[t] = np.float64(abs(cc[t])).view(np.int64)
        for kk in range(k, kend):
            x = arow[kk]
            bk = b[kk, j0 : j0 + jn]  # a slice: bk[t] is then affine (no wraparound select)
            for t in range(jn):
                v = np.float64(abs(x * bk[t])).view(np.int64)
                m = amax[t]
                amax[t] = v if v > m else m  # an integer select: SIMD lanes (a float max is not)
        for t in range(jn):
            e = amax[t] >> 52  # biased exponent (the sign bit is clear), 0 for zero
            q = max(e - 1022 - keep, -1000)  # exponent(amax) + 1 - keep, kept in range for amax = 0
            qs[t] = q
            sc = np.int64((1023 - q) << 52).view(np.float64)  # 2**-q
            tot[t] = np.trunc(cc[t] * sc)  # alignment truncation toward zero
        for kk in range(k, kend):
            x = arow[kk]
            bk = b[kk, j0 : j0 + jn]  # a slice: bk[t] is then affine (no wraparound select)
            for t in range(jn):
                sc = np.int64((1023 - qs[t]) << 52).view(np.float64)
                tot[t] += np.trunc((x * bk[t]) * sc)
        for t in range(jn):
            v = tot[t] * np.int64((qs[t] + 1023) << 52).view(np.float64)  # exact
            m = abs(v)
            ok = m > _F32_MIN and m < hi
            if sh == 29 and amode == _RNE:
                r = np.float64(np.float32(v))
            else:
                r = _round_lane(v, sh, amode)
            cc[t] = r if ok else 0.0  # a zero sum is +0, as _block_fast returns
            bad[t] = bad[t] or (not ok and tot[t] != 0.0)
        cnt += kend - k
        k = kend
        if promote > 0 and (cnt == promote or k == k1):
            for t in range(jn):
                rr[t] = add2(rr[t], cc[t], pp, np.int64(_RNE), povf)
                cc[t] = 0.0
            cnt = 0


@numba.njit(**_NJ)
def block_kernel(
    lo, hi_row, a, b, bt, c0, out, block, keep, promote, pa, amode, aovf, pp, povf, po, omode, oovf, sh, hi
):  # type: ignore[no-untyped-def]  # fmt: skip
    """Rows ``lo .. hi_row-1`` of the fused block-FMA model with one K slice (see the module).

    ``a`` (M, K), ``b`` (K, N), ``bt`` (N, K: ``b`` transposed, for the per-column redo) and
    ``c0`` (M, N) are C-contiguous float64 holding finite values of the profile's formats; the
    other arguments are those of ``_gemm.gemm_kernel`` (``_gemm.matmul`` checks the preconditions
    of ``_gemm._block_fast``).
    """
    kk = a.shape[1]
    n = b.shape[1]
    cc = np.empty(_JT)
    rr = np.empty(_JT)
    amax = np.empty(_JT, np.int64)
    tot = np.empty(_JT)
    qs = np.empty(_JT, np.int64)
    bad = np.empty(_JT, np.bool_)
    tmp = np.empty(max(block, 1))
    limbs = np.zeros(SA_NL, np.int64)
    for i in range(lo, hi_row):
        arow = a[i]
        for j0 in range(0, n, _JT):
            jn = min(_JT, n - j0)
            for t in range(jn):
                cc[t] = c0[i, j0 + t]
                rr[t] = 0.0
                bad[t] = False
            _tile(arow, b, j0, jn, 0, kk, cc, rr, amax, tot, qs, bad, block, keep, promote, sh, hi, amode, pp, povf)  # fmt: skip
            for t in range(jn):
                j = j0 + t
                if bad[t]:  # the general per-column code, from the start
                    # run-time typed flags (np.int64 / np.bool_, not literals): the same compiled
                    # _slice as gemm_kernel's, instead of a second specialisation (~30 s cold)
                    v = _slice(arow, bt[j], np.int64(0), kk, c0[i, j], block, keep, np.bool_(True), promote, pa,
                               amode, aovf, pp, povf, tmp, limbs, np.bool_(False), np.bool_(False), sh, hi)  # fmt: skip
                else:
                    v = rr[t] if promote > 0 else cc[t]
                out[i, j] = _rv(v, po, omode, oovf)
    return 0
