"""The C++ kernels (lowprec._C) against the exact reference, bit for bit; the CUDA sources compile.

Inputs per format: the value of every code, every midpoint between adjacent finite values, the
float neighbours (``nextafter`` up and down) of both, both signs, specials (0, Inf, NaN, values far
outside the range), as float64 and as float32. Every rounding mode, every overflow policy the
format allows, and stochastic rounding with explicit random bits of n in {1, 8, 32}.

Formats of 8 bits or fewer, float16 and bfloat16 are exhaustive. The overflow policy can only
matter for inputs near or beyond the top of the range, Inf/NaN, and zeros/negatives of zero-less and
unsigned formats: every input is checked under the format's default policy, and those inputs under
the other policies. The other 16-bit formats (the
P3109 K=16 family) use, by default, a structured subset of codes (the edges and middle of every
binade, the bottom and top of the range, and a random sample), because the reference decode table
of one 16-bit format takes about a second to build; ``LOWPREC_TEST_FULL=1`` makes them exhaustive.

``LOWPREC_REQUIRE_CPP=1`` turns "lowprec._C is not built" from a skip into a failure, and
``LOWPREC_REQUIRE_CUDA=1`` does the same for a missing nvcc.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
from cppkit import per_isa

from lowprec._cpp import (
    available,
    codes_dtype,
    decode_cpp,
    encode_cpp,
    fast_isa,
    fast_isas,
    quantize_cpp,
    random_bits_cpp,
)
from lowprec.formats._registry import FORMATS
from lowprec.reference import (
    decode_code,
    decode_reference,
    encode_reference,
    quantize_reference,
    random_bits_reference,
)
from lowprec.rounding import Overflow, Rounding, resolve_overflow

ROOT = Path(__file__).resolve().parents[2]
FULL = os.environ.get("LOWPREC_TEST_FULL") == "1"
SMALL = sorted(n for n, f in FORMATS.items() if f.nbits <= 16)
EXHAUSTIVE = {n for n in SMALL if FULL or FORMATS[n].nbits <= 8 or n in ("float16", "bfloat16")}
DETERMINISTIC = [m for m in Rounding if not m.is_stochastic]
STOCHASTIC = [Rounding.STOCHASTIC, Rounding.STOCHASTIC_EQUAL]
N_BITS = (1, 8, 32)

pytestmark = [
    pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning"),  # signalling NaNs
]


@pytest.fixture(scope="module")
def cpp() -> None:
    """Skip (or fail under LOWPREC_REQUIRE_CPP=1) when lowprec._C is not built."""
    ok, reason = available()
    if not ok:
        if os.environ.get("LOWPREC_REQUIRE_CPP") == "1":
            pytest.fail(f"LOWPREC_REQUIRE_CPP=1 but {reason}")
        pytest.skip(reason)


def overflows(fmt: object) -> list[Overflow]:
    """Every overflow policy the format allows."""
    out = []
    for ovf in Overflow:
        try:
            out.append(resolve_overflow(fmt, ovf))
        except ValueError:
            pass
    return out


# ---- inputs -----------------------------------------------------------------------------------------
def _subset_codes(fmt: object) -> np.ndarray:
    """Structured subset of the codes of a 16-bit format (see the module docstring).

    The edges (and middle) of up to 160 binades, always the 16 lowest and highest ones, the 64
    lowest and highest magnitudes, and 256 random ones; both signs.
    """
    m, e = fmt.mbits, fmt.ebits
    mant = np.unique(np.clip([0, 1, 2, (1 << m) // 2, (1 << m) - 2, (1 << m) - 1], 0, (1 << m) - 1))
    nbin = 1 << e
    binades = np.unique(
        np.concatenate([np.arange(16), nbin - 1 - np.arange(16), np.linspace(0, nbin - 1, 128)])
    )
    binades = binades[(binades >= 0) & (binades < nbin)].astype(np.int64)
    mags = (binades[:, None] << m | mant[None, :]).ravel()
    nmag = 1 << fmt.mag_bits
    rng = np.random.default_rng(fmt.nbits * 1000 + m)
    mags = np.concatenate([mags, np.arange(64), nmag - 1 - np.arange(64), rng.integers(0, nmag, 256)])
    mags = np.unique(mags[(mags >= 0) & (mags < nmag)])
    if fmt.signed:
        mags = np.concatenate([mags, mags | fmt.sign_mask])
    return mags.astype(np.uint64)


@functools.cache
def grid(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(codes, reference float64 values) of a small format: every code, or the subset."""
    fmt = FORMATS[name]
    if name in EXHAUSTIVE:
        codes = np.arange(1 << fmt.nbits, dtype=np.uint64)
        return codes, decode_reference(codes, fmt)
    codes = _subset_codes(fmt)
    return codes, np.array([decode_code(int(c), fmt) for c in codes], dtype=np.float64)


