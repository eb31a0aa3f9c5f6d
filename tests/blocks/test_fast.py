"""The Numba block kernel against the exact reference, bit for bit: every format, mode, axis."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
from blockdata import amax_grid_rows, block_inputs

import lowprec
from lowprec import blocks
from lowprec.formats._block import BLOCK_FORMATS, BlockFormat
from lowprec.rounding import Rounding

_NAMES = [n for n in BLOCK_FORMATS if n not in ("bfp12", "bfp16")] + [
    "mxfp4_rceil",
    "mxfp4_ceil",
    "mxfp8_e4m3_even",
]


def _same(a: tuple, b: tuple) -> None:
    assert len(a) == len(b)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v))


@pytest.mark.parametrize("name", _NAMES)
@pytest.mark.parametrize("mode", list(Rounding))
def test_fast_equals_reference(name: str, mode: Rounding) -> None:
    x = block_inputs((4, 72), seed=len(name) + int(mode))  # ragged last block for 16 and 32
    x[1, 40] = 3.5 * 2.0**-130  # tiny elements next to a huge amax
    kw = {"seed": 7, "n_random_bits": 9} if mode.is_stochastic else {}
    q = blocks.quantize(x, name, rounding=mode, **kw, backend="numba")
    r = blocks.quantize(x, name, rounding=mode, backend="reference", **kw)
    np.testing.assert_array_equal(q, r)
    np.testing.assert_array_equal(np.signbit(q), np.signbit(r))
    if mode in (Rounding.NEAREST_EVEN, Rounding.STOCHASTIC):
        if mode.is_stochastic:  # explicit bits reproduce the seeded call
            kw = {"random_bits": lowprec.random_bits(7, x.shape, 9), "n_random_bits": 9}
        e = blocks.encode(x, name, rounding=mode, **kw)
        _same(e, blocks.encode(x, name, rounding=mode, backend="reference", **kw))
        ts = e[2] if len(e) > 2 else None
        d = blocks.decode(e[0], e[1], name, x.shape, tensor_scale=ts)
        np.testing.assert_array_equal(d, q)


@pytest.mark.parametrize("name", ["bfp12", "bfp16"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_wide_element_codes(name: str, dtype: type) -> None:
    """Codes wider than 8 bits (uint16; the kernels write them as byte pairs) equal the reference's,
    from the float32 fast kernel and the general kernel (float64 input), along either axis."""
    x = block_inputs((4, 72), seed=5).astype(dtype)
    for axis in (-1, 0):
        e = blocks.encode(x, name, axis=axis)
        assert e[0].dtype == np.uint16 and e[0].shape == x.shape
        _same(e, blocks.encode(x, name, axis=axis, backend="reference"))
        np.testing.assert_array_equal(
            blocks.decode(e[0], e[1], name, x.shape, axis=axis),
            blocks.quantize(x, name, axis=axis, backend="numba"),
        )


@pytest.mark.parametrize("name", ["mxfp4", "nvfp4", "mxint8"])
def test_axes_and_2d_blocks(name: str) -> None:
    x = block_inputs((5, 40, 3), seed=2)
    for axis in (0, 1, -1):
        np.testing.assert_array_equal(
            blocks.quantize(x, name, axis=axis, backend="numba"),
            blocks.quantize(x, name, axis=axis, backend="reference"),
        )
    f2 = BLOCK_FORMATS[name].replace(block=(4, 16), axis=(0, 1))
    q = blocks.quantize(x, f2, rounding="stochastic", seed=3, backend="numba")
    np.testing.assert_array_equal(
        q, blocks.quantize(x, f2, rounding="stochastic", seed=3, backend="reference")
    )
    e = blocks.encode(x, f2, axis=(2, 0))
    _same(e, blocks.encode(x, f2, axis=(2, 0), backend="reference"))
    assert e[1].shape == (1, 40, 1)  # block 4 along axis 2 (length 3), 16 along axis 0 (length 5)


def test_float64_and_half_inputs() -> None:
    x = block_inputs((3, 64), seed=4, dtype=np.float64)
    x[0, 1] = 1.0625 * (1 + 2.0**-30)  # near-tie that float32 would double-round
    x[2, 5] = 5e-324  # float64 subnormal next to a large amax
    for name in ("mxfp8_e4m3", "nvfp4_ts", "bfp8"):
        for mode in ("nearest_even", "toward_positive"):
            np.testing.assert_array_equal(
                blocks.quantize(x, name, rounding=mode, backend="numba"),
                blocks.quantize(x, name, rounding=mode, backend="reference"),
            )
    h = np.clip(x, -6e4, 6e4).astype(np.float16)
    q = blocks.quantize(h, "mxfp4", backend="numba")
    assert q.dtype == np.float16
    np.testing.assert_array_equal(
        q, blocks.quantize(h.astype(np.float32), "mxfp4", backend="numba").astype(np.float16)
    )


def test_special_blocks_fast() -> None:
    x = np.ones((3, 32), np.float32)
    x[0] = 0.0
    x[1, 4] = np.nan
    x[2, 9] = -np.inf
    q = blocks.quantize(x, "mxfp8_e5m2", backend="numba")
    assert np.all(q[0] == 0) and np.all(np.isnan(q[1:]))
    _, s = blocks.encode(x, "mxfp8_e5m2")
    assert s.ravel().tolist() == [0, 255, 255]
    _, s = blocks.encode(x, "nvfp4")
    assert s.ravel().tolist() == [1, 1, 0x7F, 35, 0x7F, 35]  # blocks of 16; all-ones block: 1/6 -> e4m3 0x23


def test_packing_and_lowprec_routing() -> None:
    x = block_inputs((2, 32), seed=6)
    el, sc = blocks.encode(x, "mxfp4")
    assert el.dtype == np.uint8 and el.size == 32 and sc.shape == (2, 1)
    codes = lowprec.unpack(el, "float4_e2m1fn", count=64)
    assert codes[0] == el[0] & 0xF and codes[1] == el[0] >> 4
    el6, _ = blocks.encode(x, "mxfp6_e2m3")
    assert el6.size == 48
    saved = dict(lowprec._api._FAMILY_HANDLERS)
    lowprec._api._FAMILY_HANDLERS["block"] = blocks._handle
    try:
        f = BLOCK_FORMATS["mxfp4"]
        np.testing.assert_array_equal(
            lowprec.quantize(x, f, axis=-1), blocks.quantize(x, "mxfp4", backend="numba")
        )
        e = lowprec.encode(x, f, "nearest_even", axis=-1)
        np.testing.assert_array_equal(
            lowprec.decode(e, f, shape=x.shape), blocks.quantize(x, "mxfp4", backend="numba")
        )
    finally:
        lowprec._api._FAMILY_HANDLERS.clear()
        lowprec._api._FAMILY_HANDLERS.update(saved)


def test_zero_copy_float32_input() -> None:
    x = block_inputs((4, 64), seed=8)
    out = np.empty_like(x)
    r = blocks.quantize(x, "mxfp4", out=out, backend="numba")
    assert r is out
    blocks.quantize(out, "mxfp4", out=out, backend="numba")  # in place is idempotent
    np.testing.assert_array_equal(out, r)


@pytest.mark.parametrize("fmt", ["mxfp4", "nvfp4", "mxfp8_e4m3"])
@pytest.mark.parametrize("rounding", ["nearest_even", "stochastic"])
@pytest.mark.parametrize("backend", ["numba", "auto"])
def test_out_written_directly_or_through_a_copy(fmt: str, rounding: str, backend: str) -> None:
    """``out=`` gives the same values whether the kernel writes it (C-contiguous, same dtype, no
    overlap), or the result is copied into it (strided, aliasing the input, float16); ``auto`` takes
    the C++ kernels for the deterministic cases."""
    x = block_inputs((8, 96), seed=9)
    kw = {"seed": 3} if rounding == "stochastic" else {}
    want = blocks.quantize(x, fmt, rounding=rounding, **kw, backend=backend)
    out = np.full_like(x, 7.0)
    assert blocks.quantize(x, fmt, rounding=rounding, out=out, **kw, backend=backend) is out
    np.testing.assert_array_equal(out.view(np.uint32), want.view(np.uint32))
    big = np.full((8, 192), 7.0, np.float32)
    strided = big[:, ::2]
    assert blocks.quantize(x, fmt, rounding=rounding, out=strided, **kw, backend=backend) is strided
    np.testing.assert_array_equal(strided.view(np.uint32), want.view(np.uint32))
    assert (big[:, 1::2] == 7.0).all()
    alias = x.copy()
    blocks.quantize(alias, fmt, rounding=rounding, out=alias, **kw, backend=backend)
    np.testing.assert_array_equal(alias.view(np.uint32), want.view(np.uint32))
    h = x.astype(np.float16)
    oh = np.empty_like(h)
    blocks.quantize(h, fmt, rounding=rounding, out=oh, **kw, backend=backend)
    np.testing.assert_array_equal(
        oh.view(np.uint16), blocks.quantize(h, fmt, rounding=rounding, **kw, backend=backend).view(np.uint16)
    )


@pytest.mark.parametrize(
    ("name", "rounding", "dtype", "want"),
    [
        ("mxfp4", "nearest_even", np.float32, "cpp"),
        ("mxfp8_e4m3", "to_odd", np.float32, "cpp"),
        ("nvfp4", "nearest_even", np.float32, "cpp"),  # amax rule with step tables
        ("nvfp4_ts", "toward_zero", np.float32, "cpp"),
        ("nvfp4", "toward_positive", np.float32, "numba"),  # amax rule dividing per element
        ("mxfp4", "stochastic", np.float32, "cpp"),  # random words in int32 lanes
        ("mxfp8_e4m3", "stochastic_equal", np.float32, "cpp"),
        ("nvfp4", "stochastic", np.float32, "cpp"),  # amax rule dividing per element, vectorised
        ("nvfp4_ts", "stochastic", np.float32, "cpp"),  # any tensor scale: an fma decides
        ("mxfp4", "nearest_even", np.float64, "numba"),
        ("nvfp4", "nearest_even", np.float16, "numba"),
    ],
)
def test_auto_backend_choice(name: str, rounding: str, dtype: type, want: str, monkeypatch) -> None:
    """``backend="auto"`` takes the C++ kernels where their fast float32 rules apply, Numba
    elsewhere (and on strided input), with the reference's bits either way."""
    from lowprec import _cpp

    if not lowprec.backends()["cpp"][0]:
        pytest.skip("lowprec._C is not built")
    seen = []
    run_cpp = _cpp.block_run_cpp

    def spy(*args, **kwargs):
        seen.append("cpp")
        return run_cpp(*args, **kwargs)

    monkeypatch.setattr(_cpp, "block_run_cpp", spy)
    x = block_inputs((6, 64), seed=4).astype(dtype)
    kw = {"seed": 5} if rounding.startswith("stochastic") else {}
    r = blocks.quantize(x, name, rounding=rounding, backend="reference", **kw)
    for xx, expect in ((x, want), (np.asfortranarray(x), "numba")):
        seen.clear()
        q = blocks.quantize(xx, name, rounding=rounding, **kw)
        assert (seen[0] if seen else "numba") == expect
        np.testing.assert_array_equal(q, r)
        np.testing.assert_array_equal(np.signbit(q), np.signbit(r))


