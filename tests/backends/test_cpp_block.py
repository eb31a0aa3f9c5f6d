"""C++ block-format kernel (lowprec._C block_run) against the exact reference, bit for bit.

Every preset block format and every scale rule (floor, ceil, even, rceil on E8M0; amax on E4M3 with
and without the NVFP4 tensor scale; BFP), every rounding mode, float32 and float64 inputs with
per-row magnitudes over many binades, zeros, exact powers of two, values just below them, ragged
last blocks, tiny elements next to a huge amax and subnormals; zero / NaN / Inf blocks; other
axes and 2-D tiles. Values are compared bit for bit (so -0 counts), codes and scales exactly.

``LOWPREC_REQUIRE_CPP=1`` turns "lowprec._C is not built" from a skip into a failure.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import pytest
from cppkit import per_isa

import lowprec
from lowprec import blocks
from lowprec._cpp import available, block_run_cpp
from lowprec.formats._block import BLOCK_FORMATS, BlockFormat
from lowprec.reference import decode_reference
from lowprec.rounding import Rounding

ROOT = Path(__file__).resolve().parents[2]
# the presets, each scale rule on several element formats, BFP and the NVFP4 variants
NAMES = [
    *sorted(BLOCK_FORMATS),
    "mxfp4_ceil", "mxfp4_even", "mxfp4_rceil", "mxfp8_e4m3_even", "mxfp8_e5m2_rceil", "mxfp6_e3m2_ceil",
    "mxint8_rceil", "bfp6_even", "bfp4_b8", "mxfp4_b64",
]  # fmt: skip
DETERMINISTIC = [m for m in Rounding if not m.is_stochastic]


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


def inputs(shape: tuple[int, ...], seed: int, dtype: type) -> np.ndarray:
    """Per-row magnitudes over many binades, zeros, powers of two, values just below them, ties."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * np.exp2(rng.integers(-20, 20, size=(*shape[:-1], 1)))
    flat = x.reshape(-1)
    flat[::7] = 0.0
    flat[1::9] *= -1.0
    flat[3::11] = np.exp2(rng.integers(-10, 10, size=flat[3::11].size))  # amax = 2**k
    flat[5::13] = np.nextafter(np.exp2(3.0), 0.0)  # just below 2**k
    flat[6::17] = np.ldexp(rng.integers(-64, 64, size=flat[6::17].size) + 0.5, -3)  # ties for small grids
    flat[8::29] = -0.0
    x = x.astype(dtype)
    x.reshape(-1)[30] = dtype(3.5 * 2.0**-130)  # tiny elements next to a huge amax
    x.reshape(-1)[31] = np.finfo(dtype).smallest_subnormal
    x.reshape(-1)[33] = np.finfo(dtype).max / 3  # a huge amax
    return x


def assert_values_equal(got: np.ndarray, want: np.ndarray) -> None:
    """Bit for bit (-0 counts), NaNs by class."""
    assert got.dtype == want.dtype and got.shape == want.shape
    g, w = np.asarray(got).ravel(), np.asarray(want).ravel()
    nan = np.isnan(w)
    assert np.array_equal(np.isnan(g), nan)
    u = {2: np.uint16, 4: np.uint32, 8: np.uint64}[g.dtype.itemsize]
    bad = np.nonzero(g[~nan].view(u) != w[~nan].view(u))[0]
    assert bad.size == 0, (bad[:5], g[~nan][bad[:5]], w[~nan][bad[:5]])


def assert_encoded_equal(got: tuple, want: tuple) -> None:
    assert len(got) == len(want)
    for u, v in zip(got, want):
        u, v = np.asarray(u), np.asarray(v)
        assert u.dtype == v.dtype and u.shape == v.shape
        assert np.array_equal(u, v)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", NAMES)
def test_quantize_and_encode_every_mode(name: str, dtype: type) -> None:
    x = inputs((3, 72), seed=len(name), dtype=dtype)  # 72: ragged last block for 16, 32, 64
    for mode in Rounding:
        kw = {"seed": 7, "n_random_bits": 9} if mode.is_stochastic else {}
        q = blocks.quantize(x, name, rounding=mode, backend="cpp", **kw)
        assert_values_equal(q, blocks.quantize(x, name, rounding=mode, backend="reference", **kw))
        e = blocks.encode(x, name, rounding=mode, backend="cpp", **kw)
        assert_encoded_equal(e, blocks.encode(x, name, rounding=mode, backend="reference", **kw))
        if mode.is_stochastic:  # explicit bits reproduce the seeded call
            rb = lowprec.random_bits(7, x.shape, 9)
            e2 = blocks.encode(x, name, rounding=mode, random_bits=rb, n_random_bits=9, backend="cpp")
            assert_encoded_equal(e2, e)