def _neighbours(v: np.ndarray) -> list[np.ndarray]:
    return [np.nextafter(v, np.inf), np.nextafter(v, -np.inf)]


SPECIALS = np.array(
    [0.0, np.inf, 5e-324, 2.2250738585072014e-308, 1e-300, 1e-45, 2.0**-149, 2.0**-126, 1e-30, 0.3, 1.0,
     1.5, 3.0, 1e10, 3.4e38, 1e300, 1.7976931348623157e308]
)  # fmt: skip


@functools.cache
def inputs(name: str, dtype: type = np.float64) -> np.ndarray:
    """Values, midpoints, their neighbours, both signs and specials, in ``dtype``."""
    fmt = FORMATS[name]
    _, vals = grid(name)
    fin = np.unique(np.abs(vals[np.isfinite(vals)]))
    mids = fin[:-1] + (fin[1:] - fin[:-1]) / 2
    top, step = fin[-1], fin[-1] - fin[-2]
    beyond = np.array([top + step / 2, top + step / 4, top + step, 2 * top, top + 3 * step / 4])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        base = [a.astype(dtype) for a in (fin, mids, beyond, SPECIALS)]
        parts = base + _neighbours(base[0]) + _neighbours(base[1]) + _neighbours(base[2])
    x = np.concatenate(parts)
    x = np.concatenate([x, -x])
    if fmt.has_nan:
        x = np.concatenate([x, np.array([np.nan, -np.nan], dtype=dtype)])
    return x


def random_inputs(dtype: type, count: int, seed: int) -> np.ndarray:
    """Uniformly random bit patterns of ``dtype`` (NaN, Inf, subnormals included) and random normals."""
    rng = np.random.default_rng(seed)
    ui = np.uint32 if dtype == np.float32 else np.uint64
    bits = rng.integers(0, np.iinfo(ui).max, count, dtype=ui, endpoint=True).view(dtype)
    normals = rng.standard_normal(count) * 10.0 ** rng.integers(-8, 8, count)
    return np.concatenate([bits, normals.astype(dtype)])


def grid_inputs(name: str, count: int, seed: int) -> np.ndarray:
    """For formats wider than 16 bits: values of random codes, midpoints to the next code, neighbours."""
    fmt = FORMATS[name]
    rng = np.random.default_rng(seed)
    mags = rng.integers(0, fmt.max_mag, count, dtype=np.uint64, endpoint=False)
    mags = np.concatenate([mags, np.arange(4, dtype=np.uint64), fmt.max_mag - np.arange(4, dtype=np.uint64)])
    lo = np.array([float(fmt.mag_value(int(c))) for c in mags])
    hi = np.array([float(fmt.mag_value(int(c) + 1)) if c < fmt.max_mag else np.inf for c in mags])
    with np.errstate(invalid="ignore", over="ignore"):
        mid = lo + (hi - lo) / 2  # exact in float64 for targets narrower than float64
    mid = mid[np.isfinite(mid)]
    x = np.concatenate([lo, mid, *_neighbours(mid), *_neighbours(lo)])
    return np.concatenate([x, -x])


