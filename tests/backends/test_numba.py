"""The Numba backend against the exact reference, bit for bit.

Exhaustive for every named format of at most 16 bits: every value, midpoint and neighbour, from
float32 and float64 inputs, every rounding mode and every overflow policy the format allows.
"""

from __future__ import annotations

import numpy as np
import pytest

import lowprec
from lowprec.reference import encode_reference, quantize_reference, random_bits_reference
from lowprec.rounding import Overflow, Rounding, resolve_overflow
from lowprec.testing import assert_codes_equal, sweep_values

SMALL = [n for n, f in lowprec.FORMATS.items() if f.nbits <= 16 and not (n.startswith("p3109_k16"))]
SMALL += ["p3109_k16p11se", "p3109_k16p8uf"]
MODES = list(Rounding)


def _policies(fmt):
    out = []
    for o in Overflow:
        try:
            out.append(resolve_overflow(fmt, o))
        except ValueError:
            pass
    return out


def _bits(size, n, seed=0):
    return np.random.default_rng(seed).integers(0, 1 << n, size=size, dtype=np.uint64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", SMALL)
def test_encode_exhaustive(name, dtype):
    fmt = lowprec.get_format(name)
    x = sweep_values(fmt, dtype)
    if not fmt.has_nan:
        x = x[~np.isnan(x)]
    for mode in MODES:
        for ovf in _policies(fmt):
            n = 8 if mode == Rounding.STOCHASTIC_EQUAL else 13
            r = _bits(x.size, n) if mode.is_stochastic else None
            kw = {"random_bits": r, "n_random_bits": n} if mode.is_stochastic else {}
            got = lowprec.encode(x, fmt, mode, overflow=ovf, backend="numba", **kw)
            want = encode_reference(x, fmt, mode, ovf, r, n)
            assert_codes_equal(got, want, x)


@pytest.mark.parametrize(
    "name", ["float8_e4m3fn", "float8_e5m2", "bfloat16", "float4_e2m1fn", "float8_e8m0fnu"]
)
@pytest.mark.parametrize("n", [1, 8, 32, 52])
def test_stochastic_bits_widths(name, n):
    fmt = lowprec.get_format(name)
    x = sweep_values(fmt, np.float64)
    x = x[np.isfinite(x)]
    r = _bits(x.size, n, seed=n)
    got = lowprec.encode(x, fmt, "stochastic", random_bits=r, n_random_bits=n, overflow="saturate")
    assert_codes_equal(got, encode_reference(x, fmt, Rounding.STOCHASTIC, Overflow.SATURATE, r, n), x)


@pytest.mark.parametrize("name", ["float32", "tf32", "fp22", "float64", "bfloat16"])
@pytest.mark.parametrize("mode", MODES)
def test_wide_targets_random(name, mode):
    fmt = lowprec.get_format(name)
    rng = np.random.default_rng(7)
    x = np.concatenate(
        [
            rng.standard_normal(20000) * 10.0 ** rng.integers(-40, 40, 20000),
            np.frombuffer(rng.bytes(8 * 20000), dtype=np.float64),
        ]
    )
    x = x[~np.isnan(x)]
    r = _bits(x.size, 24) if mode.is_stochastic else None
    kw = {"random_bits": r, "n_random_bits": 24} if mode.is_stochastic else {}
    ovf = resolve_overflow(fmt, None)
    got = lowprec.encode(x, fmt, mode, overflow=ovf, **kw)
    assert_codes_equal(got, encode_reference(x, fmt, mode, ovf, r, 24), x)


@pytest.mark.parametrize("dtype", [np.float16, "bfloat16", np.float32, np.float64])
@pytest.mark.parametrize("name", ["float8_e4m3fn", "float4_e2m1fn", "float16", "tf32"])
def test_quantize_values_all_dtypes(name, dtype):
    import ml_dtypes

    dt = np.dtype(ml_dtypes.bfloat16) if dtype == "bfloat16" else np.dtype(dtype)
    fmt = lowprec.get_format(name)
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(5000) * 30).astype(dt)
    x[:4] = [np.nan, np.inf, -np.inf, -0.0]
    for mode in MODES:
        r = _bits(x.size, 10) if mode.is_stochastic else None
        kw = {"random_bits": r, "n_random_bits": 10} if mode.is_stochastic else {}
        got = lowprec.quantize(x, fmt, mode, **kw)
        want = quantize_reference(x, fmt, mode, resolve_overflow(fmt, None), r, 10)
        assert got.dtype == x.dtype and got.shape == x.shape
        np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))