def test_auto_backend_stochastic_wide_bits(monkeypatch) -> None:
    """Stochastic rounding with more than 32 random bits: ``"auto"`` keeps Numba (the C++ int32
    lanes take the bits as 32-bit words)."""
    from lowprec import _cpp

    if not lowprec.backends()["cpp"][0]:
        pytest.skip("lowprec._C is not built")
    seen = []
    monkeypatch.setattr(_cpp, "block_run_cpp", lambda *a, **k: seen.append("cpp"))
    x = block_inputs((6, 64), seed=4).astype(np.float32)
    kw = {"rounding": "stochastic", "seed": 5, "n_random_bits": 40}
    q = blocks.quantize(x, "mxfp4", **kw)
    assert not seen
    np.testing.assert_array_equal(q, blocks.quantize(x, "mxfp4", **kw, backend="reference"))


@pytest.mark.parametrize(
    ("dtype", "seed", "scale"), [(np.float16, 30, None), (ml_dtypes.bfloat16, 43, "binades")]
)
@pytest.mark.parametrize("backend", ["auto", "numba", "cpp", "reference"])
def test_16bit_inputs_round_values_once(dtype: type, seed: int, scale: str | None, backend: str) -> None:
    """float16/bfloat16 input with a tensor scale (values wider than float32): the exact values
    rounded once to the dtype, on every backend (rounding through float32 differs on this data)."""
    from lowprec._narrow import narrow

    if backend == "cpp" and not lowprec.backends()["cpp"][0]:
        pytest.skip("lowprec._C is not built")
    rng = np.random.default_rng(seed)
    if scale is None:
        x = (rng.standard_normal((8, 64)) * 3).astype(dtype)
    else:
        x = (rng.standard_normal((4, 64)) * np.exp2(rng.integers(-6, 6, (4, 1)))).astype(dtype)
    v64 = blocks.quantize(x.astype(np.float64), "nvfp4_ts", backend="reference")
    want = narrow(v64, dtype)
    assert (v64.astype(np.float32).astype(dtype).view(np.uint16) != want.view(np.uint16)).any()
    q = blocks.quantize(x, "nvfp4_ts", backend=backend)
    assert q.dtype == x.dtype
    np.testing.assert_array_equal(q.view(np.uint16), want.view(np.uint16))
    out = np.empty_like(x)
    assert blocks.quantize(x, "nvfp4_ts", backend=backend, out=out) is out
    np.testing.assert_array_equal(out.view(np.uint16), want.view(np.uint16))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [1, 7, 200_003])
