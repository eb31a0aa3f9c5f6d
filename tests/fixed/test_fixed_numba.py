"""Numba kernels and the NumPy frontend: bit-exact with the reference, errors, no input mutation."""

from fractions import Fraction

import numpy as np
import pytest

from lowprec._fixed_api import family_handler, fixed_cast_codes, fixed_decode, fixed_encode, fixed_quantize
from lowprec._fixed_modes import FixedOverflow, FixedRounding
from lowprec.formats._fixed import FixedFormat
from lowprec.formats._int import IntFormat
from lowprec.reference._fixed import fixed_encode_reference, fixed_round_code
from lowprec.reference._random import random_bits_reference

FORMATS = [FixedFormat(6, 2), FixedFormat(5, 9), FixedFormat(7, -3), FixedFormat(6, 3, False),
           FixedFormat(33, 12), FixedFormat(64, 20), FixedFormat(64, 62, False)]  # fmt: skip


def _inputs(fmt, rng):
    k = np.arange(4 * max(fmt.min_code, -300) - 20, 4 * min(fmt.max_code, 300) + 21)
    return np.concatenate([
        np.ldexp(k.astype(np.float64), -(fmt.frac_bits + 2)),
        rng.standard_normal(300) * 2.0 ** (fmt.int_bits + 1),
        rng.standard_normal(40) * 2.0 ** rng.integers(-1074, 1020, 40),
        [0.0, -0.0, 2.0**-1074, 2.0**63, -(2.0**63), 2.0**64, 1.7e308, -1.7e308],
    ])  # fmt: skip


@pytest.mark.parametrize("fmt", FORMATS, ids=str)
def test_encode_matches_reference(fmt):
    rng = np.random.default_rng(fmt.bits)
    x = _inputs(fmt, rng)
    rb = rng.integers(0, 2**12, x.size)
    for q in FixedRounding:
        for o in FixedOverflow:
            if o == FixedOverflow.WRAP_SM and not fmt.signed:
                continue
            for n in (0, 2) if o in (FixedOverflow.WRAP, FixedOverflow.WRAP_SM) else (0,):
                kw = {"random_bits": rb, "n_random_bits": 12} if q.is_stochastic else {}
                got = fixed_encode(x, fmt, q, o, n, **kw)
                assert got.dtype == (np.int64 if fmt.signed else np.uint64)
                want = fixed_encode_reference(x, fmt, q, o, n, rb, 12)
                assert np.array_equal(got, want), (q, o, n)


def test_float32_and_float16_inputs_are_exact():
    fmt = FixedFormat(40, 10)
    rng = np.random.default_rng(3)
    x32 = (rng.standard_normal(2000) * 300).astype(np.float32)
    for q in ("TRN", "RND_CONV", "RND_ZERO", "TO_ODD"):
        assert np.array_equal(
            fixed_encode(x32, fmt, q, "SAT"), fixed_encode_reference(x32.astype(np.float64), fmt, q, "SAT")
        )
    x16 = x32.astype(np.float16)
    assert np.array_equal(
        fixed_encode(x16, fmt, "RND", "SAT"), fixed_encode(x16.astype(np.float64), fmt, "RND", "SAT")
    )
    q32 = fixed_quantize(x32, FixedFormat(12, 6), "RND_CONV", "SAT", backend="numba")
    assert q32.dtype == np.float32
    assert np.array_equal(
        q32,
        fixed_quantize(x32.astype(np.float64), FixedFormat(12, 6), "RND_CONV", "SAT", backend="numba").astype(
            np.float32
        ),
    )