# ---- comparison helpers ----------------------------------------------------------------------------------
def assert_codes(got: np.ndarray, want: np.ndarray, x: np.ndarray, what: str) -> None:
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape
    bad = np.flatnonzero(got != want)
    if bad.size:
        rows = [
            f"  x={float(x.flat[i])!r} ({float(x.flat[i]).hex()}): got {int(got.flat[i]):#x}, "
            f"want {int(want.flat[i]):#x}"
            for i in bad[:8]
        ]
        pytest.fail(f"{what}: {bad.size} of {got.size} codes differ\n" + "\n".join(rows))


def assert_values(got: np.ndarray, want: np.ndarray, what: str) -> None:
    """Equal bit patterns, except that NaNs are compared by class only."""
    assert got.dtype == want.dtype and got.shape == want.shape
    gn, wn = np.isnan(got), np.isnan(want)
    ui = np.uint32 if got.dtype == np.float32 else (np.uint16 if got.dtype.itemsize == 2 else np.uint64)
    same = (gn & wn) | (~gn & ~wn & (got.view(ui) == want.view(ui)))
    bad = np.flatnonzero(~same)
    if bad.size:
        rows = [f"  [{i}] got {got.flat[i]!r}, want {want.flat[i]!r}" for i in bad[:8]]
        pytest.fail(f"{what}: {bad.size} of {got.size} values differ\n" + "\n".join(rows))


def check(x: np.ndarray, fmt: object, mode: Rounding, ovf: Overflow, what: str, r=None, n: int = 0) -> None:
    want = encode_reference(x, fmt, mode, ovf, r, n)
    for isa, got in per_isa(lambda: encode_cpp(x, fmt, mode, ovf, random_bits=r, n=n)):
        assert_codes(got, want, x, f"{what} {fmt} {mode.name} {ovf.name} n={n} {x.dtype} [{isa}]")


def policy_sensitive(x: np.ndarray, fmt: object) -> np.ndarray:
    """Inputs whose code can depend on the overflow policy: above the largest finite value's lower
    neighbour, Inf/NaN, zeros of zero-less formats and negatives of unsigned formats."""
    mags = np.arange(max(fmt.max_mag - 1, 0), fmt.max_mag + 1)
    below_top = min(float(fmt.mag_value(int(c))) for c in mags)
    a = np.abs(x.astype(np.float64))
    sel = ~np.isfinite(a) | (a >= below_top) | (a == 0)
    if not fmt.signed:
        sel |= np.signbit(x)
    return sel


def check_policies(x: np.ndarray, fmt: object, mode: Rounding, what: str, r=None, n: int = 0) -> None:
    """Every overflow policy of the format: all of ``x`` under the format's default policy, the
    policy-sensitive part of ``x`` under the others (all of it with LOWPREC_TEST_FULL=1)."""
    default = resolve_overflow(fmt, None)
    sel = None if FULL else policy_sensitive(x, fmt)
    for ovf in overflows(fmt):
        if ovf == default or sel is None:
            check(x, fmt, mode, ovf, what, r, n)
        else:
            check(x[sel], fmt, mode, ovf, what, None if r is None else r[sel], n)


# ---- encode: formats of 16 bits or fewer ----------------------------------------------------------------
@pytest.mark.parametrize("mode", DETERMINISTIC, ids=lambda m: m.name.lower())
@pytest.mark.parametrize("name", SMALL)
def test_encode_small_deterministic(cpp: None, name: str, mode: Rounding) -> None:
    fmt = FORMATS[name]
    for dtype in (np.float64, np.float32):
        check_policies(inputs(name, dtype), fmt, mode, "encode")


@pytest.mark.parametrize("mode", STOCHASTIC, ids=lambda m: m.name.lower())
@pytest.mark.parametrize("name", SMALL)
def test_encode_small_stochastic(cpp: None, name: str, mode: Rounding) -> None:
    fmt = FORMATS[name]
    rng = np.random.default_rng(7)
    for dtype in (np.float64, np.float32):
        x = inputs(name, dtype)
        for n in N_BITS:
            r = rng.integers(0, 1 << n, x.size, dtype=np.uint64)
            if n <= 8:  # also exercise uint32 random bits
                r = r.astype(np.uint32)
            check_policies(x, fmt, mode, "encode", r, n)


