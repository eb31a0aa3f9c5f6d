"""The float32 fast paths of the GEMM kernel give bit-identical results to the general rounding path."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from gemmkit import run_kernel, wide_operands

from lowprec import FloatFormat, quantize
from lowprec.ops import _gemm
from lowprec.ops._profile import FP22, GemmProfile


@pytest.mark.parametrize("rounding", ["nearest_even", "toward_zero"])
@pytest.mark.parametrize("base", ["ieee_fp32_sequential", "h100_bf16", "v100_fp16", "h100_fp8_promote128"])
def test_fast_path_bits_equal_general(base: str, rounding: str) -> None:
    prof = GemmProfile.preset(base).replace(block_rounding=rounding)
    rng = np.random.default_rng(7)
    for m, k, n in [(6, 40, 7), (5, 67, 9)]:
        a, b, c = wide_operands(rng, m, k, n)
        fast = run_kernel(prof, a, b, c, True)
        slow = run_kernel(prof, a, b, c, False)
        np.testing.assert_array_equal(fast.view(np.int64), slow.view(np.int64))


def test_fast_path_not_used_for_other_accumulators() -> None:
    assert not _gemm._is_float32(GemmProfile(acc_format="bfloat16").formats()[2])
    assert not _gemm._is_float32(GemmProfile(acc_subnormals=False).formats()[2])
    assert _gemm._is_float32(GemmProfile().formats()[2])


ACCS = ["float32", FP22, FloatFormat(8, 10), FloatFormat(8, 7)]


@pytest.mark.parametrize("rounding", ["nearest_even", "toward_zero"])
@pytest.mark.parametrize("acc", ACCS, ids=["fp32", "fp22", "e8m10", "e8m7"])
@pytest.mark.parametrize("base", ["v100_fp16", "h100_bf16", "h100_fp8", "h100_fp8_promote128", "b200_bf16"])
def test_block_fast_bits_equal_general(base: str, acc: object, rounding: str) -> None:
    """``_block_fast`` (float sums, bit-operation rounding) against the general int64 block path."""
    prof = GemmProfile.preset(base).replace(block_rounding=rounding, acc_format=acc)
    rng = np.random.default_rng(13)
    for m, k, n in [(6, 40, 7), (5, 131, 9)]:
        a, b, c = wide_operands(rng, m, k, n)
        fa, fb = prof.formats()[:2]
        a, b = quantize(a, fa), quantize(b, fb)  # _block_fast needs finite terms (matmul checks it)
        a[~np.isfinite(a)] = 3.0
        b[~np.isfinite(b)] = -5.0
        fast = run_kernel(prof, a, b, c, False, fast=True)
        slow = run_kernel(prof, a, b, c, False)
        np.testing.assert_array_equal(fast.view(np.int64), slow.view(np.int64))
        if acc == "float32":  # the f32 flag is only valid for an IEEE float32 accumulator
            np.testing.assert_array_equal(fast.view(np.int64), run_kernel(prof, a, b, c, True).view(np.int64))


@pytest.mark.parametrize("preset", ["h100_fp8", "a100_tf32", "b200_bf16"])
def test_matmul_with_and_without_nonfinitewide_operands(preset: str) -> None:
    """``matmul`` takes ``_block_fast`` only for finite operands; both cases match the general path."""
    prof = GemmProfile.preset(preset)
    rng = np.random.default_rng(5)
    a, b, c = wide_operands(rng, 4, 70, 9)
    got = _gemm.matmul(a, b, prof, c=c)
    np.testing.assert_array_equal(got.view(np.int64), run_kernel(prof, a, b, c, False).view(np.int64))
    assert np.isnan(got[2]).all()  # the NaN in row 2 reaches every output of the row
    a = rng.standard_normal((5, 70)) * 2.0 ** rng.integers(-8, 8, (5, 70))  # finite in every input format
    b = rng.standard_normal((70, 9))
    c = rng.standard_normal((5, 9))
    got = _gemm.matmul(a, b, prof, c=c)
    np.testing.assert_array_equal(got.view(np.int64), run_kernel(prof, a, b, c, False).view(np.int64))
    np.testing.assert_array_equal(
        got.view(np.int64), run_kernel(prof, a, b, c, False, fast=True).view(np.int64)
    )


def test_fma32_equals_two_sum_round_to_odd() -> None:
    """The cheap FMA step (error-free transformation only at float32 decision points) = the full one."""
    rng = np.random.default_rng(21)
    n = 200_000
    c = quantize(rng.standard_normal(n) * 2.0 ** rng.integers(-20, 20, n), "float32")
    # products that land exactly on or next to float32 midpoints and representable values of c's binade
    e = np.floor(np.log2(np.abs(c)))
    v = np.where(rng.random(n) < 0.5, 2.0 ** (e - 24), 2.0 ** (e - 23)) * rng.choice([-1.0, 1.0], n)
    v = v * np.where(rng.random(n) < 0.3, 1.0 + 2.0**-30, 1.0) + np.where(
        rng.random(n) < 0.3, 2.0 ** (e - 60), 0.0
    )
    v[::3] = rng.standard_normal(n)[::3]
    for mode in (_gemm._RNE, _gemm._RTZ):
        got, want = _fma_pair(v, c, mode)
        np.testing.assert_array_equal(got.view(np.int64), want.view(np.int64))


def _fma_pair(v: np.ndarray, c: np.ndarray, mode: int) -> tuple:
    p = _gemm._params(FloatFormat(8, 23))
    got = np.array([_fma32_scalar(x, y, mode, p) for x, y in zip(v, c)])
    want = np.array([_fma_step_scalar(x, y, mode, p) for x, y in zip(v, c)])
    return got, want


@numba.njit
def _fma32_scalar(v, c, mode, p):
    return _gemm._fma32(v, c, mode, p, 0)


@numba.njit
def _fma_step_scalar(v, c, mode, p):
    return _gemm._fma_step(v, c, True, p, mode, 0)
