"""The column-lane block-FMA kernel (``ops._gemm_block``) gives the general block code's bits."""

from __future__ import annotations

import numpy as np
import pytest
from gemmkit import run_kernel, wide_operands

from lowprec import FloatFormat, quantize
from lowprec.ops import _gemm
from lowprec.ops._profile import FP22, GemmProfile

ACCS = ["float32", FP22, FloatFormat(8, 10), FloatFormat(8, 7)]
BASES = ["v100_fp16", "a100_tf32", "h100_bf16", "h100_fp8", "h100_fp8_promote128", "b200_bf16"]
CASES = [
    (b, a, ("nearest_even", "toward_zero")[(i + j) % 2])
    for i, b in enumerate(BASES)
    for j, a in enumerate(ACCS)
]


def _finite_operands(prof: GemmProfile, rng: np.random.Generator, m: int, k: int, n: int) -> tuple:
    a, b, c = wide_operands(rng, m, k, n)
    fa, fb = prof.formats()[:2]
    a, b = quantize(a, fa), quantize(b, fb)  # the lanes need finite terms (matmul checks it)
    a[~np.isfinite(a)] = 3.0
    b[~np.isfinite(b)] = -5.0
    return a, b, c


@pytest.mark.parametrize(("base", "acc", "rounding"), CASES, ids=[f"{b}-{i % 4}-{r}" for i, (b, _, r) in enumerate(CASES)])  # fmt: skip
def test_lanes_equal_general_block_code(base: str, acc: object, rounding: str) -> None:
    """Wide exponents (overflowing and subnormal block sums: the per-column redo), ties, exact
    cancellations, ragged blocks and promotion intervals, more columns than one tile."""
    prof = GemmProfile.preset(base).replace(block_rounding=rounding, acc_format=acc)
    rng = np.random.default_rng(31)
    for m, k, n in [(6, 40, 7), (3, 131, 300)]:
        a, b, c = _finite_operands(prof, rng, m, k, n)
        got = _gemm.matmul(a, b, prof, c=c)
        want = run_kernel(prof, a, b, c, False)
        np.testing.assert_array_equal(got.view(np.int64), want.view(np.int64))


def test_lanes_taken_for_fused_single_slice_profiles(monkeypatch: pytest.MonkeyPatch) -> None:
    from lowprec.ops import _gemm_block

    calls = []
    real = _gemm_block.block_kernel
    monkeypatch.setattr(_gemm_block, "block_kernel", lambda lo, hi, *a: calls.append(1) or real(lo, hi, *a))
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((3, 20)), rng.standard_normal((20, 5))
    _gemm.matmul(a, b, "a100_tf32")
    assert calls
    del calls[:]
    for prof in [
        GemmProfile.preset("a100_tf32").replace(split_k=2),
        GemmProfile.preset("a100_tf32").replace(fused=False),
        GemmProfile.preset("a100_tf32").replace(extra_align_bits=None),
        GemmProfile.preset("a100_tf32").replace(block_rounding="toward_positive"),
        "ieee_fp32_sequential",
    ]:
        _gemm.matmul(a, b, prof)
    a[0, 0] = np.inf  # non-finite operands take the general code
    _gemm.matmul(a, b, "a100_tf32")
    assert calls == []
