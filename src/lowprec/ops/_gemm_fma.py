"""The sequential float32 FMA chain of :func:`lowprec.ops.matmul` on the CPU's own FMA instruction.

A profile whose accumulation is a plain chain of IEEE float32 fused multiply-adds rounded to
nearest even (``ieee_fp32_sequential`` and its variants) computes, for every output,
``s = fma(a[i, k], b[k, j], s)`` for ``k = 0, 1, ...`` from ``s = c0[i, j]``. When A, B and C0
hold float32 values, that is exactly what the hardware ``vfmadd`` computes: one rounding of the
exact ``a*b + s`` to float32 (subnormals, overflow to Inf and signed zeros as IEEE 754 defines
them), the same bits as the kernel's float64 emulation (``_gemm._fma32``). Keeping the order per
output fixed, the kernel vectorises across output columns: the K loop stays sequential for every
output, so no sum is reassociated.

One thing can make the hardware differ from IEEE 754: a thread whose floating-point control word
flushes subnormals (FTZ/DAZ, set by some libraries). The kernel checks this on every call with
runtime operands and reports it, and :func:`lowprec.ops.matmul` then uses the emulation.
"""

from __future__ import annotations

import numba
import numpy as np

from .._numba._fma import fma
from ._gemm import _rv

__all__ = ["chain_kernel", "fits_float32"]

_NJ = {"cache": True, "nogil": True, "error_model": "numpy"}
#: output columns per tile: the tile of four accumulator rows (4 x 256 x 4 B) stays in L1
_JT = 256


@numba.njit(**_NJ)
def _ieee_subnormals(tiny: np.float32, big: np.float32) -> bool:
    """Whether this thread's FMA keeps subnormal results and operands (no FTZ/DAZ).

    ``tiny = 2**-100`` and ``big = 2**40`` come in as arguments so that nothing is constant-folded.
    """
    sub = fma(tiny, np.float32(1.0) / big, np.float32(0.0))  # 2**-140, a float32 subnormal
    back = fma(sub, big, np.float32(0.0))  # 2**-100 unless the subnormal operand reads as 0
    return sub != np.float32(0.0) and back == tiny


@numba.njit(**_NJ)
def _rows(i0, nr, a, b, c0, out, acc, po, omode, oovf):  # type: ignore[no-untyped-def]
    """Rows ``i0 .. i0+nr-1`` (``nr`` of 1..4) of the chain, tile by tile of ``_JT`` columns."""
    kk = a.shape[1]
    n = b.shape[1]
    a0 = a[i0]
    a1 = a[i0 + min(1, nr - 1)]  # rows past nr repeat the last one; their results are dropped
    a2 = a[i0 + min(2, nr - 1)]
    a3 = a[i0 + min(3, nr - 1)]
    s0, s1, s2, s3 = acc[0], acc[1], acc[2], acc[3]
    for j0 in range(0, n, _JT):
        jn = min(_JT, n - j0)
        for t in range(jn):
            s0[t] = c0[i0, j0 + t]
            s1[t] = c0[i0 + min(1, nr - 1), j0 + t]
            s2[t] = c0[i0 + min(2, nr - 1), j0 + t]
            s3[t] = c0[i0 + min(3, nr - 1), j0 + t]
        for k in range(kk):
            x0, x1, x2, x3 = a0[k], a1[k], a2[k], a3[k]
            bk = b[k, j0 : j0 + jn]
            for t in range(jn):  # independent outputs: vectorised across t, k stays in order
                v = bk[t]
                s0[t] = fma(x0, v, s0[t])
                s1[t] = fma(x1, v, s1[t])
                s2[t] = fma(x2, v, s2[t])
                s3[t] = fma(x3, v, s3[t])
        for r in range(nr):
            sr = acc[r]
            for t in range(jn):
                out[i0 + r, j0 + t] = _rv(np.float64(sr[t]), po, omode, oovf)


@numba.njit(**_NJ)
def chain_kernel(lo, hi, a, b, c0, out, po, omode, oovf, tiny, big):  # type: ignore[no-untyped-def]
    """``out[i, j] = round_out(fma chain over k of a[i, k] * b[k, j] from c0[i, j])``, rows lo..hi-1.

    ``a`` (M, K), ``b`` (K, N) and ``c0`` (M, N) are C-contiguous float32; ``out`` (M, N) float64
    receives the chain's float32 result rounded to the output format (``po``, ``omode``, ``oovf``).
    Returns 0, or 1 without writing anything if this thread flushes subnormals (see the module).
    """
    if not _ieee_subnormals(tiny, big):
        return 1
    acc = np.empty((4, _JT), np.float32)
    i = lo
    while i < hi:
        nr = min(4, hi - i)
        _rows(i, nr, a, b, c0, out, acc, po, omode, oovf)
        i += nr
    return 0


def fits_float32(x: np.ndarray) -> np.ndarray | None:
    """``x`` as C-contiguous float32 if that conversion is exact for every element (NaN kept), else None."""
    x32 = np.ascontiguousarray(x, dtype=np.float32)
    same = np.array_equal(x32, x, equal_nan=True)
    return x32 if same else None
