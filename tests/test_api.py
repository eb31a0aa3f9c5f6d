"""The NumPy API contract: shapes, dtypes, out=, bad input, packing, ml_dtypes interop."""

from __future__ import annotations

import subprocess
import sys

import ml_dtypes
import numpy as np
import pytest

import lowprec
from lowprec.reference import encode_reference, random_bits_reference
from lowprec.rounding import Overflow, Rounding


@pytest.mark.parametrize("backend", ["numba", "cpp", "reference"])
def test_shapes_dtypes_and_no_mutation(backend):
    if not lowprec.backends()[backend][0]:
        pytest.skip(lowprec.backends()[backend][1])
    rng = np.random.default_rng(0)
    base = rng.standard_normal((6, 7, 5)) * 50
    for dt in (np.float16, ml_dtypes.bfloat16, np.float32, np.float64):
        x = base.astype(dt)
        keep = x.copy()
        y = lowprec.quantize(x, "float8_e4m3fn", backend=backend)
        assert y.shape == x.shape and y.dtype == x.dtype
        np.testing.assert_array_equal(x.view(np.uint8), keep.view(np.uint8))  # input untouched
        # non-contiguous views give the same values as their contiguous copies
        v = x[:, ::2, 1:]
        np.testing.assert_array_equal(
            lowprec.quantize(v, "float8_e4m3fn", backend=backend), lowprec.quantize(v.copy(), "float8_e4m3fn")
        )
        ft = np.asfortranarray(x)
        np.testing.assert_array_equal(lowprec.quantize(ft, "float8_e4m3fn", backend=backend), y)


def test_empty_zero_d_scalars():
    assert lowprec.quantize(np.empty((0, 3), np.float32), "bfloat16").shape == (0, 3)
    assert lowprec.encode(np.empty(0), "float8_e5m2").dtype == np.uint8
    z = lowprec.quantize(np.array(0.3, np.float32), "bfloat16")
    assert z.shape == () and z.dtype == np.float32
    assert float(lowprec.quantize(0.3, "bfloat16")) == float(ml_dtypes.bfloat16(0.3))
    assert int(lowprec.encode(300.0, "float8_e4m3fn", "toward_zero")) == 0x79
    assert int(lowprec.encode(-0.0, "float8_e4m3fn")) == 0x80
    assert int(lowprec.encode(-0.0, "float8_e4m3fnuz")) == 0x00


def test_out_and_in_place():
    x = np.linspace(-10, 10, 101, dtype=np.float32)
    want = lowprec.quantize(x, "float4_e2m1fn")
    out = np.empty_like(x)
    assert lowprec.quantize(x, "float4_e2m1fn", out=out) is out
    np.testing.assert_array_equal(out, want)
    y = x.copy()
    lowprec.quantize(y, "float4_e2m1fn", out=y)
    np.testing.assert_array_equal(y, want)
    with pytest.raises(ValueError, match="out must have"):
        lowprec.quantize(x, "float4_e2m1fn", out=np.empty(3, np.float32))
    codes = np.empty(x.shape, np.uint8)
    assert lowprec.encode(x, "float4_e2m1fn", out=codes) is codes


def test_float64_is_rounded_once():
    # 1.0625 * (1 + 2**-30) is just above the tie between 1.0 and 1.125 in e4m3: float64 -> float32
    # first would land on the tie and give 1.0 (ml_dtypes' double rounding); lowprec gives 1.125
    x = np.array([1.0625 * (1 + 2**-30)])
    assert lowprec.quantize(x, "float8_e4m3fn")[0] == 1.125
    assert lowprec.quantize(np.float64(1 + 2**-8 + 2**-40), "bfloat16") == 1.0078125