def test_quantize_values_and_specials():
    fmt = FixedFormat(3, 2)
    x = np.array([1.25, -1.25, 1.75, np.nan, np.inf, -np.inf])
    assert np.array_equal(
        fixed_quantize(x, fmt, "RND", "SAT", backend="numba"),
        [1.5, -1.0, 1.5, np.nan, 1.5, -2.0],
        equal_nan=True,
    )
    assert np.isnan(fixed_quantize(x, fmt, "RND", "WRAP", backend="numba")[3:]).all()
    assert fixed_quantize(x, fmt, "RND", "SAT_ZERO", backend="numba")[4] == 0.0
    # Python float in, NumPy scalar out
    assert fixed_quantize(1.75, fmt, "RND", "WRAP", backend="numba") == -2.0
    ref = fixed_quantize(x[:3], fmt, "RND", "SAT", backend="reference")
    assert np.array_equal(ref, [1.5, -1.0, 1.5])


def test_cast_codes_matches_scalar_reference():
    rng = np.random.default_rng(11)
    for src, dst in ((FixedFormat(20, 6), FixedFormat(7, 2)), (FixedFormat(64, 30), FixedFormat(16, 40)),
                     (FixedFormat(12, 12), FixedFormat(10, 3, False)), (FixedFormat(30, -4), FixedFormat(64, 1))):  # fmt: skip
        codes = np.concatenate([rng.integers(src.min_code, src.max_code, 80, endpoint=True),
                                [src.min_code, src.max_code, 0, -1, 1]])  # fmt: skip
        rb = rng.integers(0, 16, codes.size)
        for q in FixedRounding:
            for o, n in ((FixedOverflow.WRAP, 0), (FixedOverflow.SAT_SYM, 0), (FixedOverflow.WRAP, 2),
                         (FixedOverflow.WRAP_SM, 0), (FixedOverflow.WRAP_SM, 3), (FixedOverflow.SAT_ZERO, 0)):  # fmt: skip
                if o == FixedOverflow.WRAP_SM and not dst.signed:
                    continue
                kw = {"random_bits": rb, "n_random_bits": 4} if q.is_stochastic else {}
                got = fixed_cast_codes(codes, src, dst, q, o, n, **kw).tolist()
                want = [fixed_round_code(Fraction(int(c)) * src.resolution, dst, q, o, n, int(r), 4)
                        for c, r in zip(codes, rb)]  # fmt: skip
                assert got == want, (src, dst, q, o, n)


def test_stochastic_seed_uses_the_counter_based_stream():
    fmt = FixedFormat(8, 4)
    x = np.linspace(-7, 7, 1001)
    for q in ("STOCHASTIC", "STOCHASTIC_EQUAL"):
        got = fixed_encode(x, fmt, q, "SAT", seed=1234, n_random_bits=20)
        rb = random_bits_reference(1234, x.size, 20)
        assert np.array_equal(got, fixed_encode_reference(x, fmt, q, "SAT", 0, rb, 20))
        assert np.array_equal(
            got, fixed_encode(x, fmt, q, "SAT", seed=1234, n_random_bits=20, backend="reference")
        )
    # unbiased on average: E[round(v)] = v
    xs = np.full(20000, 0.3)
    assert (
        abs(fixed_quantize(xs, FixedFormat(8, 8), "STOCHASTIC", "SAT", seed=5, backend="numba").mean() - 0.3)
        < 0.02
    )


def test_decode():
    fmt = FixedFormat(8, 3)
    codes = np.arange(-128, 128)
    assert np.array_equal(fixed_decode(codes, fmt), codes / 32.0)
    u = FixedFormat(64, 64, False)
    assert fixed_decode(np.array([2**64 - 1], dtype=np.uint64), u)[0] == 2.0**64
    with pytest.raises(ValueError):
        fixed_decode(np.array([128]), fmt)
    with pytest.raises(TypeError):
        fixed_decode(np.array([1.0]), fmt)


