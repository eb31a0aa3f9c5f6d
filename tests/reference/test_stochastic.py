"""Stochastic rounding: the random-bit stream, exact probabilities, unbiasedness, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest
from reforacles import decode_any, random_bits_np

from lowprec.formats import FORMATS
from lowprec.reference import decode_reference, encode_reference, random_bits_reference
from lowprec.reference._random import splitmix64
from lowprec.rounding import Overflow, Rounding

SR_FORMATS = [
    "bfloat16",
    "float16",
    "float8_e4m3fn",
    "float8_e5m2",
    "float4_e2m1fn",
    "p3109_k8p3se",
    "p3109_k8p1se",
    "float8_e8m0fnu",
    "tf32",
    "float32",
]


def _between(fmt_name: str) -> list[float]:
    """Values strictly between two grid points: normal, subnormal, negative, tiny."""
    fmt = FORMATS[fmt_name]
    mn = float(fmt.min_subnormal)
    vals = [1.0 + float(fmt.eps) * 0.3, 3.7 * 1.0, -(1.0 + float(fmt.eps) * 0.8)]
    if fmt.zero:
        vals += [mn * 0.25, -mn * 0.6]
    if fmt.subnormals:
        vals += [mn * 2.5]
    return [v for v in vals if abs(v) < float(fmt.max_finite) and (fmt.signed or v > 0)]


def test_random_bits_match_documented_stream() -> None:
    for seed in (0, 1, 12345, 2**63 + 5, 2**64 - 1):
        for n in (1, 8, 23, 32, 52):
            np.testing.assert_array_equal(random_bits_reference(seed, 257, n), random_bits_np(seed, 257, n))
    # the well-known first SplitMix64 output for state 0 (mix(0) == 0, so seed 0 is that stream)
    assert splitmix64(0) == 0
    assert int(random_bits_reference(0, 1, 64)[0]) == 0xE220A8397B1DCDAF


def test_random_bits_range_and_independence_of_count() -> None:
    r = random_bits_reference(7, 1000, 5)
    assert r.min() >= 0 and r.max() < 32 and len(np.unique(r)) == 32
    np.testing.assert_array_equal(random_bits_reference(7, 10, 5), r[:10])  # prefix-stable


@pytest.mark.parametrize("n", [1, 2, 4, 8])
@pytest.mark.parametrize("name", SR_FORMATS)
def test_stochastic_a_exact_probability_over_all_r(name: str, n: int) -> None:
    """Over every r in [0, 2**n), exactly floor(rem * 2**n) values of r round away (P3109 StochasticA)."""
    fmt = FORMATS[name]
    r = np.arange(1 << n, dtype=np.int64)
    for v in _between(name):
        lo = encode_reference(np.array([v]), fmt, Rounding.TOWARD_ZERO, Overflow.SATURATE)[0]
        hi_mode = Rounding.TOWARD_POSITIVE if v > 0 else Rounding.TOWARD_NEGATIVE
        hi = encode_reference(np.array([v]), fmt, hi_mode, Overflow.SATURATE)[0]
        a, b = abs(decode_any(np.array([lo]), fmt)[0]), abs(decode_any(np.array([hi]), fmt)[0])
        assert lo != hi
        rem = (abs(v) - a) / (b - a)
        codes = encode_reference(np.full(len(r), v), fmt, Rounding.STOCHASTIC, Overflow.SATURATE, r, n)
        assert set(np.unique(codes).tolist()) <= {int(lo), int(hi)}
        assert int((codes == hi).sum()) == int(np.floor(rem * 2**n))
        # equal-probability SR: exactly half of the r values round away
        codes = encode_reference(np.full(len(r), v), fmt, Rounding.STOCHASTIC_EQUAL, Overflow.SATURATE, r, n)
        assert int((codes == hi).sum()) == (1 << n) // 2


@pytest.mark.parametrize("mode", [Rounding.STOCHASTIC, Rounding.STOCHASTIC_EQUAL], ids=["sr", "sr_equal"])
def test_exact_values_never_move(mode: Rounding) -> None:
    fmt = FORMATS["float8_e4m3fn"]
    x = decode_reference(np.arange(0x7F, dtype=np.uint8), fmt)
    n = 8
    r = np.full(len(x), (1 << n) - 1)
    np.testing.assert_array_equal(encode_reference(x, fmt, mode, Overflow.SATURATE, r, n), np.arange(0x7F))


@pytest.mark.parametrize("name", SR_FORMATS)
def test_seeded_stochastic_rounding_is_unbiased(name: str) -> None:
    """Mean of many seeded SR roundings equals the exact value within 5 binomial standard deviations."""
    fmt = FORMATS[name]
    count, n = 20000, 32
    for k, v in enumerate(_between(name)):
        r = random_bits_np(2024 + k, count, n)
        codes = encode_reference(np.full(count, v), fmt, Rounding.STOCHASTIC, Overflow.SATURATE, r, n)
        vals = decode_any(codes, fmt)
        lo, hi = np.min(vals), np.max(vals)
        assert lo < v < hi and len(np.unique(vals)) == 2
        p = (v - lo) / (hi - lo)
        std = (hi - lo) * np.sqrt(p * (1 - p) / count)
        # the truncation of rem to 32 bits biases by at most 2**-32 of a step: negligible here
        assert abs(vals.mean() - v) < 5 * std, (v, vals.mean(), std)
        # ... and a biased stand-in (round to nearest) would fail this test
        assert abs(round(p) * (hi - lo) + lo - v) > 5 * std


@pytest.mark.parametrize("name", ["bfloat16", "float8_e5m2", "float4_e2m1fn"])
def test_stochastic_equal_frequency_is_one_half(name: str) -> None:
    fmt = FORMATS[name]
    count, n = 20000, 16
    for k, v in enumerate(_between(name)):
        r = random_bits_np(77 + k, count, n)
        codes = encode_reference(np.full(count, v), fmt, Rounding.STOCHASTIC_EQUAL, Overflow.SATURATE, r, n)
        hi = np.max(np.abs(decode_any(codes, fmt)))
        frac = np.mean(np.abs(decode_any(codes, fmt)) == hi)
        assert abs(frac - 0.5) < 5 * np.sqrt(0.25 / count), (v, frac)


def test_seeded_rounding_is_reproducible() -> None:
    fmt = FORMATS["bfloat16"]
    x = np.random.default_rng(3).standard_normal(5000)
    n = 32

    def sr(seed: int) -> np.ndarray:
        r = random_bits_reference(seed, x.size, n)
        return encode_reference(x, fmt, Rounding.STOCHASTIC, Overflow.SATURATE, r, n)

    a, b, c = sr(11), sr(11), sr(12)
    np.testing.assert_array_equal(a, b)
    assert (a != c).mean() > 0.1  # different seeds give different roundings
    # still the two neighbours only
    lo = encode_reference(x, fmt, Rounding.TOWARD_ZERO, Overflow.SATURATE)
    hi = encode_reference(np.abs(x), fmt, Rounding.TOWARD_POSITIVE, Overflow.SATURATE) | (lo & 0x8000)
    assert np.all((a == lo) | (a == hi))