def test_seeded_equals_explicit_bits():
    fmt = lowprec.get_format("float8_e5m2")
    x = np.linspace(-3, 3, 10001).reshape(73, 137)
    a = lowprec.quantize(x, fmt, "stochastic", seed=1234, n_random_bits=20)
    r = random_bits_reference(1234, x.size, 20).reshape(x.shape)
    b = lowprec.quantize(x, fmt, "stochastic", random_bits=r, n_random_bits=20)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(lowprec.random_bits(1234, x.shape, 20), r)
    c = lowprec.quantize(x, fmt, "stochastic", seed=1234, n_random_bits=20, backend="reference")
    np.testing.assert_array_equal(a, c)


def test_seed_independent_of_threads():
    import numba

    x = np.random.default_rng(0).standard_normal(100_003).astype(np.float32)
    a = lowprec.quantize(x, "bfloat16", "stochastic", seed=9)
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        b = lowprec.quantize(x, "bfloat16", "stochastic", seed=9)
    finally:
        numba.set_num_threads(old)
    np.testing.assert_array_equal(a.view(np.uint32), b.view(np.uint32))


@pytest.mark.parametrize("name", SMALL)
def test_decode_every_code(name):
    from lowprec.reference import decode_reference

    fmt = lowprec.get_format(name)
    codes = np.arange(1 << fmt.nbits)
    got = lowprec.decode(codes, fmt).astype(np.float64)
    want = decode_reference(codes, fmt)
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    assert same.all()
    assert (np.signbit(got) == np.signbit(want)).all()


# ---- the vectorised path (lowprec._numba._float_simd) ---------------------------------------------
# Every format below with a zero takes the vectorised kernels from float32 and float64 inputs (checked
# by test_simd_path_selected); the sweeps reach every branch of its element rule: normal and
# subnormal results, the carry into the exponent, overflow under each policy, and the elements left
# to the exact rule (NaN/Inf inputs, negatives of unsigned formats, underflow without subnormals).
SIMD_FORMATS = [
    "float16", "bfloat16", "float8_e5m2", "float8_e5m2fnuz", "float8_e4m3", "float8_e4m3fn",
    "float8_e4m3fnuz", "float8_e4m3b11fnuz", "float8_e3m4", "float6_e2m3fn", "float6_e3m2fn",
    "float4_e2m1fn", "p3109_k8p1se", "p3109_k8p3sf", "p3109_k8p1uf", "p3109_k8p4ue", "p3109_k8p8uf",
    "p3109_k16p11se", "p3109_k16p8uf",
]  # fmt: skip
WIDER_THAN_F32 = ["p3109_k8p1uf", "p3109_k16p8uf"]  # emin -127 and -255: below float32's normals
NO_SUB = ["float8_e4m3fn", "float16", "p3109_k8p3ue"]  # with subnormals=False


def _fmt_variant(name):
    if name.endswith(":nosub"):
        return lowprec.get_format(name[: -len(":nosub")]).replace(subnormals=False)
    return lowprec.get_format(name)


def _same_values(got, want):
    """Bitwise equal, NaN compared by class."""
    ui = np.uint32 if got.dtype == np.float32 else np.uint64
    differ = (got.view(ui) != want.view(ui)) & ~(np.isnan(got) & np.isnan(want))
    bad = np.nonzero(differ)[0]
    assert bad.size == 0, f"{bad.size} differ, first: {[(got[i], want[i]) for i in bad[:5]]}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", [*SIMD_FORMATS, *(n + ":nosub" for n in NO_SUB)])