# ---- encode: float32, tf32 and float64 targets (random samples) -----------------------------------------
@pytest.mark.parametrize("name", ["float32", "tf32", "float64"])
def test_encode_wide_formats(cpp: None, name: str) -> None:
    fmt = FORMATS[name]
    rng = np.random.default_rng(11)
    g = grid_inputs(name, 1500, 5)
    samples = {
        np.float64: np.concatenate([random_inputs(np.float64, 5000, 1), g, SPECIALS, -SPECIALS]),
        np.float32: np.concatenate([random_inputs(np.float32, 5000, 2), g.astype(np.float32)]),
    }
    for dtype, x in samples.items():
        assert x.dtype == dtype
        for mode in Rounding:
            if mode.is_stochastic:
                for n in N_BITS:
                    r = rng.integers(0, 1 << n, x.size, dtype=np.uint64)
                    check_policies(x, fmt, mode, "encode", r, n)
            else:
                check_policies(x, fmt, mode, "encode")


def test_encode_random_bit_patterns_into_small_formats(cpp: None) -> None:
    """Random float32/float64 bit patterns (subnormal inputs, far below the quantum, huge)."""
    x64 = random_inputs(np.float64, 5000, 3)
    x32 = random_inputs(np.float32, 5000, 4)
    for name in SMALL:
        fmt = FORMATS[name]
        for x in (x64, x32):
            if not fmt.has_nan:
                x = x[~np.isnan(x)]
            for mode in (Rounding.NEAREST_EVEN, Rounding.TOWARD_POSITIVE, Rounding.TO_ODD):
                check(x, fmt, mode, resolve_overflow(fmt, None), "encode")


def test_nan_without_nan_encoding_raises(cpp: None) -> None:
    for name in ("float4_e2m1fn", "float6_e3m2fn", "float6_e2m3fn"):
        fmt = FORMATS[name]
        x = np.array([1.0, np.nan])
        with pytest.raises(ValueError):
            encode_reference(x, fmt)
        with pytest.raises(ValueError, match="NaN"):
            encode_cpp(x, fmt)
        # quantize passes NaN through instead
        assert_values(quantize_cpp(x, fmt), quantize_reference(x, fmt), f"quantize {name}")


# ---- stochastic rounding from a seed ----------------------------------------------------------------
def test_random_bits_match_reference(cpp: None) -> None:
    for seed in (0, 1, 12345, 2**64 - 1, -3):
        for n in (1, 8, 23, 32, 52):
            want = random_bits_reference(seed, 3000, n)
            np.testing.assert_array_equal(random_bits_cpp(seed, 3000, n), want)
            np.testing.assert_array_equal(random_bits_cpp(seed, 1000, n, start=2000), want[2000:])
    assert random_bits_cpp(5, 0, 8).shape == (0,)


@pytest.mark.parametrize("name", ["float8_e4m3fn", "bfloat16", "p3109_k8p3se", "float32"])
def test_stochastic_from_seed(cpp: None, name: str) -> None:
    fmt = FORMATS[name]
    x = np.random.default_rng(3).standard_normal((40, 50))
    for mode in STOCHASTIC:
        for n in N_BITS:
            r = random_bits_reference(99, x.size, n).reshape(x.shape)
            want = encode_reference(x, fmt, mode, Overflow.SATURATE, r, n)
            for isa, got in per_isa(lambda: encode_cpp(x, fmt, mode, seed=99, n=n)):  # noqa: B023
                assert_codes(got, want, x, f"seeded {name} {mode.name} [{isa}]")
            quant = quantize_reference(x, fmt, mode, Overflow.SATURATE, r, n)
            for isa, got in per_isa(lambda: quantize_cpp(x, fmt, mode, seed=99, n=n)):  # noqa: B023
                assert_values(got, quant, f"seeded quantize {name} {mode.name} [{isa}]")
            # the element index is the flat C-order index, whatever the memory layout
            xf = np.asfortranarray(x)
            assert_codes(encode_cpp(xf, fmt, mode, seed=99, n=n), want, x, "fortran-order input")
            # a slice of the stream: start = flat offset
            got = encode_cpp(x[10:], fmt, mode, seed=99, n=n, start=10 * x.shape[1])
            assert_codes(got, want[10:], x[10:], "start offset")


