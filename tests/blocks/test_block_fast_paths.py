"""The fast float32 block kernels (lowprec._numba._block_fast) against the reference, bit for bit.

Inputs are built to reach every branch of the fast path: every element value of the (<= 8-bit)
element format, every midpoint and both float32 neighbours of each, on power-of-two and
non-power-of-two block grids; blocks whose amax is a power of two or just below one; zero, -0,
NaN and +-Inf blocks; float32 subnormals; tiny elements next to a huge amax; blocks so small that
the float32 grid underflows (the float64 element path); ragged last blocks; a non-last axis.
"""

from __future__ import annotations

import numpy as np
import pytest

import lowprec
from lowprec import FloatFormat, blocks
from lowprec._numba import _block as nb_block
from lowprec._numba import _block_fast
from lowprec.formats._block import BLOCK_FORMATS, BlockFormat
from lowprec.reference._block import decode_block_reference, encode_block_reference, quantize_block_reference
from lowprec.rounding import Rounding
from lowprec.testing import sweep_values

_MX = ["mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e3m2", "mxfp6_e2m3", "mxfp4", "mxint8", "bfp4", "bfp8"]
_F32MAX = float(np.finfo(np.float32).max)


def _element_sweep(f: BlockFormat) -> np.ndarray:
    """Finite sweep values of the element format (values, midpoints, neighbours, beyond the max)."""
    v = sweep_values(f.element_format, np.float64)
    return v[np.isfinite(v)]