def test_errors_and_no_mutation():
    fmt = FixedFormat(8, 3)
    with pytest.raises(TypeError):
        fixed_encode(np.arange(4), fmt)
    with pytest.raises(TypeError):
        fixed_quantize(np.ones(3, dtype=np.complex128), fmt, backend="numba")
    with pytest.raises(ValueError):
        fixed_encode(np.array([np.nan]), fmt)
    with pytest.raises(ValueError):
        fixed_encode(np.array([np.inf]), fmt, "TRN", "WRAP")
    with pytest.raises(ValueError):
        fixed_encode(np.ones(2), FixedFormat(4, 2, False), "TRN", "WRAP_SM")
    with pytest.raises(ValueError):
        fixed_encode(np.ones(2), fmt, "TRN", "WRAP", 9)
    with pytest.raises(ValueError):
        fixed_encode(np.ones(2), fmt, "STOCHASTIC", random_bits=np.array([0, 16]), n_random_bits=4)
    with pytest.raises(ValueError):
        fixed_encode(np.ones(2), fmt, "TRN", random_bits=np.array([0, 1]))
    with pytest.raises(ValueError):
        FixedFormat(65, 3)
    x = np.array([[1.3, -2.7], [9.9, -100.0]])[:, ::-1]  # non-contiguous
    x0 = x.copy()
    out = np.empty(x.shape, dtype=np.int64)
    res = fixed_encode(x, fmt, "RND_CONV", "SAT", out=out)
    assert res is out and np.array_equal(x, x0)
    assert np.array_equal(out, fixed_encode_reference(x0, fmt, "RND_CONV", "SAT"))
    with pytest.raises(ValueError):
        fixed_encode(x, fmt, out=np.empty(x.shape, dtype=np.uint64))


def test_family_handler_dispatch():
    x = np.array([1.25, -1.25, 0.75])
    fmt = FixedFormat(3, 2)
    assert np.array_equal(family_handler("quantize", x, fmt, "nearest_even", overflow="saturate"),
                          fixed_quantize(x, fmt, "RND_CONV", "SAT", backend="numba"))  # fmt: skip
    codes = family_handler("encode", x, fmt, "toward_negative", overflow=None, sat_bits=0, seed=None)
    assert np.array_equal(codes, fixed_encode(x, fmt, "TRN", "WRAP"))
    assert np.array_equal(family_handler("decode", codes, fmt), fixed_decode(codes, fmt))
    assert np.array_equal(family_handler("quantize", np.array([2.6, -300.0]), IntFormat(8), "RND_CONV",
                                         overflow="SAT"), [3.0, -128.0])  # fmt: skip
    with pytest.raises(TypeError):
        family_handler("quantize", x, fmt, "TRN", subnormals=True)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_out_direct_aliased_and_strided(dtype):
    """``out=`` gets the same values written in place (contiguous), through a copy (strided), and
    when it is the input itself (the kernels re-read inputs, so aliasing must not be direct)."""
    fmt = FixedFormat(10, 3)
    rng = np.random.default_rng(8)
    x = (rng.standard_normal((300, 700)) * 40).astype(dtype)
    x[5, ::7] = np.inf
    x[9, ::11] = 1e4  # beyond the fast path's wrap: the exact rule re-reads these
    want_v = fixed_quantize(x, fmt, "RND_CONV", "SAT", backend="numba")
    want_c = fixed_encode(x, fmt, "RND_CONV", "SAT")
    out = np.empty_like(x)
    assert fixed_quantize(x, fmt, "RND_CONV", "SAT", out=out, backend="numba") is out
    assert np.array_equal(out, want_v)
    codes = np.empty(x.shape, np.int64)
    assert fixed_encode(x, fmt, "RND_CONV", "SAT", out=codes) is codes
    assert np.array_equal(codes, want_c)
    strided = np.empty((300, 1400), dtype)[:, ::2]
    fixed_quantize(x, fmt, "RND_CONV", "SAT", out=strided, backend="numba")
    assert np.array_equal(strided, want_v)
    y = x.copy()
    assert fixed_quantize(y, fmt, "RND_CONV", "SAT", out=y, backend="numba") is y
    assert np.array_equal(y, want_v)
