"""``lowprec._narrow``: float64 rounded once to float16 / bfloat16, against the exact reference."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

import lowprec
from lowprec._narrow import narrow, odd_float32


def _near_midpoints(mbits: int, n: int = 4000) -> np.ndarray:
    """Midpoints of a format with ``mbits`` fraction bits over many binades, each exactly and a
    few float64 ulps and float32 half-ulps either side (where rounding through float32 errs)."""
    rng = np.random.default_rng(mbits)
    frac = rng.integers(0, 1 << mbits, n)
    e = rng.integers(-140, 128, n)
    mid = np.ldexp(1.0 + (2 * frac + 1) / 2.0 ** (mbits + 1), e)
    out = [mid]
    for k in (1, 2, 3):
        out += [
            mid * (1 + k * 2.0**-52),
            mid * (1 - k * 2.0**-52),
            mid * (1 + k * 2.0**-30),
            mid * (1 - k * 2.0**-30),
        ]
    return np.concatenate(out)


@pytest.mark.parametrize(
    ("dtype", "name", "mbits"), [(np.float16, "float16", 10), (ml_dtypes.bfloat16, "bfloat16", 7)]
)
def test_narrow_rounds_once(dtype: type, name: str, mbits: int) -> None:
    specials = [
        0.0,
        -0.0,
        np.inf,
        -np.inf,
        np.nan,
        1e300,
        -1e300,
        3.4e38,
        3.5e38,
        65519.99,
        65520.0,
        5e-324,
        2.0**-149,
    ]
    v = np.concatenate([_near_midpoints(mbits), specials, np.random.default_rng(1).standard_normal(1000)])
    with np.errstate(over="ignore"):
        want = lowprec.quantize(v, name, "nearest_even", overflow="infinity", backend="reference")
    got = narrow(v, dtype).astype(np.float64)
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(got), nan)
    assert np.array_equal(got[~nan], want[~nan])
    assert np.array_equal(np.signbit(got[~nan]), np.signbit(want[~nan]))
    if dtype is ml_dtypes.bfloat16:  # the data meets ml_dtypes' double rounding
        with np.errstate(over="ignore"):
            assert (v.astype(dtype).astype(np.float64) != want)[~nan].any()


def test_odd_float32() -> None:
    v = np.array([1 + 2.0**-30, -(1 + 2.0**-30), 1.0, 1e300, -1e300, np.nan, -0.0, 2.0**-160])
    b = odd_float32(v).view(np.uint32)
    f = np.float32
    assert b[0] == (np.array(1.0, f).view(np.uint32) | 1)  # truncated, then the last bit set
    assert b[1] == (np.array(-1.0, f).view(np.uint32) | 1)
    assert b[2] == np.array(1.0, f).view(np.uint32)  # exact: unchanged
    assert b[3] == np.array(np.finfo(f).max, f).view(np.uint32)  # beyond the range: the largest, odd
    assert b[4] == np.array(-np.finfo(f).max, f).view(np.uint32)
    assert np.isnan(odd_float32(v)[5]) and b[6] == 0x80000000 and b[7] == 1  # tiny: the smallest subnormal
