"""C++ fixed-point kernels (lowprec._C fixed_*) against the exact reference, bit for bit.

Formats of at most 12 bits are exhaustive: every code, every midpoint and quarter point between
neighbouring codes, their float neighbours (``nextafter`` up and down) and a margin beyond both
ends of the range, as float64 and as float32, under every rounding mode x overflow mode (WRAP and
WRAP_SM with N = 0, 1, 2 saturation bits) x signedness, with int_bits inside, above and below
``bits``. 32- and 64-bit formats take random inputs over the whole float64 range. Stochastic
modes use explicit random bits and the counter-based stream (same bits as every backend).

``LOWPREC_REQUIRE_CPP=1`` turns "lowprec._C is not built" from a skip into a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from cppkit import per_isa

import lowprec
from lowprec._cpp import available, fixed_decode_cpp, fixed_encode_cpp
from lowprec._fixed_api import fixed_decode, fixed_encode, fixed_quantize
from lowprec._fixed_modes import FixedOverflow, FixedRounding
from lowprec.formats._fixed import FixedFormat
from lowprec.formats._int import IntFormat
from lowprec.reference._fixed import fixed_decode_reference, fixed_encode_reference, fixed_round_code
from lowprec.reference._random import random_bits_reference

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")

SMALL = [
    FixedFormat(1, 1), FixedFormat(1, 1, False), FixedFormat(1, -3), FixedFormat(2, 5, False),
    FixedFormat(3, 2), FixedFormat(4, 4, False), FixedFormat(5, -2), FixedFormat(6, 9),
    FixedFormat(7, 0, False), FixedFormat(8, 3), FixedFormat(8, 8, False), FixedFormat(10, -4, False),
    FixedFormat(11, 20), FixedFormat(12, 5), FixedFormat(12, 12, False),
]  # fmt: skip
WIDE = [
    FixedFormat(32, 7), FixedFormat(32, 40), FixedFormat(32, -5, False), FixedFormat(33, 12),
    FixedFormat(63, -5), FixedFormat(40, 300), FixedFormat(64, 20), FixedFormat(64, 64),
    FixedFormat(64, 64, False), FixedFormat(64, 0), FixedFormat(64, -8), FixedFormat(64, -1010),
    FixedFormat(50, 1023, False),
]  # fmt: skip
DETERMINISTIC = [q for q in FixedRounding if not q.is_stochastic]
STOCHASTIC = [FixedRounding.STOCHASTIC, FixedRounding.STOCHASTIC_EQUAL]


@pytest.fixture(autouse=True)
def cpp(request: pytest.FixtureRequest) -> None:
    """Skip (or fail under LOWPREC_REQUIRE_CPP=1) when lowprec._C is not built (not the nvcc test)."""
    if request.node.name.startswith("test_cuda_"):
        return
    ok, reason = available()
    if not ok:
        if os.environ.get("LOWPREC_REQUIRE_CPP") == "1":
            pytest.fail(f"LOWPREC_REQUIRE_CPP=1 but {reason}")
        pytest.skip(reason)


def overflow_cases(fmt: FixedFormat) -> list[tuple[FixedOverflow, int]]:
    """Every overflow mode the format allows, WRAP / WRAP_SM with 0, 1 and 2 saturation bits."""
    out = []
    for o in FixedOverflow:
        if o == FixedOverflow.WRAP_SM and not fmt.signed:
            continue
        for n in (0, 1, 2) if o in (FixedOverflow.WRAP, FixedOverflow.WRAP_SM) else (0,):
            if n <= fmt.bits:
                out.append((o, n))
    return out


def sweep(fmt: FixedFormat, dtype: type) -> np.ndarray:
    """Codes, midpoints and quarter points (and a margin beyond the range), their neighbours, as dtype."""
    k = np.arange(4 * fmt.min_code - 24, 4 * fmt.max_code + 25)
    base = np.ldexp(k.astype(np.float64), -(fmt.frac_bits + 2))
    b = base.astype(dtype)
    b = b[b.astype(np.float64) == base]  # the points dtype holds exactly
    with np.errstate(over="ignore"):
        up = np.nextafter(b, dtype(np.inf))
        dn = np.nextafter(b, dtype(-np.inf))
    fi = np.finfo(dtype)
    extra = np.array(
        [0.0, -0.0, fi.smallest_subnormal, -fi.smallest_subnormal, fi.tiny, fi.max, -fi.max], dtype
    )
    return np.concatenate([b, up, dn, extra])


def wide_inputs(fmt: FixedFormat, rng: np.random.Generator, size: int = 3000) -> np.ndarray:
    """Random float64 inputs around the range of a wide format, anywhere in float64, and edges."""
    lsb, top = -fmt.frac_bits, fmt.int_bits
    x = np.concatenate([
        rng.standard_normal(size) * 2.0 ** min(top, 1000),
        np.ldexp(rng.integers(-(2**53), 2**53, size).astype(np.float64), rng.integers(lsb - 60, top + 2, size)),
        rng.standard_normal(size // 4) * 2.0 ** rng.integers(-1074, 1020, size // 4),
        # exact codes, halves and quarters near the ends and around zero
        np.ldexp(np.arange(-40, 41, dtype=np.float64), lsb - 2),
        [2.0 ** (top - 1), -(2.0 ** (top - 1)), 2.0**top, -(2.0**top), 2.0**63, -(2.0**63), 2.0**64, -(2.0**64)],
        [0.0, -0.0, 5e-324, -5e-324, 1.7e308, -1.7e308],
    ])  # fmt: skip
    return x[np.isfinite(x)]


def reference_codes(x, fmt, q, o, n, rb=None, nb=0):
    return fixed_encode_reference(x.astype(np.float64), fmt, q, o, n, rb, nb)


# ---- exhaustive, small formats ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("fmt", SMALL, ids=str)
def test_encode_exhaustive_deterministic(fmt, dtype):
    x = sweep(fmt, dtype)
    for q in DETERMINISTIC:
        for o, n in overflow_cases(fmt):
            want = reference_codes(x, fmt, q, o, n)
            for isa, got in per_isa(lambda: fixed_encode_cpp(x, fmt, q, o, n)):  # noqa: B023
                assert got.dtype == want.dtype
                assert np.array_equal(got, want), (isa, q.name, o.name, n, x[got != want][:5])


@pytest.mark.parametrize("nb", [1, 3, 12, 52, 62])
@pytest.mark.parametrize("fmt", SMALL, ids=str)
def test_encode_exhaustive_stochastic(fmt, nb):
    x = sweep(fmt, np.float64)
    rng = np.random.default_rng(fmt.bits * 100 + nb)
    rb = rng.integers(0, 1 << nb, x.size, dtype=np.uint64)
    rb[:4] = [0, (1 << nb) - 1, 1 << (nb - 1), (1 << (nb - 1)) - (nb > 1)]  # the edges of the range
    for q in STOCHASTIC:
        for o, n in overflow_cases(fmt):
            want = reference_codes(x, fmt, q, o, n, rb, nb)
            for isa, got in per_isa(lambda: fixed_encode_cpp(x, fmt, q, o, n, random_bits=rb, n=nb)):  # noqa: B023
                assert np.array_equal(got, want), (isa, q.name, o.name, n, x[got != want][:5])
            # the counter-based stream of a seed: the same bits as reference._random
            want = reference_codes(x, fmt, q, o, n, random_bits_reference(nb + 7, x.size, nb), nb)
            for isa, got in per_isa(lambda: fixed_encode_cpp(x, fmt, q, o, n, seed=nb + 7, n=nb)):  # noqa: B023
                assert np.array_equal(got, want), (isa, q.name, o.name, n, "seed")


@pytest.mark.parametrize("fmt", [FixedFormat(3, 2), FixedFormat(5, -2), FixedFormat(6, 9), FixedFormat(4, 4, False)],
                         ids=str)  # fmt: skip
def test_encode_matches_scalar_definition(fmt):
    """Against the Fraction definition itself (fixed_round_code), not only its vectorised twin."""
    x = sweep(fmt, np.float64)[::3]
    rb = np.random.default_rng(fmt.bits).integers(0, 8, x.size, dtype=np.uint64)
    for q in FixedRounding:
        for o, n in overflow_cases(fmt):
            got = fixed_encode_cpp(x, fmt, q, o, n, random_bits=rb, n=3)
            want = [fixed_round_code(float(v), fmt, q, o, n, int(r), 3) for v, r in zip(x, rb)]
            assert got.tolist() == want, (q.name, o.name, n)


@pytest.mark.parametrize("fmt", SMALL, ids=str)
def test_encode_matches_numba(fmt):
    x = sweep(fmt, np.float64)
    rb = np.random.default_rng(fmt.bits).integers(0, 1 << 16, x.size, dtype=np.uint64)
    for q in FixedRounding:
        for o, n in overflow_cases(fmt):
            kw = {"random_bits": rb, "n_random_bits": 16} if q.is_stochastic else {}
            got = fixed_encode(x, fmt, q, o, n, backend="cpp", **kw)
            want = fixed_encode(x, fmt, q, o, n, backend="numba", **kw)
            assert np.array_equal(got, want), (q.name, o.name, n)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16], ids=["f64", "f32", "f16"])
@pytest.mark.parametrize("fmt", SMALL, ids=str)
def test_quantize_and_decode_exhaustive(fmt, dtype):
    x = np.concatenate([sweep(fmt, np.float32), [np.nan, -np.nan, np.inf, -np.inf]]).astype(dtype)
    codes = fixed_encode_reference(np.arange(fmt.min_code, fmt.max_code + 1) * 2.0**-fmt.frac_bits, fmt)
    for vdt in (np.float64, np.float32):
        want = fixed_decode_reference(codes, fmt).astype(vdt)
        got = fixed_decode_cpp(codes, fmt, vdt)
        assert got.dtype == vdt and np.array_equal(got.view(_uint(vdt)), want.view(_uint(vdt)))
    x64 = x.astype(np.float64)
    for q in (FixedRounding.TRN, FixedRounding.RND_CONV, FixedRounding.TO_ODD, FixedRounding.STOCHASTIC):
        rb = random_bits_reference(5, x.size, 32)
        for o in (FixedOverflow.WRAP, FixedOverflow.SAT, FixedOverflow.SAT_ZERO, FixedOverflow.SAT_SYM):
            # the reference codes; their values are exact in float64 here (<= 12 bits, normal range)
            bad = np.isnan(x64) | (np.isinf(x64) & (o == FixedOverflow.WRAP))
            codes = reference_codes(x64[~bad], fmt, q, o, 0, rb[~bad], 32)
            vals = np.full(x.size, np.nan)
            vals[~bad] = np.ldexp(codes.astype(np.float64), -fmt.frac_bits)
            for _isa, got in per_isa(lambda: fixed_quantize(x, fmt, q, o, seed=5, backend="cpp")):  # noqa: B023
                _assert_same_values(got, vals.astype(dtype))
    few = x[:: max(1, x.size // 300)]  # the frontend's own reference path, on a sample
    _assert_same_values(
        fixed_quantize(few, fmt, "RND", "SAT", backend="cpp"),
        fixed_quantize(few, fmt, "RND", "SAT", backend="reference"),
    )


def _uint(dtype):
    return {2: np.uint16, 4: np.uint32, 8: np.uint64}[np.dtype(dtype).itemsize]


def _assert_same_values(got, want):
    """Values equal bit for bit (so -0 counts), NaNs by class."""
    assert got.dtype == want.dtype and got.shape == want.shape
    g, w = np.asarray(got).ravel(), np.asarray(want).ravel()
    nan = np.isnan(w)
    assert np.array_equal(np.isnan(g), nan)
    assert np.array_equal(g[~nan].view(_uint(g.dtype)), w[~nan].view(_uint(w.dtype)))


def _f32_points(fmt: FixedFormat) -> np.ndarray:
    """float32 inputs of a 13..24-bit format: codes, halves and quarters (with both neighbours) at
    the ends, around zero and at random, and values whose |x * 2**F| passes 2**22."""
    rng = np.random.default_rng(fmt.bits)
    lo, hi = 4 * fmt.min_code, 4 * fmt.max_code
    k = np.concatenate([np.arange(lo - 24, lo + 40), np.arange(-40, 41), np.arange(hi - 40, hi + 25),
                        rng.integers(lo, hi, 4000)])  # fmt: skip
    base = np.ldexp(k.astype(np.float64), -(fmt.frac_bits + 2))
    big = np.ldexp(rng.integers(2**22, 2**25, 300).astype(np.float64), -fmt.frac_bits)
    b = np.concatenate([base, big, -big]).astype(np.float32)
    return np.concatenate([b, np.nextafter(b, np.float32(np.inf)), np.nextafter(b, np.float32(-np.inf))])


# F in 0..100 and W <= 24 (22 under the float wrap) take float32 lanes; the others float64 ones
F32_LANES = [FixedFormat(24, 3), FixedFormat(24, 24, False), FixedFormat(22, 2), FixedFormat(23, 1),
             FixedFormat(24, -76), FixedFormat(20, -81, False), FixedFormat(25, 5)]  # fmt: skip


@pytest.mark.parametrize("fmt", [f for f in SMALL if f.frac_bits >= 0] + F32_LANES, ids=str)
def test_quantize_float32_every_mode_and_overflow(fmt):
    """float32 in and out, every deterministic mode x overflow case (saturation bits too): the
    values of the reference codes, per instruction set."""
    x = sweep(fmt, np.float32) if fmt.bits <= 12 else _f32_points(fmt)
    x = np.concatenate([x, np.array([np.nan, np.inf, -np.inf, 3e38, -3e38], np.float32)])
    x64 = x.astype(np.float64)
    for q in DETERMINISTIC:
        for o, n in overflow_cases(fmt):
            bad = np.isnan(x64) | (np.isinf(x64) & (o in (FixedOverflow.WRAP, FixedOverflow.WRAP_SM)))
            vals = np.full(x.size, np.nan)
            vals[~bad] = np.ldexp(reference_codes(x64[~bad], fmt, q, o, n).astype(np.float64), -fmt.frac_bits)
            want = vals.astype(np.float32)  # exact: at most 25 bits, normal
            for isa, got in per_isa(lambda: fixed_quantize(x, fmt, q, o, n, backend="cpp")):  # noqa: B023
                assert got.dtype == np.float32
                nan = np.isnan(want)
                assert np.array_equal(np.isnan(got), nan), (isa, q.name, o.name, n)
                bad_at = np.nonzero(got[~nan].view(np.uint32) != want[~nan].view(np.uint32))[0]
                assert bad_at.size == 0, (isa, q.name, o.name, n, x[~nan][bad_at[:4]], got[~nan][bad_at[:4]])


@pytest.mark.parametrize("fmt", [f for f in SMALL if f.frac_bits >= 0] + F32_LANES, ids=str)
def test_quantize_float32_stochastic(fmt):
    """float32 stochastic rounding (n <= 32 bits: float32 lanes, the bits as words; n = 40: float64
    lanes). Per input, the random integers just below, at and above its threshold
    2**n - floor((v - floor(v)) * 2**n) (v = x * 2**F), as uint64 (uint32 for n = 32); and the
    seeded stream.
    Every overflow case, per instruction set, against the reference codes' values."""
    rng = np.random.default_rng(fmt.bits + 7)
    base = sweep(fmt, np.float32) if fmt.bits <= 12 else _f32_points(fmt)
    base = base if base.size <= 3000 else rng.choice(base, 3000, replace=False)  # x3 edges x overflows
    rnd = (rng.integers(fmt.min_code, fmt.max_code, 600) + rng.random(600)) * 2.0**-fmt.frac_bits
    tiny = 2.0 ** -rng.uniform(0, 40, 300) * 2.0**-fmt.frac_bits  # fractions below 2**-32 too
    x = np.concatenate([base, rnd, tiny, -tiny]).astype(np.float32)
    x = x[np.isfinite(x)]
    v = np.ldexp(x.astype(np.float64), fmt.frac_bits)
    frac = v - np.floor(v)  # exact

    def check(xs, q, o, sat, rb, nb, **kw):
        want = np.ldexp(reference_codes(xs, fmt, q, o, sat, rb, nb).astype(np.float64), -fmt.frac_bits)
        call = lambda: fixed_quantize(xs, fmt, q, o, sat, n_random_bits=nb, backend="cpp", **kw)  # noqa: E731
        for isa, got in per_isa(call):
            bad = np.nonzero(got.view(np.uint32) != want.astype(np.float32).view(np.uint32))[0]
            assert bad.size == 0, (isa, q.name, o.name, sat, nb, xs[bad[:4]], got[bad[:4]])

    for q in (FixedRounding.STOCHASTIC, FixedRounding.STOCHASTIC_EQUAL):
        for o, sat in overflow_cases(fmt):
            for nb in (7, 32, 40):
                k = np.floor(np.ldexp(frac, nb)).astype(np.int64)
                edge = np.concatenate([(1 << nb) - k + d for d in (-1, 0, 1)])
                xs = np.tile(x, 3)
                keep = (edge >= 0) & (edge < (1 << nb))
                xs, rb = xs[keep], edge[keep].astype(np.uint64)
                check(xs, q, o, sat, rb, nb, random_bits=rb if nb != 32 else rb.astype(np.uint32))
                check(x, q, o, sat, random_bits_reference(3, x.size, nb), nb, seed=3)