@pytest.mark.parametrize("mode", STOCHASTIC, ids=lambda m: m.name.lower())
@pytest.mark.parametrize("name", SMALL)
def test_stochastic_from_seed_float32_every_code(cpp: None, name: str, mode: Rounding) -> None:
    """Seeded stochastic rounding of float32 input: the loops take n <= 32 random bits as 32-bit
    words made chunk by chunk (n > 32: the 64-bit rule). Every code, midpoint and neighbour, tiled
    over several chunks, from a stream offset that is not a chunk multiple."""
    fmt = FORMATS[name]
    ovf = resolve_overflow(fmt, None)
    # and values 1 to 2**-16 of the smallest step: rounding positions about 32 bits down
    rng = np.random.default_rng(5)
    step = float(fmt.mag_value(1))
    tiny = step * 2.0 ** -rng.uniform(0, 16, 4000)
    x = np.concatenate([np.tile(inputs(name, np.float32), 3)[:16_000], tiny, -tiny]).astype(np.float32)
    start = 4099
    for n in (8, 32, 40):  # n = 1..32 at the thresholds: test_sr_words.py
        r = random_bits_reference(31, start + x.size, n)[start:]
        want = encode_reference(x, fmt, mode, ovf, r, n)
        quant = quantize_reference(x, fmt, mode, ovf, r, n)
        for isa, got in per_isa(lambda: encode_cpp(x, fmt, mode, ovf, seed=31, n=n, start=start)):  # noqa: B023
            assert_codes(got, want, x, f"seeded {name} {mode.name} n={n} [{isa}]")
        for isa, got in per_isa(lambda: quantize_cpp(x, fmt, mode, ovf, seed=31, n=n, start=start)):  # noqa: B023
            assert_values(got, quant, f"seeded quantize {name} {mode.name} n={n} [{isa}]")


# ---- decode -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", SMALL)
def test_decode_every_code(cpp: None, name: str) -> None:
    fmt = FORMATS[name]
    codes, want = grid(name)
    codes = codes.astype(codes_dtype(fmt))
    assert_values(decode_cpp(codes, fmt), want, f"decode {name}")
    assert_values(decode_cpp(codes, fmt, dtype=np.float32), want.astype(np.float32), f"decode f32 {name}")


@pytest.mark.parametrize("name", ["float32", "tf32", "float64"])
def test_decode_wide(cpp: None, name: str) -> None:
    fmt = FORMATS[name]
    rng = np.random.default_rng(8)
    codes = rng.integers(0, 1 << fmt.nbits, 4000, dtype=np.uint64, endpoint=False)
    specials = [0, fmt.sign_mask, fmt.inf_mag, fmt.inf_mag | fmt.sign_mask, fmt.nan_code, fmt.max_mag, 1]
    codes = np.concatenate([codes, np.array(specials, dtype=np.uint64)]).astype(codes_dtype(fmt))
    want = decode_reference(codes, fmt)
    assert_values(decode_cpp(codes, fmt), want, f"decode {name}")
    assert_values(decode_cpp(codes, fmt, dtype=np.float32), want.astype(np.float32), f"decode f32 {name}")


# ---- quantize ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", [n for n in SMALL if FORMATS[n].nbits <= 8] + ["float16", "bfloat16"])
def test_quantize(cpp: None, name: str) -> None:
    fmt = FORMATS[name]
    modes = [Rounding.NEAREST_EVEN, Rounding.TOWARD_NEGATIVE, Rounding.STOCHASTIC]
    if fmt.nbits > 8:
        modes = modes[:1]
    x64 = inputs(name, np.float64)
    for x in (x64, x64.astype(np.float32)):
        for mode in modes:
            ovf = resolve_overflow(fmt, None)
            r = (
                np.random.default_rng(1).integers(0, 256, x.size, dtype=np.uint64)
                if mode.is_stochastic
                else None
            )
            want = quantize_reference(x, fmt, mode, ovf, r, 8)
            for isa, got in per_isa(lambda: quantize_cpp(x, fmt, mode, ovf, random_bits=r, n=8)):  # noqa: B023
                assert_values(got, want, f"quantize {name} {mode.name} {x.dtype} [{isa}]")