def test_finite_amax(dtype: type, size: int) -> None:
    """The tensor scale's amax (one threaded pass over the integer view) is the largest finite ``|x|``,
    whatever NaN/Inf, -0 and subnormals the array holds, and the tensor scale is the reference's."""
    from lowprec._numba._block import finite_amax
    from lowprec.blocks import _tensor_scale
    from lowprec.reference._block import tensor_scale_reference

    rng = np.random.default_rng(size)
    x = (rng.standard_normal(size) * np.exp2(rng.integers(-30, 30, size))).astype(dtype)
    specials = np.array([np.inf, -np.inf, np.nan, -np.nan, -0.0, np.finfo(dtype).smallest_subnormal], dtype)
    x[rng.integers(0, size, 6)] = specials
    fin = x[np.isfinite(x)]
    assert finite_amax(x) == (float(np.max(np.abs(fin))) if fin.size else 0.0)
    assert finite_amax(np.full(size, np.nan, dtype)) == 0.0
    assert finite_amax(np.full(size, -np.inf, dtype)) == 0.0
    f = lowprec.get_format("nvfp4_ts")
    assert _tensor_scale(x, f) == tensor_scale_reference(x, f)


_E3M2_TS = BlockFormat("float6_e3m2fn", "float8_e4m3fn", 16, scale_rule="amax", tensor_scale=True)


