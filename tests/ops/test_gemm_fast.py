"""The float32 fast paths of the GEMM kernel give bit-identical results to the general rounding path."""

from __future__ import annotations

import numpy as np
import pytest

from lowprec import quantize
from lowprec.ops import _gemm
from lowprec.ops._profile import GemmProfile
from lowprec.rounding import parse_rounding, resolve_overflow


def _run(prof: GemmProfile, a: np.ndarray, b: np.ndarray, c: np.ndarray, f32: bool) -> np.ndarray:
    fa, fb, facc, fprom, fpart, fout = prof.formats()
    aq = np.ascontiguousarray(quantize(a, fa))
    bt = np.ascontiguousarray(quantize(np.ascontiguousarray(b.T), fb))
    c0 = np.ascontiguousarray(quantize(c, facc))
    m, n = aq.shape[0], bt.shape[0]
    out = np.empty((m, n))
    p = _gemm._params
    _gemm.gemm_kernel(
        aq, bt, c0, out, _gemm.split_bounds(aq.shape[1], prof.split_k), np.arange(prof.split_k),
        prof.reduce_order == "tree", prof.block_size, -1 if prof.align_bits is None else prof.align_bits,
        prof.fused, prof.promote_interval or 0, prof.exact,
        p(facc), int(parse_rounding(prof.block_rounding)), int(resolve_overflow(facc, None)),
        p(fprom), int(resolve_overflow(fprom, None)), p(fpart), int(resolve_overflow(fpart, None)),
        p(fout), int(parse_rounding(prof.out_rounding)), int(resolve_overflow(fout, None)), f32,
    )  # fmt: skip
    return out


def _operands(rng: np.random.Generator, m: int, k: int, n: int) -> tuple:
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


@pytest.mark.parametrize("rounding", ["nearest_even", "toward_zero"])
@pytest.mark.parametrize("base", ["ieee_fp32_sequential", "h100_bf16", "v100_fp16", "h100_fp8_promote128"])
def test_fast_path_bits_equal_general(base: str, rounding: str) -> None:
    prof = GemmProfile.preset(base).replace(block_rounding=rounding)
    rng = np.random.default_rng(7)
    for m, k, n in [(6, 40, 7), (5, 67, 9)]:
        a, b, c = _operands(rng, m, k, n)
        fast = _run(prof, a, b, c, True)
        slow = _run(prof, a, b, c, False)
        np.testing.assert_array_equal(fast.view(np.int64), slow.view(np.int64))


def test_fast_path_not_used_for_other_accumulators() -> None:
    assert not _gemm._is_float32(GemmProfile(acc_format="bfloat16").formats()[2])
    assert not _gemm._is_float32(GemmProfile(acc_subnormals=False).formats()[2])
    assert _gemm._is_float32(GemmProfile().formats()[2])