@pytest.mark.parametrize("name", ["float16", "float8_e4m3fn", "float8_e5m2", "float4_e2m1fn", "p3109_k8p4ue"])
def test_quantize_nearest_even_every_binade(cpp: None, name: str) -> None:
    """Nearest-even quantize by the FPU (fast_rne_fpu): values in every binade of the input dtype,
    their midpoints and neighbours, so that the clamp of its rounding constant is exercised where
    the constant would overflow, under every overflow policy."""
    fmt = FORMATS[name]
    for dt, emax in ((np.float32, 127), (np.float64, 1023)):
        e = np.arange(-emax + 1, emax + 1)
        base = np.concatenate(
            [np.ldexp(1.0, e), np.ldexp(1.5, e), np.ldexp(1.75, e), np.ldexp(1.0 + 2.0**-9, e)]
        )
        x = base.astype(dt)
        x = np.concatenate([x, np.nextafter(x, dt(0)), np.nextafter(x, dt(np.inf))])
        x = np.concatenate([x, -x])
        for ovf in overflows(fmt):
            want = quantize_reference(x, fmt, Rounding.NEAREST_EVEN, ovf, None, 0)
            for isa, got in per_isa(lambda: quantize_cpp(x, fmt, Rounding.NEAREST_EVEN, ovf)):  # noqa: B023
                assert_values(got, want, f"quantize {name} {ovf.name} {x.dtype} [{isa}]")


# ---- adapters: dtypes, layouts, shapes ---------------------------------------------------------------------
def test_half_precision_inputs(cpp: None) -> None:
    ml_dtypes = pytest.importorskip("ml_dtypes")
    rng = np.random.default_rng(2)
    base = rng.standard_normal(5000) * 10.0 ** rng.integers(-6, 6, 5000)
    for dt in (np.float16, ml_dtypes.bfloat16):
        x = base.astype(dt)
        for name in ("float8_e4m3fn", "float8_e5m2", "float4_e2m1fn", "p3109_k8p1ue", "float16"):
            fmt = FORMATS[name]
            ovf = resolve_overflow(fmt, None)
            for mode in (Rounding.NEAREST_EVEN, Rounding.TO_ODD):
                assert_codes(
                    encode_cpp(x, fmt, mode, ovf), encode_reference(x, fmt, mode, ovf), x, f"{dt} {name}"
                )
            got = quantize_cpp(x, fmt, overflow=ovf)
            assert got.dtype == x.dtype
            want = quantize_reference(x, fmt, overflow=ovf)
            assert_values(got.astype(np.float32), want.astype(np.float32), f"quantize {dt} {name}")


def test_layouts_and_shapes(cpp: None) -> None:
    fmt = FORMATS["float8_e4m3fn"]
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 7, 8)) * 30
    want = encode_reference(x, fmt)
    for view in (x[::2, :, 1::3], x.transpose(2, 0, 1), np.asfortranarray(x)):
        assert_codes(encode_cpp(view, fmt), encode_reference(view, fmt), view, "strided")
    # 0-d, empty, Python scalars
    zero_d = encode_cpp(np.float64(1.3), fmt)
    assert zero_d.shape == () and zero_d == encode_reference(np.float64(1.3), fmt)
    assert encode_cpp(np.empty((0, 3)), fmt).shape == (0, 3)
    assert quantize_cpp(np.empty((2, 0), np.float32), fmt).dtype == np.float32
    assert decode_cpp(np.empty(0, np.uint8), fmt).shape == (0,)
    assert quantize_cpp(2.7, fmt).shape == ()
    # out arrays: contiguous (written in place) and strided (filled from a temporary)
    out = np.empty(x.shape, np.uint8)
    assert encode_cpp(x, fmt, out=out) is out
    assert_codes(out, want, x, "out")
    big = np.zeros((6, 7, 16), np.uint8)
    res = encode_cpp(x, fmt, out=big[:, :, ::2])
    assert_codes(big[:, :, ::2], want, x, "strided out")
    assert res.base is big or res is not None
    vals = np.empty(x.shape, np.float32)
    decode_cpp(want, fmt, out=vals)
    assert_values(vals, decode_reference(want, fmt).astype(np.float32), "decode out")
    # integers and float inputs of other widths go through float64
    ints = np.arange(-20, 20)
    assert_codes(encode_cpp(ints, fmt), encode_reference(ints, fmt), ints, "int input")