# ---- random, wide formats -------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", WIDE, ids=str)
def test_encode_wide_random(fmt):
    rng = np.random.default_rng(fmt.bits + fmt.int_bits + 2000)
    x = wide_inputs(fmt, rng)
    x32 = x.astype(np.float32)
    x32 = x32[np.isfinite(x32)]
    rb = rng.integers(0, 1 << 40, x.size, dtype=np.uint64)
    for q in FixedRounding:
        for o, n in overflow_cases(fmt) + ([(FixedOverflow.WRAP, fmt.bits)] if fmt.bits > 2 else []):
            kw = {"random_bits": rb, "n": 40} if q.is_stochastic else {}
            want = reference_codes(x, fmt, q, o, n, rb, 40)
            for isa, got in per_isa(lambda: fixed_encode_cpp(x, fmt, q, o, n, **kw)):  # noqa: B023
                assert np.array_equal(got, want), (isa, q.name, o.name, n, x[got != want][:5])
            if not q.is_stochastic:
                want = reference_codes(x32, fmt, q, o, n)
                for isa, got in per_isa(lambda: fixed_encode_cpp(x32, fmt, q, o, n)):  # noqa: B023
                    assert np.array_equal(got, want), (isa, q.name, o.name, n, "float32")


@pytest.mark.parametrize("fmt", WIDE, ids=str)
def test_decode_wide_random(fmt):
    """Codes with more than 53 significant bits, and values in float64's subnormal range, round once."""
    rng = np.random.default_rng(fmt.bits + 11)
    dt = np.int64 if fmt.signed else np.uint64
    hi = min(fmt.max_code, 2**63 - 1)
    codes = rng.integers(max(fmt.min_code, -(2**63)), hi, 4000, dtype=dt, endpoint=True)
    codes[:4] = [fmt.min_code, fmt.max_code, 0, 1] if fmt.signed else [0, fmt.max_code, 1, 2]
    if fmt.bits > 54:  # ties at 53 significant bits: 2**54 + 2 and 2**54 + 6
        codes[4:6] = [2**54 + 2, 2**54 + 6]
    for vdt in (np.float64, np.float32):
        got = fixed_decode(codes, fmt, vdt, backend="cpp")
        want = fixed_decode_reference(codes, fmt).astype(vdt)
        assert np.array_equal(got.view(_uint(vdt)), want.view(_uint(vdt)))
    sub = FixedFormat(64, -1010)  # LSB 2**-1074: every value below 2**-1010, most of them subnormal
    c = rng.integers(-(2**63), 2**63 - 1, 4000, dtype=np.int64)
    _assert_same_values(fixed_decode(c, sub, backend="cpp"), fixed_decode_reference(c, sub))


