"""GEMM kernel helpers shared by the lowprec.ops tests (imported as ``gemmkit``, see conftest.py)."""

from __future__ import annotations

import numpy as np

from lowprec import quantize
from lowprec.ops import _gemm
from lowprec.ops._profile import GemmProfile
from lowprec.rounding import parse_rounding, resolve_overflow


def run_kernel(
    prof: GemmProfile, a: np.ndarray, b: np.ndarray, c: np.ndarray, f32: bool, fast: bool = False
) -> np.ndarray:
    """The kernel with the float32 paths (``f32``) and the float-sum block path (``fast``) on or off."""
    fa, fb, facc, fprom, fpart, fout = prof.formats()
    sh = _gemm._fp32_range_shift(facc)
    assert not fast or sh >= 0
    aq = np.ascontiguousarray(quantize(a, fa))
    bt = np.ascontiguousarray(quantize(np.ascontiguousarray(b.T), fb))
    c0 = np.ascontiguousarray(quantize(c, fout))  # as matmul: C0 in the output format
    m, n = aq.shape[0], bt.shape[0]
    out = np.empty((m, n))
    p = _gemm._params
    _gemm.gemm_kernel(
        0, m, aq, bt, c0, out, _gemm.split_bounds(aq.shape[1], prof.split_k), np.arange(prof.split_k),
        prof.reduce_order == "tree", prof.block_size, -1 if prof.align_bits is None else prof.align_bits,
        prof.fused, prof.promote_interval or 0, prof.exact,
        p(facc), int(parse_rounding(prof.block_rounding)), int(resolve_overflow(facc, None)),
        p(fprom), int(resolve_overflow(fprom, None)), p(fpart), int(resolve_overflow(fpart, None)),
        p(fout), int(parse_rounding(prof.out_rounding)), int(resolve_overflow(fout, None)), f32,
        fast, max(sh, 29), (2.0 - 2.0**-facc.mbits) * 2.0**127,
    )  # fmt: skip
    return out


def wide_operands(rng: np.random.Generator, m: int, k: int, n: int) -> tuple:
    """Wide exponent ranges (overflow, float32 subnormal sums), exact cancellations, ties, Inf/NaN."""
    scale = 2.0 ** rng.integers(-75, 70, size=(m, k))
    a = rng.standard_normal((m, k)) * scale
    b = rng.standard_normal((k, n)) * 2.0 ** rng.integers(-75, 70, size=(k, n))
    a[0, :] = 1.0
    b[:, 0] = 2.0 ** -rng.integers(20, 30, size=k)  # many ties at float32 precision
    b[: k // 2, 1] = 1.0
    b[k // 2 :, 1] = -1.0  # exact zero sums
    a[1, 3] = np.inf
    a[2, 5] = np.nan
    c = rng.standard_normal((m, n)) * 2.0 ** rng.integers(-130, 128, size=(m, n))
    return a, b, c
