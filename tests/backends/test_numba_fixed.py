"""Numba fixed-point kernels (``lowprec._numba._fixed``) against the exact reference, bit for bit.

The kernels take a float64 fast path (``x * 2**F`` rounded with floor / ceil / trunc / rint and
remainder tests, overflow by clamping or a float wrap) and hand the rest to the exact rule. These
tests aim at every branch of both: formats of at most 12 bits exhaustively (every code, midpoint,
quarter point and their float neighbours, a margin beyond both ends, zeros, subnormals, huge
values, infinities, NaN) under every rounding mode x overflow mode (WRAP and WRAP_SM with 0, 1, 2
saturation bits) from float32 and float64; wider formats with random inputs and the edges of the
fast path (|x * 2**F| near 2**52, underflow of ``x * 2**F``, LSBs outside float64's normal range);
arrays split over threads. Codes are compared as integers, values as bit patterns (NaN by class).
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

from lowprec._fixed_api import fixed_decode, fixed_encode, fixed_quantize
from lowprec._fixed_modes import FixedOverflow, FixedRounding
from lowprec._numba import _fixed as nbfixed
from lowprec._numba._threads import PAR_MIN
from lowprec.formats._fixed import FixedFormat
from lowprec.reference._fixed import fixed_decode_reference, fixed_encode_reference
from lowprec.reference._random import random_bits_reference

pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")

SMALL = [
    FixedFormat(1, 1), FixedFormat(1, 1, False), FixedFormat(3, 2), FixedFormat(4, 6),
    FixedFormat(5, -2), FixedFormat(6, 3, False), FixedFormat(8, 3), FixedFormat(8, 8),
    FixedFormat(8, 8, False), FixedFormat(10, -4, False), FixedFormat(12, 5), FixedFormat(12, 20),
]  # fmt: skip
WIDE = [
    FixedFormat(16, 8), FixedFormat(24, 30, False), FixedFormat(32, 16), FixedFormat(33, 12),
    FixedFormat(52, 2), FixedFormat(53, 53), FixedFormat(53, 0, False), FixedFormat(54, 20),
    FixedFormat(63, -5), FixedFormat(64, 20), FixedFormat(64, 64), FixedFormat(64, 64, False),
    FixedFormat(40, 300), FixedFormat(50, 1023, False), FixedFormat(1, 1023), FixedFormat(12, -1010),
    FixedFormat(13, -1010), FixedFormat(64, -1010),
    # the float32 lanes' limits (f32_lanes): W = 24 and 22 (wrap), F = 0 and 100
    FixedFormat(24, 4), FixedFormat(22, 2), FixedFormat(23, 23, False), FixedFormat(22, -78),
]  # fmt: skip
DTYPES = [np.float64, np.float32]


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


def small_sweep(fmt: FixedFormat, dtype: type) -> np.ndarray:
    """Every code, midpoint and quarter point (and a margin beyond the range), their float
    neighbours, zeros, subnormals and the largest finite values, as ``dtype``."""
    k = np.arange(4 * fmt.min_code - 24, 4 * fmt.max_code + 25)
    base = np.ldexp(k.astype(np.float64), -(fmt.frac_bits + 2))
    b = base.astype(dtype)
    b = b[b.astype(np.float64) == base]  # the points dtype holds exactly
    with np.errstate(over="ignore"):
        up = np.nextafter(b, dtype(np.inf))
        dn = np.nextafter(b, dtype(-np.inf))
    fi = np.finfo(dtype)
    extra = np.array([0.0, -0.0, fi.smallest_subnormal, fi.tiny, fi.max, 1.0, 0.5, 0.25], dtype)
    return np.concatenate([b, up, dn, extra, -extra])


def edge_values(fmt: FixedFormat, dtype: type) -> np.ndarray:
    """Values around the limits of the fast path for ``fmt``: |x * 2**F| near 2**52 and 2**53
    (integers, halves), near 2**22 to 2**24 (the float32 lanes), near 2**63 / 2**64, underflowing products, and the code range's ends."""
    fb = fmt.frac_bits
    k = np.arange(-6, 7, dtype=np.float64)
    raw = [
        (2.0**52 + k) * 2.0**-fb, (2.0**51 + k + 0.5) * 2.0**-fb, (2.0**53 + 2 * k) * 2.0**-fb,
        (2.0**22 + k) * 2.0**-fb, (2.0**21 + k + 0.5) * 2.0**-fb, (2.0**23 + k) * 2.0**-fb,
        (2.0**24 + 2 * k) * 2.0**-fb, (2.0**22 + k / 4) * 2.0**-fb,
        np.array([2.0**52 - 0.5, 2.0**52 - 0.25, 2.0**62, 2.0**63, 2.0**64, 2.0**65]) * 2.0**-fb,
        np.array([fmt.min_code, fmt.max_code, fmt.max_code + 1.0, fmt.min_code - 1.0]) * 2.0**-fb,
        np.array([5e-324, 1e-310, 2.0**-1022, 2.0**-1000, 2.0**-900, 1e-300, 1e300, 1.7e308]),
    ]  # fmt: skip
    with np.errstate(over="ignore", under="ignore"):
        v = np.concatenate([np.concatenate(raw), -np.concatenate(raw)])
        v = v.astype(dtype)
    return v[np.isfinite(v)]