def test_large_array_parallel_path(cpp: None) -> None:
    """Above the OpenMP threshold: same codes (and SR bits independent of the thread split)."""
    fmt = FORMATS["float8_e5m2"]
    x = np.random.default_rng(6).standard_normal(200_003).astype(np.float32) * 100
    assert_codes(encode_cpp(x, fmt), encode_reference(x, fmt), x, "large")
    r = random_bits_cpp(17, x.size, 16)
    want = encode_reference(x, fmt, Rounding.STOCHASTIC, Overflow.SATURATE, r, 16)
    for isa, got in per_isa(lambda: encode_cpp(x, fmt, Rounding.STOCHASTIC, seed=17, n=16)):
        assert_codes(got, want, x, f"large seeded [{isa}]")


@pytest.mark.parametrize("name", ["float8_e5m2", "p3109_k8p1ue", "bfloat16"])
def test_large_array_exact_rule_elements(cpp: None, name: str) -> None:
    """Elements the vectorised loops hand to the exact rule (Inf, NaN, negatives of unsigned formats,
    results below the normal range of formats without subnormals) scattered over many chunks."""
    fmt = FORMATS[name]
    ovf = resolve_overflow(fmt, None)
    rng = np.random.default_rng(12)
    x = (rng.standard_normal(100_001) * 10.0 ** rng.integers(-12, 6, 100_001)).astype(np.float32)
    x[::997] = np.inf
    x[3::1999] = -np.inf
    if fmt.has_nan:
        x[5::1009] = np.nan
    for mode in (Rounding.NEAREST_EVEN, Rounding.TOWARD_POSITIVE, Rounding.STOCHASTIC):
        r = random_bits_reference(4, x.size, 12) if mode.is_stochastic else None
        kw = {"seed": 4, "n": 12} if mode.is_stochastic else {}
        want = encode_reference(x, fmt, mode, ovf, r, 12)
        for isa, got in per_isa(lambda: encode_cpp(x, fmt, mode, ovf, **kw)):  # noqa: B023
            assert_codes(got, want, x, f"{name} {mode.name} [{isa}]")
        quant = quantize_reference(x, fmt, mode, ovf, r, 12)
        for isa, got in per_isa(lambda: quantize_cpp(x, fmt, mode, ovf, **kw)):  # noqa: B023
            assert_values(got, quant, f"quantize {name} {mode.name} [{isa}]")


def test_fast_isa_choice(cpp: None) -> None:
    isas = fast_isas()
    assert isas[-1] == "baseline"
    from lowprec._cpp import module

    before = module().fast_isa()
    assert before == isas[0]
    assert set(isas) <= {"avx512", "avx2", "baseline"}
    for isa in isas:
        with fast_isa(isa):
            assert module().fast_isa() == isa
    assert module().fast_isa() == before
    with pytest.raises(ValueError, match="instruction set"):
        module().set_fast_isa("sse9")