@pytest.mark.parametrize(
    "fmt", [FixedFormat(32, 7), FixedFormat(64, 20), FixedFormat(64, 64, False)], ids=str
)
def test_quantize_wide(fmt):
    rng = np.random.default_rng(21)
    x = wide_inputs(fmt, rng, 1000)
    for dtype in (np.float64, np.float32):
        xd = x.astype(dtype)
        for q in (FixedRounding.RND_CONV, FixedRounding.STOCHASTIC_EQUAL):
            for o in (FixedOverflow.SAT, FixedOverflow.WRAP):
                want = fixed_quantize(xd, fmt, q, o, seed=3, backend="reference")
                for _isa, got in per_isa(lambda: fixed_quantize(xd, fmt, q, o, seed=3, backend="cpp")):  # noqa: B023
                    _assert_same_values(got, want)


@pytest.mark.parametrize("fmt", [FixedFormat(8, 3), FixedFormat(16, 4, False), FixedFormat(60, 10)], ids=str)
def test_large_arrays_exact_rule_elements(fmt):
    """Many chunks and threads, with elements for the exact rule scattered among them (NaN, Inf,
    values beyond 2**50 in LSB units, out of range under SAT_ZERO / WRAP_SM)."""
    rng = np.random.default_rng(31)
    size = 40_003  # above the OpenMP threshold (2**15)
    x = rng.standard_normal(size) * 2.0 ** rng.integers(-4, fmt.int_bits + 2, size)
    pos = rng.integers(0, size, 400)
    x[pos[:100]] = np.inf
    x[pos[100:200]] = 2.0 ** rng.integers(40, 70, 100)
    x[pos[200:300]] = np.nan
    wrap = "WRAP_SM" if fmt.signed else "WRAP"
    cases = [("RND_CONV", "SAT"), ("TRN", "SAT_ZERO"), ("RND_INF", wrap), ("STOCHASTIC", "SAT_SYM")]
    for dtype in (np.float64, np.float32):
        xd = x.astype(dtype)
        for q, o in cases:
            want = fixed_quantize(xd, fmt, q, o, seed=9, backend="reference")
            for _isa, got in per_isa(lambda: fixed_quantize(xd, fmt, q, o, seed=9, backend="cpp")):  # noqa: B023
                _assert_same_values(got, want)
            ok = ~np.isnan(xd) & ~(np.isinf(xd) & o.startswith("WRAP"))
            want_codes = fixed_encode(xd[ok], fmt, q, o, seed=9, backend="reference")
            for isa, got in per_isa(lambda: fixed_encode(xd[ok], fmt, q, o, seed=9, backend="cpp")):  # noqa: B023
                assert np.array_equal(got, want_codes), (isa, q, o)