def test_bad_input_errors():
    x = np.ones(3, np.float32)
    with pytest.raises(ValueError, match="float8_e4m3fn"):
        lowprec.quantize(x, "float8_e4m3f")
    with pytest.raises(ValueError, match="nearest_even"):
        lowprec.quantize(x, "bfloat16", "nearest_evn")
    with pytest.raises(ValueError, match="overflow"):
        lowprec.quantize(x, "bfloat16", overflow="wrap")
    with pytest.raises(ValueError, match="no infinities"):
        lowprec.quantize(x, "float8_e4m3fn", overflow="infinity")
    with pytest.raises(TypeError, match="integer"):
        lowprec.quantize(np.arange(3), "bfloat16")
    with pytest.raises(TypeError, match="complex"):
        lowprec.quantize(np.ones(3, np.complex64), "bfloat16")
    with pytest.raises(TypeError):
        lowprec.quantize("1.0", "bfloat16")
    with pytest.raises(ValueError, match="0 mantissa bits"):
        lowprec.FloatFormat(5, 0)
    with pytest.raises(ValueError, match="64 bits"):
        lowprec.FloatFormat(11, 60)
    with pytest.raises(ValueError, match="float64"):
        lowprec.FloatFormat(12, 3)
    with pytest.raises(ValueError, match="only apply to stochastic"):
        lowprec.quantize(x, "bfloat16", seed=1)
    with pytest.raises(ValueError, match=r"\[0, 2\*\*4\)"):
        lowprec.quantize(x, "bfloat16", "stochastic", random_bits=np.full(3, 16), n_random_bits=4)
    with pytest.raises(ValueError, match="shape"):
        lowprec.quantize(x, "bfloat16", "stochastic", random_bits=np.zeros(4, np.uint32))
    with pytest.raises(ValueError, match="no NaN"):
        lowprec.encode(np.array([np.nan]), "float4_e2m1fn")
    with pytest.raises(ValueError, match="backend"):
        lowprec.quantize(x, "bfloat16", backend="gpu")
    with pytest.raises(TypeError):
        lowprec.decode(np.ones(2), "bfloat16")
    with pytest.raises(ValueError, match="out of range"):
        lowprec.decode(np.array([256]), "float8_e5m2")


def test_nan_passes_through_formats_without_nan():
    y = lowprec.quantize(np.array([np.nan, 7.0, np.inf]), "float4_e2m1fn")
    assert np.isnan(y[0]) and y[1] == 6.0 and y[2] == 6.0


@pytest.mark.parametrize(
    "name", ["float4_e2m1fn", "float6_e3m2fn", "float6_e2m3fn", "float8_e5m2", "bfloat16"]
)
def test_pack_roundtrip(name):
    fmt = lowprec.get_format(name)
    codes = (
        np.random.default_rng(1).integers(0, 1 << fmt.nbits, size=37).astype(lowprec._api.codes_dtype(fmt))
    )
    packed = lowprec.pack(codes, fmt)
    assert packed.dtype == np.uint8 and packed.size == (37 * fmt.nbits + 7) // 8
    np.testing.assert_array_equal(lowprec.unpack(packed, fmt, count=37), codes)


def test_pack_fp4_low_nibble_first():
    assert lowprec.pack(np.array([1, 2, 15], np.uint8), "float4_e2m1fn").tolist() == [0x21, 0x0F]


@pytest.mark.parametrize("name", ["float8_e4m3fn", "float4_e2m1fn", "bfloat16", "float8_e8m0fnu"])
def test_ml_dtypes_interop(name):
    x = np.random.default_rng(2).standard_normal(50).astype(np.float32)
    codes = lowprec.encode(x, name, "nearest_away" if name == "float8_e8m0fnu" else "nearest_even",
                           overflow="saturate" if name == "float8_e8m0fnu" else None)  # fmt: skip
    arr = lowprec.to_ml_dtypes(codes, name)
    assert arr.dtype == np.dtype(getattr(ml_dtypes, name))
    back, fmt = lowprec.from_ml_dtypes(arr)
    assert fmt.name == name
    np.testing.assert_array_equal(back, codes)


def test_random_bits_index_is_64_bit():
    from lowprec._numba._random import random_bits_numba
    from lowprec.reference._random import GOLDEN, splitmix64

    start = 2**31 + 12345  # beyond int32: index arithmetic must be 64-bit
    got = random_bits_numba(5, 4, 20, start=start)
    key = splitmix64(5)
    want = [splitmix64(key + (start + i + 1) * GOLDEN) >> 44 for i in range(4)]
    assert got.tolist() == want
    np.testing.assert_array_equal(lowprec.random_bits(5, 9, 20), random_bits_reference(5, 9, 20))


def test_subnormals_override():
    x = np.array([2.0**-8, 2.0**-10, 3 * 2.0**-8])  # below e4m3fn's min normal 2**-6
    flushed = lowprec.quantize(x, "float8_e4m3fn", subnormals=False)
    assert flushed.tolist() == [0.0, 0.0, 2.0**-6]
    want = encode_reference(x, lowprec.get_format("float8_e4m3fn").replace(subnormals=False),
                            Rounding.NEAREST_EVEN, Overflow.NAN)  # fmt: skip
    np.testing.assert_array_equal(lowprec.encode(x, "float8_e4m3fn", subnormals=False), want)


def test_finfo():
    i = lowprec.finfo("float8_e4m3fn")
    assert (i.max, i.min_normal, i.min_subnormal, i.eps, i.bits) == (448.0, 2**-6, 2**-9, 0.125, 8)
    assert "448" in str(i)
    assert lowprec.finfo("p3109_k8p3se").max == 49152.0


def test_import_is_lean():
    code = "import sys, lowprec; print(any(m in sys.modules for m in ('torch', 'jax', 'numba')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