@pytest.mark.parametrize("name", ["mxfp4", "nvfp4", "mxint8", "nvfp4_ts", "mxfp6_e3m2"])
def test_matches_numba_on_larger_data(name: str) -> None:
    x = inputs((64, 256), seed=3, dtype=np.float32)
    for mode in Rounding:
        kw = {"seed": 11, "n_random_bits": 20} if mode.is_stochastic else {}
        assert_values_equal(
            blocks.quantize(x, name, rounding=mode, backend="cpp", **kw),
            blocks.quantize(x, name, rounding=mode, backend="numba", **kw),
        )
        assert_encoded_equal(
            blocks.encode(x, name, rounding=mode, backend="cpp", **kw),
            blocks.encode(x, name, rounding=mode, backend="numba", **kw),
        )


def _edge_rows(f: BlockFormat, dtype: type) -> np.ndarray:
    """Blocks whose amax sits on the scale rules' decision points (the element max, powers of two,
    the "even" rounding threshold, each times 2**k, and their float neighbours), filled with exact
    element-grid midpoints times the block scale and their float neighbours (near-ties of the exact
    quotient far below 53 bits: the amax rule's division must keep a sticky bit)."""
    ef = f.element_format
    big_m, m = float(f.element_max), ef.mbits
    grid = np.unique(np.abs(decode_reference(np.arange(1 << ef.nbits), ef)))
    grid = grid[np.isfinite(grid)]
    mids = (grid[:-1] + grid[1:]) / 2
    rows = []
    scales = [1.125, 1.375, 0.625, 2.0**-5, 1.0] if not f.pow2_scale else [1.0, 0.25, 2.0**9]
    for sc in scales:
        for base in (big_m, 1.0, 2.0 - 2.0 ** -(m + 1), 1.5, 1.25):
            a = dtype(base * sc)
            for amax in (a, np.nextafter(a, dtype(np.inf)), np.nextafter(a, dtype(0))):
                s_est = amax / big_m if not f.pow2_scale else sc
                el = np.concatenate([mids * s_est, -mids * s_est]).astype(dtype)
                el = np.concatenate([el, np.nextafter(el, dtype(np.inf)), np.nextafter(el, dtype(-np.inf))])
                el = el[np.abs(el) < amax]
                row = np.zeros(f.block_shape[-1] * max(1, -(-el.size // (f.block_shape[-1] - 1))), dtype)
                body = row.reshape(-1, f.block_shape[-1])
                body[:, 0] = amax
                flat = body[:, 1:].reshape(-1)
                flat[: el.size] = el
                body[:, 1:] = flat.reshape(body[:, 1:].shape)
                rows.append(body.reshape(-1))
    return np.concatenate(rows).reshape(-1, f.block_shape[-1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize(
    "name", ["mxfp4", "mxfp4_ceil", "mxfp4_even", "mxfp4_rceil", "mxfp8_e4m3_rceil", "mxint8_rceil",
             "bfp6_even", "nvfp4", "mxfp6_e2m3", "nvfp4_ts"],
)  # fmt: skip
def test_scale_rule_decision_points_and_near_ties(name: str, dtype: type) -> None:
    f = blocks.get_block_format(name)
    x = _edge_rows(f, dtype)
    for mode in DETERMINISTIC:
        assert_values_equal(
            blocks.quantize(x, f, rounding=mode, backend="cpp"),
            blocks.quantize(x, f, rounding=mode, backend="reference"),
        )
    assert_encoded_equal(blocks.encode(x, f, backend="cpp"), blocks.encode(x, f, backend="reference"))


def test_zero_nan_inf_and_ragged_blocks() -> None:
    x = np.ones((4, 40), np.float32)
    x[0] = 0.0
    x[1, :8] = -0.0
    x[1, 4] = np.nan
    x[2, 9] = -np.inf
    x[3, 33] = np.inf  # in the ragged last block (length 8) only
    for name in ("mxfp8_e5m2", "mxfp4", "nvfp4", "nvfp4_ts", "mxint8", "bfp8_b8"):
        assert_values_equal(
            blocks.quantize(x, name, backend="cpp"), blocks.quantize(x, name, backend="reference")
        )
        assert_encoded_equal(
            blocks.encode(x, name, backend="cpp"), blocks.encode(x, name, backend="reference")
        )


def test_axes_2d_tiles_and_layouts() -> None:
    x = inputs((5, 40, 3), seed=2, dtype=np.float32)
    for name in ("mxfp4", "nvfp4", "mxint8"):
        for axis in (0, 1, -1):
            assert_values_equal(
                blocks.quantize(x, name, axis=axis, backend="cpp"),
                blocks.quantize(x, name, axis=axis, backend="reference"),
            )
        f2 = BLOCK_FORMATS[name].replace(block=(4, 16), axis=(0, 1))
        assert_values_equal(
            blocks.quantize(x, f2, rounding="stochastic", seed=3, backend="cpp"),
            blocks.quantize(x, f2, rounding="stochastic", seed=3, backend="reference"),
        )
        assert_encoded_equal(
            blocks.encode(x, f2, axis=(2, 0), backend="cpp"),
            blocks.encode(x, f2, axis=(2, 0), backend="reference"),
        )
    assert_values_equal(
        blocks.quantize(x, "nvfp4_2d", backend="cpp"), blocks.quantize(x, "nvfp4_2d", backend="reference")
    )
    # non-contiguous inputs: the logical C order defines blocks and stochastic indices
    y = inputs((6, 96), seed=5, dtype=np.float64)
    for v in (y[:, ::2], y.T, y[::-1]):
        assert_values_equal(
            blocks.quantize(v, "mxfp4", rounding="stochastic", seed=1, backend="cpp"),
            blocks.quantize(v, "mxfp4", rounding="stochastic", seed=1, backend="reference"),
        )
    empty = np.zeros((3, 0), np.float32)
    assert blocks.quantize(empty, "mxfp4", backend="cpp").shape == (3, 0)
    assert blocks.encode(empty, "mxint8", backend="cpp")[1].shape == (3, 0)


def test_half_inputs_and_out() -> None:
    x = np.clip(inputs((3, 64), seed=4, dtype=np.float64), -6e4, 6e4).astype(np.float16)
    for name in ("mxfp4", "mxfp8_e4m3", "nvfp4_ts", "bfp8"):
        q = blocks.quantize(x, name, backend="cpp")
        assert q.dtype == np.float16
        assert_values_equal(q, blocks.quantize(x, name, backend="reference"))
    y = inputs((4, 64), seed=8, dtype=np.float32)
    out = np.empty_like(y)
    assert blocks.quantize(y, "mxfp4", out=out, backend="cpp") is out
    assert_values_equal(out, blocks.quantize(y, "mxfp4", backend="reference"))
    want = blocks.quantize(y, "mxfp8_e4m3", backend="reference")
    assert blocks.quantize(y, "mxfp8_e4m3", out=y, backend="cpp") is y  # in place: through a temporary
    assert_values_equal(y, want)


def test_stochastic_bit_widths() -> None:
    x = inputs((4, 64), seed=9, dtype=np.float64)
    for name, n in (("mxfp4", 1), ("mxfp4", 52), ("nvfp4", 48), ("mxfp8_e4m3", 30), ("bfp12", 16)):
        for mode in ("stochastic", "stochastic_equal"):
            assert_values_equal(
                blocks.quantize(x, name, rounding=mode, seed=5, n_random_bits=n, backend="cpp"),
                blocks.quantize(x, name, rounding=mode, seed=5, n_random_bits=n, backend="reference"),
            )


def test_custom_formats_and_lowprec_routing() -> None:
    x = inputs((2, 96), seed=6, dtype=np.float32)
    customs = [
        BlockFormat("float8_e5m2", "float8_e4m3fn", 24, scale_rule="amax"),
        BlockFormat("float6_e2m3fn", "float8_e8m0fnu", 12, scale_rule="rceil"),
        BlockFormat("int5", "float8_e8m0fnu", 48, scale_rule="ceil"),
        BlockFormat("float4_e2m1fn", "float8_e4m3fn", 8, scale_rule="amax", tensor_scale=True),
    ]
    for f in customs:
        for mode in (Rounding.NEAREST_EVEN, Rounding.TOWARD_ZERO, Rounding.NEAREST_AWAY):
            assert_values_equal(
                blocks.quantize(x, f, rounding=mode, backend="cpp"),
                blocks.quantize(x, f, rounding=mode, backend="reference"),
            )
    f = BLOCK_FORMATS["mxfp4"]
    assert_values_equal(
        lowprec.quantize(x, f, axis=-1, backend="cpp"), lowprec.quantize(x, f, axis=-1, backend="reference")
    )
    e = lowprec.encode(x, f, "nearest_even", axis=-1, backend="cpp")
    assert_encoded_equal(e, lowprec.encode(x, f, "nearest_even", axis=-1, backend="reference"))


def test_adapter_and_kernel_checks() -> None:
    from lowprec._cpp import module

    x = inputs((2, 32), seed=1, dtype=np.float32)
    vals, scales, g, sshape = block_run_cpp(x, BLOCK_FORMATS["nvfp4_ts"], what="quantize")
    assert vals.dtype == np.float32 and scales is None and sshape == (2, 2) and g > 0
    codes, scales, _, _ = block_run_cpp(x, BLOCK_FORMATS["bfp12"], what="encode")
    assert codes.dtype == np.uint16 and scales.shape == (2, 2)
    m = module()
    f = BLOCK_FORMATS["mxfp4"]
    from lowprec._params import float_params

    args = {"elem": tuple(float_params(f.element_format)), "scale": tuple(float_params(f.scale)), "mode": 0}
    xf = x.reshape(-1)
    ok_block = (0, False, 4, 3, 1.0, 6.0)
    with pytest.raises(ValueError):  # geometry does not match x
        m.block_run(
            xf, vals=np.empty(64, np.float32), geometry=(1, 1, 1, 63, 1, 1, 32), block=ok_block, **args
        )
    with pytest.raises(ValueError):  # unknown rule
        m.block_run(xf, vals=np.empty(64, np.float32), geometry=(2, 1, 1, 32, 1, 1, 32),
                    block=(9, False, 4, 3, 1.0, 6.0), **args)  # fmt: skip
    with pytest.raises(ValueError):  # neither vals nor codes
        m.block_run(xf, geometry=(2, 1, 1, 32, 1, 1, 32), block=ok_block, **args)
    with pytest.raises(ValueError):  # one scale per block
        m.block_run(xf, codes=np.empty(64, np.uint8), scales=np.empty(3, np.uint8),
                    geometry=(2, 1, 1, 32, 1, 1, 32), block=ok_block, **args)  # fmt: skip


# ---- the vectorised rows (csrc/include/lowprec/block_fast.h): float32 in and out, blocks along the
# last axis, power-of-two and amax rules, deterministic modes; each instruction-set copy -----------
FAST_ROW_NAMES = [
    "mxfp4", "mxfp4_ceil", "mxfp4_even", "mxfp4_rceil", "mxfp8_e4m3", "mxfp8_e5m2_rceil", "mxfp6_e3m2",
    "mxfp6_e2m3", "mxint8", "bfp6_even", "mxfp4_b64", "nvfp4", "nvfp4_ts",
]  # fmt: skip


def _fast_row_inputs(cols: int, seed: int) -> np.ndarray:
    """Rows of every magnitude, plus blocks the vectorised rule leaves to the exact one: amax so small
    that the grid's normals are below float32's (2**-120 and less, subnormal-only blocks), amax near
    float32's largest value, NaN / Inf blocks."""
    x = inputs((24, cols), seed=seed, dtype=np.float32)
    rng = np.random.default_rng(seed)
    x[2] *= np.float32(2.0**-100)
    x[3] = (rng.standard_normal(cols) * 2.0**-125).astype(np.float32)
    x[4] = (rng.integers(-40, 40, size=cols) * np.finfo(np.float32).smallest_subnormal).astype(np.float32)
    x[5] = (rng.standard_normal(cols) * 2.0**124).astype(np.float32)
    x[5, ::32] = np.finfo(np.float32).max
    x[6, 3] = np.nan
    x[7, 40] = -np.inf
    x[8, :] = 0.0
    x[9, :] = -0.0
    return x


@pytest.mark.parametrize("cols", [72, 128], ids=["ragged", "tiled"])
@pytest.mark.parametrize("name", FAST_ROW_NAMES)
def test_fast_rows_against_reference(name: str, cols: int) -> None:
    """Ragged rows take the per-block loop, rows that the blocks tile the fused flat loop."""
    x = _fast_row_inputs(cols, seed=len(name))
    for mode in DETERMINISTIC:
        want = blocks.quantize(x, name, rounding=mode, backend="reference")
        for _isa, got in per_isa(lambda mode=mode: blocks.quantize(x, name, rounding=mode, backend="cpp")):
            assert_values_equal(got, want)
    for mode in (Rounding.STOCHASTIC, Rounding.STOCHASTIC_EQUAL):  # random words; n > 32: the exact rule
        for n in (9, 32, 40):
            kw = {"rounding": mode, "seed": 5, "n_random_bits": n}
            want = blocks.quantize(x, name, **kw, backend="reference")
            for _isa, got in per_isa(lambda kw=kw: blocks.quantize(x, name, **kw, backend="cpp")):
                assert_values_equal(got, want)


def test_fast_rows_2d_tiles_threads_and_every_isa() -> None:
    """2-D tiles along the last axis, and arrays past the threading threshold with exact-rule blocks
    scattered through them (against the Numba backend, itself tested against the reference)."""
    f2 = BLOCK_FORMATS["mxfp4"].replace(block=(4, 16), axis=(0, 1))
    x = _fast_row_inputs(80, seed=3)
    for mode in DETERMINISTIC:
        want = blocks.quantize(x, f2, rounding=mode, backend="reference")
        for _isa, got in per_isa(lambda mode=mode: blocks.quantize(x, f2, rounding=mode, backend="cpp")):
            assert_values_equal(got, want)
    big = np.tile(_fast_row_inputs(256, seed=4), (12, 1))  # 73,728 elements
    for name in ("mxfp8_e4m3", "mxint8"):
        for mode in (Rounding.NEAREST_EVEN, Rounding.TOWARD_NEGATIVE, Rounding.TO_ODD, Rounding.STOCHASTIC):
            kw = {"seed": 8} if mode.is_stochastic else {}
            want = blocks.quantize(big, name, rounding=mode, backend="numba", **kw)
            run = functools.partial(blocks.quantize, big, name, rounding=mode, backend="cpp", **kw)
            for _isa, got in per_isa(run):
                assert_values_equal(got, want)


def _step_edge_rows(top: float, blocks_n: int, per_binade: int, seed: int) -> np.ndarray:
    """Rows of 16-element blocks whose amaxes walk down from ``top`` in ``1 / per_binade`` of a
    binade (every scale significand), the other elements uniform in [-amax, amax], about half of them
    on the e2m1 grid's decision points and values times ``amax / 6``."""
    rng = np.random.default_rng(seed)
    amax = top * np.exp2(-np.arange(blocks_n) / per_binade)
    body = rng.uniform(-1.0, 1.0, size=(blocks_n, 15)) * amax[:, None]
    pts = np.array([0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0])
    body[:, :7] = (amax / 6.0)[:, None] * rng.choice(pts, size=(blocks_n, 7))
    return np.concatenate([amax[:, None], body], axis=1).astype(np.float32).reshape(-1, 64)


_STEP_MODES = (Rounding.NEAREST_EVEN, Rounding.NEAREST_AWAY, Rounding.NEAREST_ZERO, Rounding.TOWARD_ZERO)
_F32_MAX = float(np.finfo(np.float32).max)
# a scale format reaching 2**127: e2m1 values times a scale rounded up pass float32's largest value
_TOP_FMT = BlockFormat(lowprec.FloatFormat(2, 1), lowprec.FloatFormat(4, 3, bias=-112), 16, scale_rule="amax")


@pytest.mark.parametrize(
    ("fmt", "top", "per_binade"),
    [("nvfp4_ts", 2.0**-110, 8), ("nvfp4_ts", _F32_MAX, 8), (_TOP_FMT, _F32_MAX, 64)],
    ids=["tiny", "huge", "past-max"],
)
def test_amax_step_rule_range_edges(fmt: str | BlockFormat, top: float, per_binade: int) -> None:
    """The step rule's thresholds and values are tabled per scale significand and shifted by each
    block's exponent (block_fast.h, block_step_grid): blocks whose thresholds would fall below
    float32's normal range (a tiny tensor scale) or whose values would pass its largest value take the
    division instead, with the same bits. Every step mode and one division mode, each instruction set."""
    x = _step_edge_rows(top, 320, per_binade, seed=5)
    f = blocks.get_block_format(fmt) if isinstance(fmt, str) else fmt
    for ff in (f, f.replace(block=12)):  # 12: ragged rows (64 columns) and rows of 4 elements
        for mode in (*_STEP_MODES, Rounding.TOWARD_POSITIVE):
            want = blocks.quantize(x, ff, rounding=mode, backend="reference")
            run = functools.partial(blocks.quantize, x, ff, rounding=mode, backend="cpp")
            for _isa, got in per_isa(run):
                assert_values_equal(got, want)