# ---- the frontends, specials and layouts ------------------------------------------------------------------
def test_lowprec_entry_points_dispatch_cpp():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((7, 9)) * 20
    for fmt in (FixedFormat(8, 4), IntFormat(8), IntFormat(4, signed=False)):
        for rnd in ("nearest_even", "RND", "stochastic"):
            kw = {"seed": 9} if rnd == "stochastic" else {}
            e_cpp = lowprec.encode(x, fmt, rnd, overflow="SAT", backend="cpp", **kw)
            e_ref = lowprec.encode(x, fmt, rnd, overflow="SAT", backend="reference", **kw)
            assert e_cpp.dtype == e_ref.dtype and np.array_equal(e_cpp, e_ref)
            q_cpp = lowprec.quantize(x, fmt, rnd, overflow="SAT", backend="cpp", **kw)
            _assert_same_values(
                q_cpp, lowprec.quantize(x, fmt, rnd, overflow="SAT", backend="reference", **kw)
            )
        d_cpp = lowprec.decode(e_cpp, fmt, backend="cpp")
        _assert_same_values(d_cpp, lowprec.decode(e_cpp, fmt, backend="reference"))
        _assert_same_values(d_cpp, lowprec.decode(e_cpp, fmt))


def test_specials_empty_scalars_and_layouts():
    fmt = FixedFormat(10, 3)
    with pytest.raises(ValueError, match="NaN"):
        fixed_encode(np.array([1.0, np.nan]), fmt, backend="cpp")
    with pytest.raises(ValueError, match="NaN"):
        fixed_encode_cpp(np.array([1.0, np.nan]), fmt)  # the kernel checks too
    with pytest.raises(ValueError, match="infinity"):
        fixed_encode(np.array([np.inf]), fmt, "TRN", "WRAP", backend="cpp")
    with pytest.raises(ValueError, match="infinity"):
        fixed_encode_cpp(np.array([-np.inf]), fmt, "TRN", "WRAP_SM")
    inf = np.array([np.inf, -np.inf, 1e308, -1e308])
    for o in ("SAT", "SAT_SYM", "SAT_ZERO"):
        assert np.array_equal(
            fixed_encode(inf, fmt, "RND", o, backend="cpp"), reference_codes(inf, fmt, "RND", o, 0)
        )
    sp = np.array([np.nan, np.inf, -np.inf, 1.3], np.float32)
    q = fixed_quantize(sp, fmt, "RND", "WRAP", backend="cpp")
    _assert_same_values(q, fixed_quantize(sp, fmt, "RND", "WRAP", backend="reference"))
    assert np.isnan(q[:3]).all()
    # empty, 0-d and Python scalars
    assert fixed_encode(np.zeros((0, 3)), fmt, backend="cpp").shape == (0, 3)
    assert fixed_quantize(np.zeros(0, np.float32), fmt, backend="cpp").dtype == np.float32
    s = fixed_encode(1.3, fmt, "RND", backend="cpp")
    assert np.ndim(s) == 0 and int(s) == fixed_round_code(1.3, fmt, "RND")
    z = fixed_quantize(np.array(-1.3), fmt, "RND", backend="cpp")
    assert z.shape == () and float(z) == float(fmt.value(fixed_round_code(-1.3, fmt, "RND")))
    assert fixed_decode(np.int64(-10), fmt, backend="cpp") == float(fmt.value(-10))
    # non-contiguous inputs, strides and transposes: element order is the logical C order
    x = np.random.default_rng(2).standard_normal((6, 10)) * 30
    for v in (x[:, ::3], x.T, x[::-2]):
        for rnd, kw in (("RND_CONV", {}), ("STOCHASTIC", {"seed": 4})):
            got = fixed_encode(v, fmt, rnd, "SAT", backend="cpp", **kw)
            want = fixed_encode(v, fmt, rnd, "SAT", backend="reference", **kw)
            assert got.shape == v.shape and np.array_equal(got, want)
            _assert_same_values(fixed_quantize(v, fmt, rnd, "SAT", backend="cpp", **kw),
                                fixed_quantize(v, fmt, rnd, "SAT", backend="reference", **kw))  # fmt: skip
    out = np.empty((6, 10), np.int64)
    assert fixed_encode(x, fmt, "RND", "SAT", out=out, backend="cpp") is out
    assert np.array_equal(out, fixed_encode(x, fmt, "RND", "SAT", backend="reference"))
    outf = np.empty((10, 6))[::1].T  # a non-contiguous out
    fixed_quantize(x, fmt, "RND", "SAT", out=outf, backend="cpp")
    _assert_same_values(outf, fixed_quantize(x, fmt, "RND", "SAT", backend="reference"))
    assert x.flags.writeable  # never modified (checked by value below)
    y = x.copy()
    fixed_quantize(x, fmt, "TRN", backend="cpp")
    assert np.array_equal(x, y)
    outc = np.empty_like(x)  # a contiguous out: written by the kernel
    assert fixed_quantize(x, fmt, "RND_CONV", "SAT", out=outc, backend="cpp") is outc
    _assert_same_values(outc, fixed_quantize(x, fmt, "RND_CONV", "SAT", backend="reference"))
    want = fixed_quantize(y, fmt, "RND", "SAT", backend="reference")
    assert fixed_quantize(y, fmt, "RND", "SAT", out=y, backend="cpp") is y  # in place
    _assert_same_values(y, want)


