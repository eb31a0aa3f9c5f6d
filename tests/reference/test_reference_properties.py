"""Hypothesis properties of the vectorised reference over formats x rounding modes.

Monotone, idempotent, sign-symmetric (symmetric modes), RD <= x <= RU with every mode giving one
of the two, and results always representable. Stochastic modes use one random integer for the
whole array, which makes them deterministic functions of x (and monotone).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reforacles import canon_bits, decode_any

from lowprec.formats import FORMATS, FloatFormat
from lowprec.reference import encode_reference, quantize_reference
from lowprec.rounding import Overflow, Rounding, default_overflow

NAMES = [
    "float8_e4m3fn",
    "float8_e5m2",
    "float8_e4m3fnuz",
    "float8_e8m0fnu",
    "float4_e2m1fn",
    "float6_e3m2fn",
    "bfloat16",
    "float16",
    "p3109_k8p1se",
    "p3109_k8p3ue",
    "p3109_k16p9se",
    "tf32",
    "fp22",
]
SYMMETRIC = {
    Rounding.NEAREST_EVEN,
    Rounding.NEAREST_AWAY,
    Rounding.NEAREST_ZERO,
    Rounding.TOWARD_ZERO,
    Rounding.TO_ODD,
    Rounding.STOCHASTIC,
    Rounding.STOCHASTIC_EQUAL,
}
N_BITS = 6


def _values(fmt: FloatFormat) -> st.SearchStrategy[np.ndarray]:
    top = float(fmt.max_finite) * 3
    elem = st.one_of(
        st.floats(allow_nan=fmt.has_nan, allow_infinity=True),
        st.floats(min_value=-top, max_value=top),
        st.floats(min_value=-float(fmt.min_normal) * 4, max_value=float(fmt.min_normal) * 4),
        st.integers(0, fmt.max_mag).map(lambda c: float(decode_any(np.array([c]), fmt)[0])),
    )
    return st.lists(elem, min_size=1, max_size=40).map(lambda v: np.array(v, dtype=np.float64))


def _q(x: np.ndarray, fmt: FloatFormat, mode: Rounding, ovf: Overflow, r: int) -> np.ndarray:
    """``quantize_reference`` restated with the cached decode tables.

    ``quantize_reference`` itself rebuilds a 2**16-entry table with Fractions on every call for
    16-bit formats (about a second), far too slow for property tests; it is checked against this
    in ``test_quantize_reference_is_encode_then_decode``.
    """
    bits = np.full(x.shape, r, dtype=np.int64)
    nan = np.isnan(x)
    xf = np.where(nan, 0.0, x) if not fmt.has_nan else x
    vals = decode_any(encode_reference(xf, fmt, mode, ovf, bits, N_BITS), fmt)
    return np.where(nan, np.nan, vals)


@pytest.mark.parametrize("name", ["float8_e4m3fn", "float4_e2m1fn", "float8_e8m0fnu", "bfloat16"])
def test_quantize_reference_is_encode_then_decode(name: str) -> None:
    fmt = FORMATS[name]
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.standard_normal(300) * 10, [np.nan, -np.nan, np.inf, -0.0, 0.0, 1e-300]])
    for mode in (Rounding.NEAREST_EVEN, Rounding.STOCHASTIC):
        r = rng.integers(0, 1 << N_BITS)
        for ovf in (Overflow.SATURATE, default_overflow(fmt)):
            got = quantize_reference(x, fmt, mode, ovf, np.full(x.shape, r), N_BITS)
            np.testing.assert_array_equal(canon_bits(got), canon_bits(_q(x, fmt, mode, ovf, r)))
    x32 = x.astype(np.float32)
    got32 = quantize_reference(x32, fmt, Rounding.NEAREST_EVEN, Overflow.SATURATE)
    assert got32.dtype == np.float32
    want = _q(x32.astype(np.float64), fmt, Rounding.NEAREST_EVEN, Overflow.SATURATE, 0).astype(np.float32)
    np.testing.assert_array_equal(canon_bits(got32.astype(np.float64)), canon_bits(want.astype(np.float64)))


@pytest.mark.parametrize("mode", list(Rounding), ids=lambda m: m.name.lower())
@pytest.mark.parametrize("name", NAMES)
def test_properties(name: str, mode: Rounding) -> None:
    fmt = FORMATS[name]
    mx = float(fmt.max_finite)

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(x=_values(fmt), r=st.integers(0, (1 << N_BITS) - 1))
    def check(x: np.ndarray, r: int) -> None:
        sat = _q(x, fmt, mode, Overflow.SATURATE, r)
        ovf = default_overflow(fmt)
        dflt = _q(x, fmt, mode, ovf, r)
        # representable: every result is a decoded code (NaN passes through for formats without NaN)
        for y in (sat, dflt):
            codes = encode_reference(
                np.where(np.isnan(y) & (not fmt.has_nan), 0.0, y),
                fmt,
                mode,
                ovf,
                np.zeros(y.shape, dtype=np.int64),
                N_BITS,
            )
            back = np.where(np.isnan(y), y, decode_any(codes, fmt))
            np.testing.assert_array_equal(canon_bits(back), canon_bits(y))
            # idempotent: quantizing a representable value is the identity, in every mode
            np.testing.assert_array_equal(canon_bits(_q(y, fmt, mode, ovf, r)), canon_bits(y))
        # monotone (saturate keeps every result comparable)
        xs = np.sort(x[~np.isnan(x)])
        ys = _q(xs, fmt, mode, Overflow.SATURATE, r)
        assert np.all(np.diff(ys) >= 0), (xs, ys)
        # RD <= x <= RU inside the range, and every mode picks one of the two
        inside = ~np.isnan(x) & (np.abs(x) <= mx)
        if not fmt.zero:
            inside &= x >= float(fmt.min_normal)
        if not fmt.signed:
            inside &= x >= 0
        xi = x[inside]
        rd = _q(xi, fmt, Rounding.TOWARD_NEGATIVE, Overflow.SATURATE, 0)
        ru = _q(xi, fmt, Rounding.TOWARD_POSITIVE, Overflow.SATURATE, 0)
        assert np.all(rd <= xi) and np.all(xi <= ru)
        assert np.all((sat[inside] == rd) | (sat[inside] == ru))
        # sign symmetry (codes: -0 kept where the format has it)
        if fmt.signed and mode in SYMMETRIC:
            xn = x[~np.isnan(x)]
            a, b = _q(-xn, fmt, mode, Overflow.SATURATE, r), -_q(xn, fmt, mode, Overflow.SATURATE, r)
            if not fmt.has_negzero:
                a, b = a + 0.0, b + 0.0  # -0 -> +0: the format has one zero
            np.testing.assert_array_equal(canon_bits(a), canon_bits(b))

    check()