def _blocks_for(f: BlockFormat, scales: list[float]) -> list[np.ndarray]:
    """Blocks of the element sweep times each scale, slot 0 pinned to +-max_elem x scale."""
    b = f.block if isinstance(f.block, int) else f.block[1]
    sweep = _element_sweep(f)
    top = float(f.element_max)
    out = []
    for k, s in enumerate(scales):
        with np.errstate(over="ignore"):
            vals = sweep * s
        vals = vals[np.abs(vals) <= _F32MAX]
        n = -(-vals.size // (b - 1))
        vals = np.concatenate([vals, np.zeros(n * (b - 1) - vals.size)]).reshape(n, b - 1)
        pin = np.full((n, 1), top * s * (-1 if k % 2 else 1))
        out += list(np.concatenate([pin, vals], axis=1))
    return out


def _special_blocks(b: int) -> list[np.ndarray]:
    tiny = float(np.finfo(np.float32).smallest_subnormal)
    rng = np.random.default_rng(3)
    res = [np.zeros(b), -np.zeros(b)]
    for bad in (np.nan, np.inf, -np.inf):
        z = rng.standard_normal(b)
        z[b // 2] = bad
        res.append(z)
    for k in (-126, -100, -3, 0, 1, 7, 100, 127):  # amax at and just below a power of two
        z = rng.standard_normal(b) * 2.0 ** (k - 3)
        z[0] = 2.0**k
        res.append(z.copy())
        z[0] = float(np.nextafter(np.float32(2.0**k), np.float32(0)))
        res.append(z)
    sub = rng.integers(1, 1 << 23, size=b) * tiny * np.where(rng.random(b) < 0.5, -1, 1)
    res.append(sub)  # all float32 subnormals: the float32 grid underflows, float64 path
    mixed = rng.standard_normal(b) * 2.0**-140
    mixed[1] = 3.0e38  # tiny elements next to a huge amax
    res.append(mixed)
    ties = (np.arange(b) % 16 + 0.5) * 0.25 * np.where(np.arange(b) % 2, -1, 1)
    res.append(ties)
    return res


def _layout(blist: list[np.ndarray], b: int, per_row: int = 4) -> np.ndarray:
    """Rows of ``per_row`` blocks plus a ragged last block (the row's first 5 values again)."""
    n = -(-len(blist) // per_row) * per_row
    blist = blist + [np.zeros(b)] * (n - len(blist))
    x = np.concatenate(blist).reshape(n // per_row, per_row * b)
    x = np.concatenate([x, x[:, :5]], axis=1)
    return x.astype(np.float32)


def _mx_inputs(f: BlockFormat) -> np.ndarray:
    emax = f.element_emax
    scales = [2.0**e for e in (-135, -127, -120, -20, -1, 0, 3, 60, 126 - emax)]
    return _layout(_blocks_for(f, scales) + _special_blocks(f.block), f.block)


# NVFP4 scales that are e4m3 values (grid exact: ties and neighbours land exactly), and some that are not
_NV_SCALES = [2.0**-9, 0.375 * 2.0**-6, 1.0, 1.375, 448.0, 1.0e-3, 7.1e3, 2.0**100]


def _nv_inputs(f: BlockFormat) -> np.ndarray:
    return _layout(_blocks_for(f, _NV_SCALES) + _special_blocks(16), 16)


def _assert_same_values(q: np.ndarray, r: np.ndarray, x: np.ndarray) -> None:
    nan_q, nan_r = np.isnan(q), np.isnan(r)
    assert np.array_equal(nan_q, nan_r), "NaN pattern differs"
    qb, rb = q.view(np.uint32)[~nan_q], r.view(np.uint32)[~nan_r]
    bad = np.nonzero(qb != rb)[0]
    assert bad.size == 0, (
        f"{bad.size} values differ, e.g. x={x[~nan_q][bad[:4]]} -> {q[~nan_q][bad[:4]]} vs {r[~nan_r][bad[:4]]}"
    )


def _check(x: np.ndarray, f: BlockFormat, mode: Rounding, axis: int = -1, n: int = 32) -> None:
    """Fast quantize and encode against the reference functions (called directly: the oracle)."""
    kw: dict = {}
    rb = None
    if mode.is_stochastic:
        rb = lowprec.random_bits(11, x.shape, n)
        kw = {"random_bits": rb, "n_random_bits": n}
        seeded = blocks.quantize(x, f, axis=axis, rounding=mode, seed=11, n_random_bits=n, backend="numba")
    q = blocks.quantize(x, f, axis=axis, rounding=mode, **kw, backend="numba")
    # the reference's quantize is decode(encode): one encode serves both checks
    codes, scales, g = encode_block_reference(x, f, axis, mode, rb, n if rb is not None else 0)
    with np.errstate(over="ignore"):  # ceil/rceil grids can round up to 2**128: inf in float32
        r = decode_block_reference(codes, scales, f, axis, g).astype(x.dtype)
    _assert_same_values(q, r, x)
    if mode.is_stochastic:
        _assert_same_values(seeded, q, x)  # counter-based bits inside the kernel == explicit bits
    e = blocks.encode(x, f, axis=axis, rounding=mode, **kw)
    ef = f.element_format
    want = (lowprec.pack(codes, ef) if ef.nbits < 8 else codes, scales) + (
        (np.float32(g),) if f.tensor_scale else ()
    )
    assert len(e) == len(want)
    for u, v in zip(e, want):
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v))


# the scale rule only moves the grid; every mode with the OCP rule, a few modes with the others
_RULE_MODES = [("floor", m) for m in Rounding] + [
    (r, m)
    for r in ("ceil", "even", "rceil")
    for m in (Rounding.NEAREST_EVEN, Rounding.TOWARD_ZERO, Rounding.TOWARD_NEGATIVE, Rounding.STOCHASTIC)
]


@pytest.mark.parametrize("name", _MX)
@pytest.mark.parametrize(("rule", "mode"), _RULE_MODES)
def test_mx_sweep_fast_equals_reference(name: str, rule: str, mode: Rounding) -> None:
    f = BLOCK_FORMATS[name].replace(scale_rule=rule)
    _check(_mx_inputs(f), f, mode)


@pytest.mark.parametrize("name", ["nvfp4", "nvfp4_ts"])
@pytest.mark.parametrize("mode", list(Rounding))
def test_nvfp4_sweep_fast_equals_reference(name: str, mode: Rounding) -> None:
    f = BLOCK_FORMATS[name]
    x = _nv_inputs(f)
    _check(x, f, mode)
    if mode.is_stochastic:
        _check(x, f, mode, n=9)
    else:  # blocks down the columns: the strided kernel's reciprocal quotient with snapping
        _check(np.ascontiguousarray(x.T), f, mode, axis=0)


def _nv_decision_blocks() -> tuple[np.ndarray, int]:
    """NVFP4 blocks (columns of 16) whose elements lie exactly on decision points of the scaled
    e2m1 grid (values and midpoints), under a tensor scale ``g`` of 19 bits set by the first column
    (``2688 g``: ``amax / (6 * 448)`` is then exactly ``g``), and how many of those points a
    rounded reciprocal misses (``fl(x * fl(1 / div)) != x / div``)."""
    g = float(np.ldexp(np.round(np.ldexp(0.7, 19)), -19))
    pts = np.array([0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 5, 6])
    svals = lowprec.decode(np.arange(1, 0x7F), "float8_e4m3fn")  # the positive finite scales
    cols, missed = [np.r_[2688.0 * g, np.zeros(15)]], 0
    for sv in svals:
        div = sv * g
        on = pts * div
        on = on[on.astype(np.float32) == on]  # decision points that are float32 inputs
        if np.float32(6.0 * div) != 6.0 * div or on.size == 0:
            continue
        missed += int(np.count_nonzero(on * (1.0 / div) != on / div))
        col = np.zeros(16)
        col[0] = 6.0 * div  # the block amax: scale = amax / (6 g) = sv exactly
        col[1 : 1 + min(on.size, 15)] = (on * np.where(np.arange(on.size) % 2, -1.0, 1.0))[:15]
        cols.append(col)
    return np.stack(cols, axis=1).astype(np.float32), missed


@pytest.mark.parametrize("mode", [m for m in Rounding if not m.is_stochastic])
def test_nvfp4_reciprocal_quotients_on_decision_points(mode: Rounding) -> None:
    """Blocks down the columns use ``|x| * fl(1 / div)`` with snapping (``_block_fast._SNAP_TOL``):
    on exact decision points, where that product is off by an ulp, the decisions must be exact."""
    x, missed = _nv_decision_blocks()
    assert missed > 100  # the data reaches the case the snapping is for
    f = BLOCK_FORMATS["nvfp4_ts"]
    assert blocks.encode(x, f, axis=0)[2] == float(x[0, 0]) / 2688.0  # the intended tensor scale
    _check(x, f, mode, axis=0)
    _check(np.ascontiguousarray(x.T), f, mode)  # the contiguous kernels divide
    # beyond the reciprocal's bound (e2m13 elements, a 24-bit tensor scale): the strided kernel divides
    wide = BlockFormat(FloatFormat(2, 13), "float8_e4m3fn", 16, scale_rule="amax", tensor_scale=True)
    x2 = x * np.float32(1.0 + 2.0**-20)
    x2[0, 0] = 2000.1234  # the tensor amax: g = RNE_f32(amax / 2688) has 24 significant bits
    assert not _block_fast.recip_ok(13, 3, float(blocks.encode(x2, wide, axis=0)[2]))
    _check(x2, wide, mode, axis=0)


@pytest.mark.parametrize("name", ["mxfp4", "mxfp8_e4m3", "mxint8", "nvfp4"])
@pytest.mark.parametrize(
    "mode", [Rounding.NEAREST_EVEN, Rounding.TOWARD_ZERO, Rounding.NEAREST_AWAY, Rounding.STOCHASTIC]
)
def test_non_last_axis_and_2d_blocks(name: str, mode: Rounding) -> None:
    f = BLOCK_FORMATS[name]
    b = f.block
    x = _layout(_special_blocks(b) + _blocks_for(f, [1.0, 2.0**-20]), b)[:, : 2 * b + 5]
    _check(
        np.ascontiguousarray(x.T),
        f,
        mode,
        axis=0,
    )  # blocks down the columns
    x3 = x[: x.shape[0] // 2 * 2].reshape(2, -1, x.shape[1])
    _check(
        x3,
        f,
        mode,
        axis=1,
    )  # middle axis: 2 x columns
    f2 = f.replace(block=(4, 8), axis=(-2, -1))
    _check(
        x,
        f2,
        mode,
    )  # 2-D tiles over contiguous rows


@pytest.mark.parametrize("name", ["mxfp4", "mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e2m3", "mxint8", "nvfp4"])
@pytest.mark.parametrize("mode", [Rounding.NEAREST_EVEN, Rounding.TOWARD_ZERO])
def test_float32_presets_take_the_fast_path(
    name: str, mode: Rounding, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweeps above test the fast kernels only if presets on float32 reach them."""

    def refuse(*args: object) -> None:
        raise AssertionError("general kernel called")

    x = _mx_inputs(BLOCK_FORMATS["mxfp4"])
    monkeypatch.setattr(nb_block, "general_kernel", refuse)
    blocks.quantize(x, name, rounding=mode, backend="numba")
    blocks.encode(x, name, rounding=mode)
    x64 = x.astype(np.float64)
    if BLOCK_FORMATS[name].scale_rule == "amax":
        with pytest.raises(AssertionError, match="general kernel"):
            # float64 input, NVFP4: the general kernel
            blocks.quantize(x64, name, rounding=mode, backend="numba")
    else:
        # float64 input, power-of-two rule: r1_kernel64
        blocks.quantize(x64, name, rounding=mode, backend="numba")
    with pytest.raises(AssertionError, match="general kernel"):
        blocks.encode(x64, name, rounding=mode)  # float64 encode: the general kernel


def _float64_inputs(f: BlockFormat) -> np.ndarray:
    """The float32 sweep widened, plus float64-only blocks: float64 subnormals and tiny values next
    to amaxes up to 1e300 (quotients that underflow float64), and 53-bit significands."""
    b = f.block if isinstance(f.block, int) else f.block[1]
    rng = np.random.default_rng(17)
    extra = []
    for amax in (1e300, 2.0**130, 3.0e38, 1.0, 2.0**-1000):
        z = rng.standard_normal(b) * 10.0 ** rng.integers(-320, -300, b)  # float64 subnormals
        z[:3] = [amax, -5e-324, 2.2250738585072014e-308]
        extra.append(z)
    extra.append(rng.standard_normal(b) * (1 + 2.0**-40))
    extra.append(np.ldexp(rng.integers(1, 1 << 53, b).astype(np.float64), -60))
    extra += [np.zeros(b)] * (-len(extra) % 4)
    rows = np.concatenate(extra).reshape(-1, 4 * b)
    x = np.concatenate([rows, rows[:, :5]], axis=1)  # a ragged last block, as _layout makes
    return np.concatenate([_mx_inputs(f).astype(np.float64), x])


@pytest.mark.parametrize("mode", [Rounding.NEAREST_EVEN, Rounding.TOWARD_POSITIVE, Rounding.TO_ODD])
def test_float64_elements_finer_than_float64_normals(mode: Rounding) -> None:
    """An element format whose grid reaches below float64's normal range (e11m4: steps of
    2**-1026) must not take the lifted quotients of r1_kernel64: 2**-1075-sized quotients round
    to 0 there, the lifted 2**-1022 would not."""
    f = BLOCK_FORMATS["mxfp8_e4m3"].replace(element=FloatFormat(11, 4))
    x = np.zeros((2, 64))
    x[:, 0] = 1.7e308
    x[:, 1:8] = [5e-324, -5e-324, 1e-320, 2.0**-1060, 3e-310, 2.0**-1040, 1.0]
    q = blocks.quantize(x, f, rounding=mode, backend="numba")
    r = quantize_block_reference(x, f, None, mode, None, 0)
    assert np.array_equal(q.view(np.uint64), r.view(np.uint64)), (q[0, :8], r[0, :8])


# every deterministic mode on FP4; a nearest, a directed and the to-odd mode on FP8, integer and BFP
# elements; the other element formats and scale rules with one mode each (the reference dominates)
_DET = [m for m in Rounding if not m.is_stochastic]
_F64_CASES = (
    [("mxfp4", "floor", m) for m in _DET]
    + [
        (n, "floor", m)
        for n in ("mxfp8_e5m2", "mxint8", "bfp8")
        for m in (Rounding.NEAREST_EVEN, Rounding.TOWARD_POSITIVE, Rounding.TO_ODD)
    ]
    + [(n, "floor", Rounding.NEAREST_EVEN) for n in ("mxfp8_e4m3", "mxfp6_e3m2", "mxfp6_e2m3", "bfp4")]
    + [("mxfp4", "ceil", Rounding.TOWARD_POSITIVE), ("mxfp4", "even", Rounding.NEAREST_EVEN)]
    + [("mxfp4", "rceil", Rounding.TO_ODD)]
)


@pytest.mark.parametrize(("name", "rule", "mode"), _F64_CASES)
def test_float64_fast_path_equals_reference(name: str, rule: str, mode: Rounding) -> None:
    """Float64 input, deterministic quantize with a power-of-two rule (``r1_kernel64``): bit for bit
    the reference, last-axis blocks and 2-D tiles."""
    f = BLOCK_FORMATS[name].replace(scale_rule=rule)
    x = _float64_inputs(f)
    for fmt, xx in ((f, x), (f.replace(block=(4, 8), axis=(-2, -1)), x)):
        q = blocks.quantize(xx, fmt, rounding=mode, backend="numba")
        r = quantize_block_reference(xx, fmt, None, mode, None, 0)
        assert q.dtype == np.float64
        nan_q, nan_r = np.isnan(q), np.isnan(r)
        assert np.array_equal(nan_q, nan_r), "NaN pattern differs"
        bad = np.nonzero(q.view(np.uint64)[~nan_q] != r.view(np.uint64)[~nan_r])[0]
        assert bad.size == 0, (name, rule, mode, xx[~nan_q][bad[:4]], q[~nan_q][bad[:4]], r[~nan_r][bad[:4]])


# the kernels compiled per format, rule, block size and mode (large arrays; SPEC_MIN lowered here):
# each case compiles one (about 2 s), so a few cases cover the folded constants that differ --
# element formats (FP4/FP6/FP8, integer elements), scale rules, modes and block sizes 32 / 16
_FLAT_CASES = [
    ("mxfp4", "floor", Rounding.NEAREST_EVEN, 32),
    ("mxfp4", "floor", Rounding.TOWARD_ZERO, 32),
    ("mxfp8_e4m3", "floor", Rounding.NEAREST_AWAY, 32),
    ("mxfp8_e5m2", "ceil", Rounding.NEAREST_EVEN, 32),
    ("mxfp6_e2m3", "rceil", Rounding.TOWARD_NEGATIVE, 32),
    ("mxint8", "floor", Rounding.NEAREST_EVEN, 32),
    ("mxfp4", "even", Rounding.TO_ODD, 16),
    ("nvfp4", "amax", Rounding.NEAREST_EVEN, 16),  # flat_amax_kernel
    ("nvfp4_ts", "amax", Rounding.NEAREST_ZERO, 16),
    ("nvfp4", "amax", Rounding.TO_ODD, 16),
    ("mxfp4", "floor", Rounding.STOCHASTIC, 32),  # random words in int32 lanes
    ("mxfp8_e4m3", "ceil", Rounding.STOCHASTIC_EQUAL, 32),
    ("mxint8", "floor", Rounding.STOCHASTIC, 32),
    ("mxfp6_e3m2", "floor", Rounding.STOCHASTIC, 16),
    ("nvfp4", "amax", Rounding.STOCHASTIC, 16),  # flat_amax_kernel, float64 lanes
    ("nvfp4_ts", "amax", Rounding.STOCHASTIC_EQUAL, 16),
]


@pytest.mark.parametrize(("name", "rule", "mode", "block"), _FLAT_CASES)
def test_flat_kernel_equals_reference(
    name: str, rule: str, mode: Rounding, block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lowprec._numba import _block_fast

    def refuse(*args: object) -> None:
        raise AssertionError("fast_kernel called instead of the per-format kernel")

    monkeypatch.setattr(_block_fast, "SPEC_MIN", 0)
    monkeypatch.setattr(_block_fast, "fast_kernel", refuse)
    f = BLOCK_FORMATS[name].replace(scale_rule=rule, block=block)
    scales = (
        _NV_SCALES
        if rule == "amax"
        else [2.0**e for e in (-135, -127, -120, -20, 0, 3, 126 - f.element_emax)]
    )
    x = _layout(_blocks_for(f, scales) + _special_blocks(block), block)[:, :-5]
    assert x.shape[1] % block == 0  # no ragged block: the per-format kernel's layout
    rb, n = (lowprec.random_bits(3, x.shape, 32), 32) if mode.is_stochastic else (None, 0)
    kw = {"random_bits": rb, "n_random_bits": n} if mode.is_stochastic else {}
    q = blocks.quantize(x, f, rounding=mode, backend="numba", **kw)
    with np.errstate(over="ignore"):
        r = quantize_block_reference(x, f, -1, mode, rb, n).astype(x.dtype)
    _assert_same_values(q, r, x)
    if mode.is_stochastic:  # the counter stream inside the kernel == the explicit bits
        _assert_same_values(blocks.quantize(x, f, rounding=mode, seed=3, backend="numba"), q, x)