@pytest.mark.parametrize("fmt", ["nvfp4", "nvfp4_ts", _E3M2_TS], ids=["nvfp4", "nvfp4_ts", "e3m2_ts"])
def test_amax_stochastic_on_grid_points(fmt: object) -> None:
    """``amax``-rule stochastic rounding of elements exactly on the grid points times the block's
    divisor (where a rounded quotient may fall just below the point: the C++ and Numba rules must
    move it back up, across a binade's edge too) and next to them, for every scale, with a tensor
    scale of many significant bits: every backend and instruction-set copy gives the reference's bits."""
    from lowprec._cpp import fast_isa, fast_isas
    from lowprec.blocks import _tensor_scale

    f = lowprec.get_format(fmt) if isinstance(fmt, str) else fmt
    x, g = amax_grid_rows(f, 64, seed=17)
    assert _tensor_scale(x.reshape(-1), f) == g  # the construction holds: g is the tensor scale
    for mode in ("stochastic", "stochastic_equal"):
        for n in (9, 32):
            kw = {"rounding": mode, "seed": 3, "n_random_bits": n}
            want = blocks.quantize(x, f, **kw, backend="reference")
            got = [blocks.quantize(x, f, **kw, backend="numba")]
            if lowprec.backends()["cpp"][0]:
                for isa in fast_isas():
                    with fast_isa(isa):
                        got.append(blocks.quantize(x, f, **kw, backend="cpp"))
            for q in got:
                np.testing.assert_array_equal(q.view(np.uint32), want.view(np.uint32))