def specials(dtype: type) -> np.ndarray:
    return np.array([np.nan, -np.nan, np.inf, -np.inf], dtype)


def run_encode(x, fmt, q, o, n, rb=None, nb=32, rmode=None):
    """Codes from the Numba kernel directly (NaN and infinities allowed: they are counted)."""
    out = np.empty(x.size, np.uint64)
    if rmode is None:
        rmode = 2 if rb is not None else 0
    rbits = np.zeros(1, np.uint64) if rb is None else np.ascontiguousarray(rb, dtype=np.uint64)
    counts = nbfixed.encode_float_kernel(
        x, out, fmt.bits, fmt.frac_bits, fmt.signed, int(q), int(o), n, np.uint64(0), rmode, rbits, nb
    )
    return out.view(np.int64 if fmt.signed else np.uint64), counts


def reference_values(x, fmt, q, o, n, rb=None, nb=0):
    """Values by the reference, NaN where the kernels give NaN, in x's dtype."""
    x64 = x.astype(np.float64)
    bad = np.isnan(x64) | (np.isinf(x64) & (o in (FixedOverflow.WRAP, FixedOverflow.WRAP_SM)))
    vals = np.full(x.size, np.nan)
    codes = fixed_encode_reference(x64[~bad], fmt, q, o, n, None if rb is None else rb[~bad], nb)
    vals[~bad] = fixed_decode_reference(codes, fmt)
    return vals.astype(x.dtype)


def assert_same_values(got: np.ndarray, want: np.ndarray, context: object) -> None:
    assert got.dtype == want.dtype
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(got), nan), context
    u = np.uint64 if got.dtype == np.float64 else np.uint32
    same = got.view(u) == want.view(u)
    assert (same | nan).all(), (context, got[~(same | nan)][:5], want[~(same | nan)][:5])


# ---- exhaustive, small formats ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("q", [q for q in FixedRounding if not q.is_stochastic], ids=lambda q: q.name)
def test_small_deterministic(q, dtype):
    for fmt in SMALL:
        x = np.concatenate([small_sweep(fmt, dtype), edge_values(fmt, dtype)])
        xs = np.concatenate([x, specials(dtype)])
        x64 = x.astype(np.float64)
        for o, n in overflow_cases(fmt):
            got, counts = run_encode(x, fmt, q, o, n)
            want = fixed_encode_reference(x64, fmt, q, o, n)
            assert counts == (0, 0)
            assert np.array_equal(got, want), (str(fmt), o.name, n, x[got != want][:5])
            vals = np.empty_like(xs)
            nbfixed.quantize_float_kernel(xs, vals, fmt.bits, fmt.frac_bits, fmt.signed, int(q), int(o), n,
                                          np.uint64(0), 0, np.zeros(1, np.uint64), 32)  # fmt: skip
            assert_same_values(vals, reference_values(xs, fmt, q, o, n), (str(fmt), o.name, n))


@pytest.mark.parametrize("nb", [1, 3, 12, 52, 62])
@pytest.mark.parametrize(
    "q", [FixedRounding.STOCHASTIC, FixedRounding.STOCHASTIC_EQUAL], ids=lambda q: q.name
)
def test_small_stochastic(q, nb):
    rng = np.random.default_rng(nb)
    for fmt in SMALL:
        for dtype in DTYPES:
            x = np.concatenate([small_sweep(fmt, dtype), edge_values(fmt, dtype)])
            x64 = x.astype(np.float64)
            rb = rng.integers(0, 1 << nb, x.size, dtype=np.uint64)
            rb[:4] = [0, (1 << nb) - 1, 1 << (nb - 1), (1 << (nb - 1)) - (nb > 1)]  # edges of the range
            for o, n in overflow_cases(fmt):
                got, _ = run_encode(x, fmt, q, o, n, rb, nb)
                want = fixed_encode_reference(x64, fmt, q, o, n, rb, nb)
                assert np.array_equal(got, want), (str(fmt), o.name, n, x[got != want][:5])
                vals = fixed_quantize(x, fmt, q, o, n, random_bits=rb, n_random_bits=nb, backend="numba")
                assert_same_values(vals, reference_values(x, fmt, q, o, n, rb, nb), (str(fmt), o.name))
            # the counter-based stream of a seed: the same bits as reference._random
            got = fixed_encode(x, fmt, q, "SAT", seed=nb + 7, n_random_bits=nb)
            want = fixed_encode_reference(
                x64, fmt, q, "SAT", 0, random_bits_reference(nb + 7, x.size, nb), nb
            )
            assert np.array_equal(got, want), (str(fmt), "seed")