def test_explicit_random_bits_dtypes_and_checks():
    fmt = FixedFormat(8, 2)
    x = np.random.default_rng(3).standard_normal(1000)
    rb = np.random.default_rng(4).integers(0, 1 << 20, 1000)
    want = reference_codes(x, fmt, "STOCHASTIC", "SAT", 0, rb, 20)
    for dt in (np.uint32, np.uint64, np.int64):
        got = fixed_encode_cpp(x, fmt, "STOCHASTIC", "SAT", random_bits=rb.astype(dt), n=20)
        assert np.array_equal(got, want)
    assert np.array_equal(fixed_encode(x, fmt, "STOCHASTIC", "SAT", random_bits=rb, n_random_bits=20,
                                       backend="cpp"), want)  # fmt: skip
    with pytest.raises(ValueError):
        fixed_encode_cpp(x, fmt, "STOCHASTIC", "SAT", random_bits=rb[:10], n=20)
    with pytest.raises(ValueError):
        fixed_encode_cpp(x, fmt, "STOCHASTIC", "SAT", seed=1, n=63)
    with pytest.raises(ValueError):
        fixed_encode_cpp(x, fmt, "STOCHASTIC", "SAT")  # neither seed nor bits
    with pytest.raises(ValueError):
        fixed_encode(x, fmt, backend="cuda")