def test_errors(cpp: None) -> None:
    fmt = FORMATS["float8_e4m3fn"]
    x = np.ones(4)
    with pytest.raises(ValueError, match="seed or random_bits"):
        encode_cpp(x, fmt, Rounding.STOCHASTIC)
    with pytest.raises(ValueError, match="n <= 52"):
        encode_cpp(x, fmt, Rounding.STOCHASTIC, seed=1, n=60)
    with pytest.raises(ValueError, match="random_bits"):
        encode_cpp(x, fmt, Rounding.STOCHASTIC, random_bits=np.zeros(3, np.uint32), n=8)
    with pytest.raises(ValueError, match="infinit"):
        encode_cpp(x, fmt, overflow=Overflow.INFINITY)


# ---- CUDA sources ------------------------------------------------------------------------------------------
def _nvcc() -> str | None:
    for cand in (os.environ.get("CUDACXX"), shutil.which("nvcc"), "/usr/local/cuda/bin/nvcc"):
        if cand and Path(cand).is_file():
            return cand
    return None


def _nvcc_or_skip() -> str:
    nvcc = _nvcc()
    if nvcc is None:
        reason = "nvcc not found (set CUDACXX or put nvcc on PATH)"
        if os.environ.get("LOWPREC_REQUIRE_CUDA") == "1":
            pytest.fail(f"LOWPREC_REQUIRE_CUDA=1 but {reason}")
        pytest.skip(reason)
    return nvcc


def _nvcc_compile(nvcc: str, source: Path, obj: Path) -> None:
    cmd = [
        nvcc, "-std=c++17", "-O3", "-arch=compute_80", "-Xcompiler", "-Wall", f"-I{ROOT / 'csrc' / 'include'}",
        "-c", str(source), "-o", str(obj),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"nvcc failed:\n{proc.stdout}\n{proc.stderr}"
    assert "warning" not in proc.stderr.lower(), proc.stderr
    assert obj.stat().st_size > 0


@pytest.mark.parametrize("source", ["kernels.cu", "fixed_kernels.cu", "block_kernels.cu", "gemm_kernels.cu"])
def test_cuda_sources_compile(source: str, tmp_path: Path) -> None:
    """Every CUDA source compiles without warnings (there may be no GPU to run it; it shares the
    headers of csrc/include with the CPU loops)."""
    _nvcc_compile(_nvcc_or_skip(), ROOT / "csrc" / "cuda" / source, tmp_path / (Path(source).stem + ".o"))


def test_fast_rule_header_compiles_for_cuda(tmp_path: Path) -> None:
    """lowprec/fast.h and lowprec/block_fast.h (the vectorised loops' element rules, host-tested
    above) are __host__ __device__ too: kernels using them compile without warnings."""
    src = tmp_path / "fast_rule.cu"
    src.write_text(
        """#include "lowprec/fast.h"
#include "lowprec/block_fast.h"
using namespace lowprec;
__global__ void k32(const int* x, int* out, FastConsts c) {
  out[threadIdx.x] = fast_elem<kNearestEven, int>(x[threadIdx.x], 0, 0, c).code;
}
__global__ void k64(const long long* x, long long* out, FastConsts c, int n) {
  const auto r = fast_elem<kStochastic, long long>(x[threadIdx.x], random_bits(1, threadIdx.x, n), n, c);
  out[threadIdx.x] = r.slow ? 0 : r.bits;
}
__global__ void kb32(const int* x, int* out, FastConsts c) {
  out[threadIdx.x] = fast_bits<kNearestEven, int>(x[threadIdx.x], c).bits;
}
__global__ void kb64(const long long* x, long long* out, FastConsts c) {
  out[threadIdx.x] = fast_bits<kTowardNegative, long long>(x[threadIdx.x], c).bits;
}
__global__ void kblk(const int* x, int* out, BlockFast32 f, int am) {
  BlockGrid32 g;
  if (block_grid32(f, block_exp32(am, f), &g)) out[threadIdx.x] = block_elem32<kNearestEven>(x[threadIdx.x], g);
}
BlockFast32 host_block_consts(const BlockParams& bp) { return make_block_fast32(bp); }
FastConsts host_consts(const FloatParams& p) { return make_fast_consts(p, 23, kNearestEven, kSaturate); }
"""
    )
    _nvcc_compile(_nvcc_or_skip(), src, tmp_path / "fast_rule.o")
