"""The thread split of the Numba kernels (``lowprec._numba._threads``): same bits for any thread count."""

from __future__ import annotations

import itertools

import numba
import numpy as np
import pytest

import lowprec
from lowprec._numba._threads import CHUNK, PAR_MIN, run_parts


def _one_and_all(fn):
    """``fn()`` with one thread and with every thread Numba has."""
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = fn()
    finally:
        numba.set_num_threads(old)
    return one, fn()


def test_run_parts_splits_on_aligned_bounds_and_reraises():
    seen = []

    def kernel(lo, hi, tag):
        seen.append((lo, hi, tag))
        return hi - lo

    size = 3 * PAR_MIN + 5
    parts = run_parts(kernel, size, "t")
    assert sum(parts) == size
    spans = sorted(s for s in seen if s[1] > s[0])
    assert spans[0][0] == 0 and spans[-1][1] == size
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
    assert all(lo % CHUNK == 0 for lo, _, _ in spans)
    assert len(spans) == min(numba.get_num_threads(), 3)

    def failing(lo, hi):
        if lo > 0:
            raise ValueError("boom")
        return 0

    if numba.get_num_threads() > 1:
        with pytest.raises(ValueError, match="boom"):
            run_parts(failing, 4 * PAR_MIN)
    assert run_parts(kernel, 0, "empty") == [0]


@pytest.mark.parametrize("mode", ["nearest_even", "stochastic"])
@pytest.mark.parametrize("fmt", ["bfloat16", "float8_e8m0fnu"])  # the vectorised and the generic kernel
def test_float_kernels(fmt, mode):
    x = np.random.default_rng(1).standard_normal(5 * PAR_MIN + 77) * 100
    x[::997] = np.nan
    kw = {"seed": 5} if mode == "stochastic" else {}
    one, many = _one_and_all(lambda: lowprec.encode(x, fmt, mode, **kw))
    np.testing.assert_array_equal(one, many)
    one, many = _one_and_all(lambda: lowprec.quantize(x.astype(np.float32), fmt, mode, **kw))
    np.testing.assert_array_equal(one.view(np.uint32), many.view(np.uint32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])  # the fast and the general block kernel
@pytest.mark.parametrize("axis", [-1, 0])
def test_block_kernels(dtype, axis):
    x = (np.random.default_rng(2).standard_normal((96, 2080)) * 7).astype(dtype)
    one, many = _one_and_all(lambda: lowprec.quantize(x, "mxfp4", axis=axis, rounding="stochastic", seed=3))
    np.testing.assert_array_equal(one, many)
    (c1, s1), (c2, s2) = _one_and_all(lambda: lowprec.blocks.encode(x, "nvfp4", axis=axis))
    np.testing.assert_array_equal(c1, c2)
    np.testing.assert_array_equal(s1, s2)


def test_gemm_kernel():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((90, 300)), rng.standard_normal((300, 70))
    for profile in ("ieee_fp32_sequential", "h100_fp8", "a100_tf32"):
        one, many = _one_and_all(lambda p=profile: lowprec.matmul(a, b, profile=p))
        np.testing.assert_array_equal(one, many)