def test_kernel_argument_checks():
    from lowprec._cpp import module

    m = module()
    x = np.zeros(3)
    out = np.empty(3, np.int64)
    for params, q, o in (((65, 0, True, 0), 0, 0), ((8, 0, True, 9), 0, 0), ((8, 0, True, 1), 0, 1),
                         ((8, 0, False, 0), 0, 4), ((8, 0, True, 0), 11, 0), ((8, 0, True, 0), 0, 5),
                         ((8, 2000, True, 0), 0, 0)):  # fmt: skip
        with pytest.raises(ValueError):
            m.fixed_encode(x, out, params, q, o)
    with pytest.raises(ValueError):
        m.fixed_encode(x, np.empty(3, np.float64), (8, 0, True, 0), 0, 0)
    with pytest.raises(ValueError):
        m.fixed_encode(x, np.empty(4, np.int64), (8, 0, True, 0), 0, 0)


@pytest.mark.parametrize(("dtype", "want"), [(np.float32, "cpp"), (np.float64, "cpp"), (np.float16, "numba")])
def test_auto_quantize_backend(dtype, want, monkeypatch):
    """``backend="auto"`` quantizes float32/float64 with the C++ kernels (float16 with Numba), with
    the reference's values."""
    import lowprec._cpp as cppmod

    seen = []
    run = cppmod.fixed_quantize_cpp
    monkeypatch.setattr(cppmod, "fixed_quantize_cpp", lambda *a, **k: seen.append(1) or run(*a, **k))
    fmt = FixedFormat(8, 3)
    x = sweep(fmt, np.float16).astype(dtype)
    for q, o in (("RND_CONV", "SAT"), ("STOCHASTIC", "WRAP")):
        seen.clear()
        got = lowprec.quantize(x, fmt, q, overflow=o, seed=4 if q == "STOCHASTIC" else None)
        assert ("cpp" if seen else "numba") == want
        _assert_same_values(
            got, fixed_quantize(x, fmt, q, o, seed=4 if q == "STOCHASTIC" else None, backend="reference")
        )