def test_quantize_exhaustive(name, dtype):
    fmt = _fmt_variant(name)
    x = sweep_values(lowprec.get_format(name.split(":")[0]), dtype)
    if not fmt.has_nan:
        x = x[~np.isnan(x)]
    for mode in MODES:
        for ovf in _policies(fmt):
            r = _bits(x.size, 11) if mode.is_stochastic else None
            kw = {"random_bits": r, "n_random_bits": 11} if mode.is_stochastic else {}
            got = lowprec.quantize(x, fmt, mode, overflow=ovf, backend="numba", **kw)
            _same_values(got, quantize_reference(x, fmt, mode, ovf, r, 11))
            if name.endswith(":nosub"):  # encode_exhaustive covers the named formats
                codes = lowprec.encode(x, fmt, mode, overflow=ovf, backend="numba", **kw)
                assert_codes_equal(codes, encode_reference(x, fmt, mode, ovf, r, 11), x)


@pytest.mark.parametrize("name", [*SIMD_FORMATS, "float32", "tf32"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_simd_path_selected(name, dtype):
    from lowprec._api import _kparams
    from lowprec._numba._float_simd import fast_consts

    if dtype == np.float32 and name in WIDER_THAN_F32:
        pytest.skip("range beyond float32's normal range: the generic kernel (test_simd_path_not_selected)")
    width = np.dtype(dtype).itemsize * 8
    p = _kparams(lowprec.get_format(name))
    for mode in MODES:
        assert fast_consts(p, width, int(mode), int(resolve_overflow(lowprec.get_format(name), None)))


@pytest.mark.parametrize(
    ("name", "dtype"),
    [("float8_e8m0fnu", np.float32), ("float64", np.float32), ("float64", np.float64)]
    + [(n, np.float32) for n in WIDER_THAN_F32],
)
def test_simd_path_not_selected(name, dtype):
    from lowprec._api import _kparams
    from lowprec._numba._float_simd import fast_consts

    p = _kparams(lowprec.get_format(name))
    assert fast_consts(p, np.dtype(dtype).itemsize * 8, 0, 0) is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["float32", "tf32", "bfloat16", "float8_e4m3fn", "p3109_k8p3ue"])
@pytest.mark.parametrize("mode", MODES)
def test_random_bit_patterns(name, dtype, mode):
    """Arbitrary bit patterns (every exponent, subnormal inputs, NaN payloads, Infs) spread over
    many chunks, so rare elements sit between common ones."""
    fmt = lowprec.get_format(name)
    ui = np.uint32 if dtype == np.float32 else np.uint64
    rng = np.random.default_rng(11)
    x = rng.integers(0, np.iinfo(ui).max, size=30011, dtype=ui, endpoint=True).view(dtype)
    x[::7] = (rng.standard_normal(x[::7].size) * 3).astype(dtype)
    ovf = resolve_overflow(fmt, None)
    r = _bits(x.size, 32) if mode.is_stochastic else None
    kw = {"random_bits": r, "n_random_bits": 32} if mode.is_stochastic else {}
    got = lowprec.quantize(x, fmt, mode, overflow=ovf, **kw)
    _same_values(got, quantize_reference(x, fmt, mode, ovf, r, 32))
    if fmt.has_nan:
        codes = lowprec.encode(x, fmt, mode, overflow=ovf, **kw)
        assert_codes_equal(codes, encode_reference(x, fmt, mode, ovf, r, 32), x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", ["stochastic", "stochastic_equal"])
def test_seeded_bits_float32_and_float64(dtype, mode):
    """The counter generator inside the vectorised loop gives the contract's bits."""
    x = (np.random.default_rng(5).standard_normal(20001) * 3).astype(dtype)
    for fmt in ("bfloat16", "float4_e2m1fn"):
        for n in (1, 23, 32, 52):
            a = lowprec.quantize(x, fmt, mode, seed=77, n_random_bits=n)
            r = random_bits_reference(77, x.size, n)
            b = lowprec.quantize(x, fmt, mode, random_bits=r, n_random_bits=n)
            _same_values(a, b)
            c = lowprec.encode(x, fmt, mode, seed=77, n_random_bits=n)
            want = encode_reference(x, lowprec.get_format(fmt), Rounding[mode.upper()],
                                    resolve_overflow(lowprec.get_format(fmt), None), r, n)  # fmt: skip
            assert_codes_equal(c, want, x)


@pytest.mark.parametrize(
    "mode", [Rounding.STOCHASTIC, Rounding.STOCHASTIC_EQUAL], ids=lambda m: m.name.lower()
)
@pytest.mark.parametrize("name", SMALL)
def test_seeded_float32_every_code(name, mode):
    """Seeded stochastic rounding of float32 input takes n <= 32 random bits as 32-bit words made
    chunk by chunk (n > 32: the 64-bit rule). Every value, midpoint and neighbour, and values 1 to
    2**-16 of the smallest step (rounding positions about 32 bits down)."""
    fmt = lowprec.get_format(name)
    ovf = resolve_overflow(fmt, None)
    tiny = float(fmt.mag_value(1)) * 2.0 ** -np.random.default_rng(5).uniform(0, 16, 4000)
    x = np.concatenate([sweep_values(fmt, np.float32), tiny, -tiny]).astype(np.float32)
    if not fmt.has_nan:
        x = x[~np.isnan(x)]
    for n in (8, 32, 40):  # n = 1..32 at the thresholds: test_sr_words.py
        r = random_bits_reference(31, x.size, n)
        got = lowprec.encode(x, fmt, mode, overflow=ovf, seed=31, n_random_bits=n, backend="numba")
        assert_codes_equal(got, encode_reference(x, fmt, mode, ovf, r, n), x)
        got = lowprec.quantize(x, fmt, mode, overflow=ovf, seed=31, n_random_bits=n, backend="numba")
        _same_values(got, quantize_reference(x, fmt, mode, ovf, r, n))


# ---- the vectorised kernels compiled for one format (arrays of at least SPEC_MIN elements) -----
# Same element rule as above, with the format's constants folded in at compile time. Each case
# compiles a kernel of its own (about a second), so the cases cover every mode, both input widths,
# encode, explicit and seeded bits, every overflow policy and the format shapes the folding changes
# (no subnormal arithmetic for bfloat16 from float32, subnormals, unsigned, no subnormals, no NaN)
# without taking their whole product.
SPEC_CASES = [
    ("bfloat16", np.float32, "nearest_even", "quantize"),
    ("bfloat16", np.float32, "stochastic", "quantize-seed"),
    ("bfloat16", np.float64, "toward_zero", "encode"),
    ("float16", np.float32, "nearest_away", "quantize"),
    ("float16", np.float32, "stochastic_equal", "quantize"),
    ("float8_e4m3fn", np.float32, "toward_negative", "quantize"),
    ("float8_e4m3fn", np.float32, "to_odd", "encode"),
    ("float8_e5m2", np.float64, "nearest_zero", "quantize-all-overflows"),
    ("float4_e2m1fn", np.float32, "stochastic", "encode"),
    ("p3109_k8p4ue", np.float32, "toward_positive", "quantize"),
    ("float8_e4m3fn:nosub", np.float64, "nearest_even", "quantize"),
    # nearest_even by the FPU (_fpu_rne_bits): subnormals, overflow policies, float64 lanes, unsigned,
    # and a format without mantissa bits (left to the integer rule)
    ("float16", np.float32, "nearest_even", "quantize-all-overflows"),
    ("float8_e5m2", np.float32, "nearest_even", "quantize-all-overflows"),
    ("float4_e2m1fn", np.float64, "nearest_even", "quantize"),
    ("p3109_k8p4ue", np.float32, "nearest_even", "quantize"),
    ("p3109_k8p1se", np.float32, "nearest_even", "quantize"),
]


@pytest.mark.parametrize(("name", "dtype", "mode", "kind"), SPEC_CASES)
def test_specialised_kernels(name, dtype, mode, kind, monkeypatch):
    from lowprec._api import _kparams
    from lowprec._numba import _float_simd

    monkeypatch.setattr(_float_simd, "SPEC_MIN", 0)
    fmt = _fmt_variant(name)
    mode = Rounding[mode.upper()]
    x = sweep_values(lowprec.get_format(name.split(":")[0]), dtype)
    big = np.ldexp(1.5, np.arange(100, 127)).astype(dtype)  # every binade near float32's top
    x = np.concatenate([x, big, -big])  # far beyond the format: overflow in every lane position
    if not fmt.has_nan:
        x = x[~np.isnan(x)]
    seeded = kind.endswith("-seed")
    r = random_bits_reference(9, x.size, 11) if mode.is_stochastic else None
    kw = {}
    if mode.is_stochastic:
        kw = {"seed": 9, "n_random_bits": 11} if seeded else {"random_bits": r, "n_random_bits": 11}
    overflows = _policies(fmt) if kind.endswith("all-overflows") else [resolve_overflow(fmt, None)]
    for ovf in overflows:
        if kind.startswith("encode"):
            got = lowprec.encode(x, fmt, mode, overflow=ovf, backend="numba", **kw)
            assert_codes_equal(got, encode_reference(x, fmt, mode, ovf, r, 11), x)
        else:
            got = lowprec.quantize(x, fmt, mode, overflow=ovf, backend="numba", **kw)
            _same_values(got, quantize_reference(x, fmt, mode, ovf, r, 11))
        # the format's own kernel ran
        c = _float_simd.fast_consts(_kparams(fmt), np.dtype(dtype).itemsize * 8, int(mode), int(ovf))
        width = np.dtype(dtype).itemsize * 8
        words = _float_simd.use_words(int(mode), width, 11)
        pair = _float_simd.simd_kernels(int(mode), width, not seeded and r is not None, c, words)
        assert pair[0 if kind.startswith("encode") else 1].overloads


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_specialised_threshold(dtype, monkeypatch):
    """An array of SPEC_MIN elements takes the format's own kernel, which agrees with the shared
    one (tested above against the reference) on every kind of bit pattern."""
    from lowprec._numba import _float_simd

    ui = np.uint32 if dtype == np.float32 else np.uint64
    rng = np.random.default_rng(3)
    x = rng.integers(0, np.iinfo(ui).max, size=_float_simd.SPEC_MIN, dtype=ui, endpoint=True).view(dtype)
    x[::3] = (rng.standard_normal(x[::3].size) * 100).astype(dtype)
    mode = "nearest_even" if dtype == np.float32 else "stochastic"
    kw = {"seed": 9} if mode == "stochastic" else {}
    fmt = "bfloat16" if dtype == np.float32 else "float8_e4m3fn"
    spec = lowprec.quantize(x, fmt, mode, **kw)
    codes = lowprec.encode(x, fmt, mode, **kw)
    monkeypatch.setattr(_float_simd, "SPEC_MIN", 1 << 62)
    _same_values(spec, lowprec.quantize(x, fmt, mode, **kw))
    assert_codes_equal(codes, lowprec.encode(x, fmt, mode, **kw), x)


@pytest.mark.parametrize(
    ("name", "width", "expected"),
    [("float16", 32, True), ("float4_e2m1fn", 64, True), ("bfloat16", 32, False), ("bfloat16", 64, True),
     ("p3109_k8p1se", 32, False), ("e5m3_bias125", 32, False), ("e5m3_bias125", 64, True)],
)  # fmt: skip
def test_fpu_rne_selection(name, width, expected):
    """The FPU form of nearest_even is used where it is exact: a mantissa bit, its rounding constant
    finite above the format's largest binade (bfloat16 from float32 is not), and no subnormal of
    the input dtype on the format's grid (e5m3 with bias 125 reaches 2**-127: not from float32)."""
    from lowprec._api import _kparams
    from lowprec._numba._float_simd import fast_consts, fpu_rne_ok

    fmt = lowprec.FloatFormat(5, 3, bias=125) if name == "e5m3_bias125" else lowprec.get_format(name)
    c = fast_consts(_kparams(fmt), width, int(Rounding.NEAREST_EVEN), int(resolve_overflow(fmt, None)))
    assert fpu_rne_ok(c, width) is expected