# ---- wide formats: random inputs and the fast path's limits ------------------------------------------
def wide_inputs(fmt: FixedFormat, rng: np.random.Generator, dtype: type, size: int = 700) -> np.ndarray:
    lsb, top = -fmt.frac_bits, fmt.int_bits
    x = np.concatenate([
        rng.standard_normal(size) * 2.0 ** min(top - 1, 1000),
        np.ldexp(rng.integers(-(2**53), 2**53, size).astype(np.float64), rng.integers(lsb - 60, top + 2, size)),
        np.ldexp(rng.integers(-(2**20), 2**20, size).astype(np.float64), rng.integers(lsb - 3, lsb + 2, size)),
        rng.standard_normal(size // 4) * 2.0 ** rng.integers(-1074, 1020, size // 4),
        np.ldexp(np.arange(-40, 41, dtype=np.float64), lsb - 2),
    ])  # fmt: skip
    with np.errstate(over="ignore", under="ignore"):
        x = x.astype(dtype)
    x = x[np.isfinite(x)]
    return np.concatenate([x, edge_values(fmt, dtype), small_edge(dtype)])


def small_edge(dtype: type) -> np.ndarray:
    fi = np.finfo(dtype)
    return np.array([0.0, -0.0, fi.smallest_subnormal, -fi.smallest_subnormal, fi.max, -fi.max], dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("fmt", WIDE, ids=str)
def test_wide(fmt, dtype):
    rng = np.random.default_rng(fmt.bits * 1000 + fmt.int_bits)
    x = wide_inputs(fmt, rng, dtype)
    xs = np.concatenate([x, specials(dtype)])
    x64 = x.astype(np.float64)
    rb = rng.integers(0, 1 << 20, x.size, dtype=np.uint64)
    for q in FixedRounding:
        for o, n in overflow_cases(fmt):
            if n and q.is_stochastic:
                continue
            kw = {"random_bits": rb, "n_random_bits": 20} if q.is_stochastic else {}
            got, counts = run_encode(x, fmt, q, o, n, rb if q.is_stochastic else None, 20)
            want = fixed_encode_reference(x64, fmt, q, o, n, rb if q.is_stochastic else None, 20)
            assert counts == (0, 0)
            assert np.array_equal(got, want), (q.name, o.name, n, x[got != want][:5])
            if q.is_stochastic:
                vals = fixed_quantize(x, fmt, q, o, n, **kw, backend="numba")
                assert_same_values(vals, reference_values(x, fmt, q, o, n, rb, 20), (q.name, o.name, n))
            else:
                vals = fixed_quantize(xs, fmt, q, o, n, backend="numba")
                assert_same_values(vals, reference_values(xs, fmt, q, o, n), (q.name, o.name, n))


def test_float32_lanes_selected():
    """The float32-lane loop is taken exactly where f32_lanes allows it, and the formats above
    reach it (so the exhaustive and wide sweeps test it from float32 inputs)."""
    reached = [
        f for f in SMALL + WIDE
        if nbfixed.f32_lanes(f.bits, f.frac_bits, int(FixedRounding.RND_CONV), nbfixed._K_CLAMP)
    ]  # fmt: skip
    assert len(reached) >= 8
    assert any(f.bits == 24 for f in reached) and any(f.frac_bits == 100 for f in reached)
    assert not nbfixed.f32_lanes(23, 4, int(FixedRounding.TRN), nbfixed._K_WRAP)
    assert not nbfixed.f32_lanes(25, 4, int(FixedRounding.TRN), nbfixed._K_CLAMP)
    assert not nbfixed.f32_lanes(8, -1, int(FixedRounding.TRN), nbfixed._K_CLAMP)
    assert not nbfixed.f32_lanes(8, 101, int(FixedRounding.TRN), nbfixed._K_CLAMP)
    assert not nbfixed.f32_lanes(8, 3, nbfixed._G_STOCH, nbfixed._K_CLAMP)
    _, c32, _ = nbfixed._setup(
        8, 5, True, int(FixedRounding.RND_CONV), int(FixedOverflow.SAT), 0, 32, False, 0
    )
    _, c64, _ = nbfixed._setup(
        8, 5, True, int(FixedRounding.RND_CONV), int(FixedOverflow.SAT), 0, 32, True, 0
    )
    assert all(isinstance(v, np.float32) for v in c32) and not any(isinstance(v, np.float32) for v in c64)


# ---- threads, chunks, errors, decode ------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_large_arrays_split_over_threads(dtype):
    """Arrays of several parts and chunks, with elements for the exact rule scattered among them,
    give the same results with one thread or several, equal to the reference."""
    rng = np.random.default_rng(5)
    size = 4 * PAR_MIN + 1234
    x = (rng.standard_normal(size) * 6).astype(dtype)
    pos = rng.integers(0, size, 300)
    x[pos[:100]] = np.inf
    x[pos[100:200]] = dtype(1e30)
    x[pos[200:]] = -(2.0 ** rng.integers(50, 70, 100)).astype(dtype)
    x[[0, nbfixed._CHUNK - 1, nbfixed._CHUNK, size - 1]] = [np.inf, -np.inf, dtype(2.0**60), np.nan]
    fmt = FixedFormat(12, 4)
    finite = np.isfinite(x)
    rb = rng.integers(0, 1 << 16, size, dtype=np.uint64)
    threads = numba.get_num_threads()
    for q, o in ((FixedRounding.RND_CONV, FixedOverflow.SAT), (FixedRounding.TRN, FixedOverflow.WRAP_SM),
                 (FixedRounding.STOCHASTIC, FixedOverflow.SAT_ZERO)):  # fmt: skip
        rbq = rb if q.is_stochastic else None
        want_vals = reference_values(x, fmt, q, o, 0, rbq, 16)
        want_codes = fixed_encode_reference(x[finite].astype(np.float64), fmt, q, o, 0,
                                            None if rbq is None else rbq[finite], 16)  # fmt: skip
        for nt in sorted({1, threads}):
            numba.set_num_threads(nt)
            try:
                got, counts = run_encode(x, fmt, q, o, 0, rbq, 16)
                vals = np.empty_like(x)
                nbfixed.quantize_float_kernel(x, vals, fmt.bits, fmt.frac_bits, fmt.signed, int(q), int(o), 0,
                                              np.uint64(0), 2 if rbq is not None else 0,
                                              rb if rbq is not None else np.zeros(1, np.uint64), 16)  # fmt: skip
            finally:
                numba.set_num_threads(threads)
            wrap = o == FixedOverflow.WRAP_SM
            assert counts == (1, int(np.isinf(x).sum()) if wrap else 0)
            assert np.array_equal(got[finite], want_codes), (q.name, nt)
            assert (got[np.isnan(x) | (np.isinf(x) & wrap)] == 0).all()  # counted, code 0
            assert_same_values(vals, want_vals, (q.name, nt))


def test_encode_errors_from_kernel_counts():
    fmt = FixedFormat(8, 3)
    x = np.ones(10)
    x[7] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fixed_encode(x, fmt, "RND_CONV", "SAT")
    x[7] = -np.inf
    with pytest.raises(ValueError, match="infinity"):
        fixed_encode(x, fmt, "RND_CONV", "WRAP")
    out = np.zeros(10, np.int64)
    with pytest.raises(ValueError):
        fixed_encode(x, fmt, "TRN", "WRAP", out=out)
    assert not out.any()  # out is untouched on error
    assert fixed_encode(x, fmt, "TRN", "SAT")[7] == fmt.min_code


@pytest.mark.parametrize("fmt", SMALL + WIDE, ids=str)
def test_decode(fmt):
    rng = np.random.default_rng(fmt.bits)
    if fmt.bits <= 12:
        codes = np.arange(fmt.min_code, fmt.max_code + 1)
    else:
        lo, hi = fmt.min_code, fmt.max_code
        codes = np.concatenate([
            rng.integers(lo, hi, 3000, endpoint=True, dtype=np.int64 if fmt.signed else np.uint64),
            np.array([lo, hi, 0, 1, lo + 1, hi - 1], dtype=object).astype(np.int64 if fmt.signed else np.uint64),
        ])  # fmt: skip
    for dtype in (np.float64, np.float32):
        got = fixed_decode(codes, fmt, dtype)
        want = fixed_decode_reference(codes, fmt).astype(dtype)
        assert_same_values(got, want, (str(fmt), dtype))
    out = np.empty(codes.size)
    u = codes.astype(np.int64).view(np.uint64) if fmt.signed else codes.astype(np.uint64)
    nbfixed.decode_kernel(u, out, fmt.frac_bits, fmt.signed)
    assert_same_values(out, fixed_decode_reference(codes, fmt), str(fmt))
