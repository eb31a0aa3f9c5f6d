"""The exact block reference against gfloat (MX element rounding with an exact frexp scale) and hand vectors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from blockdata import block_inputs

from lowprec import FloatFormat
from lowprec.formats._block import BLOCK_FORMATS, BlockFormat, get_block_format
from lowprec.reference._block import (
    decode_block_reference,
    encode_block_reference,
    quantize_block_reference,
)
from lowprec.rounding import Rounding

gfloat = pytest.importorskip("gfloat")
gf = pytest.importorskip("gfloat.formats")

_GF = {
    "mxfp8_e4m3": gf.format_info_ocp_e4m3,
    "mxfp8_e5m2": gf.format_info_ocp_e5m2,
    "mxfp6_e3m2": gf.format_info_ocp_e3m2,
    "mxfp6_e2m3": gf.format_info_ocp_e2m3,
    "mxfp4": gf.format_info_ocp_e2m1,
}
_MODES = {
    Rounding.NEAREST_EVEN: gfloat.RoundMode.TiesToEven,
    Rounding.NEAREST_AWAY: gfloat.RoundMode.TiesToAway,
    Rounding.TOWARD_ZERO: gfloat.RoundMode.TowardZero,
    Rounding.TOWARD_POSITIVE: gfloat.RoundMode.TowardPositive,
    Rounding.TOWARD_NEGATIVE: gfloat.RoundMode.TowardNegative,
}


def _gfloat_mx(
    x: np.ndarray, name: str, mode: Rounding, rbits: np.ndarray | None = None, n: int = 0
) -> np.ndarray:
    """OCP MX along the last axis, blocks of 32, via gfloat with the exact frexp scale (formats.md §4.5)."""
    fmt = BLOCK_FORMATS[name]
    v = x.astype(np.float64).reshape(-1, 32)
    amax = np.abs(v).max(axis=1, keepdims=True)
    e = np.frexp(amax)[1] - 1 - fmt.element_emax
    e = np.where(amax == 0, -127, e)
    scale = 2.0 ** np.clip(e, -127, 127)
    kw = {}
    gmode = _MODES.get(mode)
    if mode == Rounding.STOCHASTIC:
        gmode = gfloat.RoundMode.StochasticFastest
        kw = {"srbits": rbits.reshape(v.shape).astype(np.int64), "srnumbits": n}
    y = gfloat.round_ndarray(_GF[name], v / scale, gmode, sat=True, **kw) * scale
    return y.reshape(x.shape)


@pytest.mark.parametrize("name", list(_GF))
@pytest.mark.parametrize("mode", [*_MODES, Rounding.STOCHASTIC])
def test_mx_reference_vs_gfloat(name: str, mode: Rounding) -> None:
    x = block_inputs((6, 64), seed=3)
    rb, n = None, 0
    if mode == Rounding.STOCHASTIC:
        n = 12
        rb = np.random.default_rng(5).integers(0, 1 << n, size=x.shape, dtype=np.uint64)
    got = quantize_block_reference(x, BLOCK_FORMATS[name], mode=mode, random_bits=rb, n_random_bits=n)
    want = _gfloat_mx(x, name, mode, rb, n)
    np.testing.assert_array_equal(np.signbit(got) & (got == 0), np.signbit(want) & (want == 0))
    np.testing.assert_array_equal(got, want)


def test_amax_just_below_power_of_two() -> None:
    # floor(log2(amax)) computed with log2 rounds up here; the exact exponent is one lower
    fmt = BLOCK_FORMATS["mxfp4"]
    for k in (-100, -3, 0, 7, 100):
        amax = np.nextafter(np.float32(2.0**k), np.float32(0))
        x = np.zeros(32, np.float32)
        x[0] = amax
        _, s, _ = encode_block_reference(x, fmt)
        assert int(s[0]) == (k - 1) - 2 + 127
    # float64 too (formats.md §5.8 example)
    x = np.zeros(32)
    x[3] = 2.0**20 - 2.0**-33
    _, s, _ = encode_block_reference(x, fmt)
    assert int(s[0]) == 19 - 2 + 127


def test_scale_rules_hand_vectors() -> None:
    x = np.zeros(32, np.float32)
    x[0] = 7.0  # e2m1: floor -> scale 1 (7 -> 6 clips), ceil -> 2, even -> 2 (1.75 rounds to 2), rceil -> 2
    want = {"floor": 0, "ceil": 1, "even": 1, "rceil": 1}
    for rule, e in want.items():
        f = BLOCK_FORMATS["mxfp4"].replace(scale_rule=rule)
        _, s, _ = encode_block_reference(x, f)
        assert int(s[0]) == e + 127, rule
    x[0] = 6.0  # exactly the element max: rceil keeps scale 1, ceil goes to 2
    got = {r: int(encode_block_reference(x, BLOCK_FORMATS["mxfp4"].replace(scale_rule=r))[1][0]) - 127
           for r in ("floor", "ceil", "even", "rceil")}  # fmt: skip
    assert got == {"floor": 0, "ceil": 1, "even": 0, "rceil": 0}
    x[0] = 4.0  # a power of two: ceil == floor
    got = {r: int(encode_block_reference(x, BLOCK_FORMATS["mxfp4"].replace(scale_rule=r))[1][0]) - 127
           for r in ("floor", "ceil", "even", "rceil")}  # fmt: skip
    assert got == {"floor": 0, "ceil": 0, "even": 0, "rceil": 0}


def test_zero_nan_inf_and_ragged_blocks() -> None:
    fmt = BLOCK_FORMATS["mxfp8_e4m3"]
    x = np.zeros(70, np.float32)  # blocks: [0,32) zero, [32,64) NaN, [64,70) ragged with Inf
    x[33] = np.nan
    x[40] = 1.0
    x[64] = np.inf
    c, s, _ = encode_block_reference(x, fmt)
    assert s.tolist() == [0, 0xFF, 0xFF]  # zero block: smallest scale 2^-127; NaN/Inf blocks: NaN scale
    assert not c.any()
    q = quantize_block_reference(x, fmt)
    assert np.all(q[:32] == 0) and np.all(np.isnan(q[32:]))
    # ragged last block: amax over the real elements only
    y = np.array([1.0] * 32 + [3.0, -0.25], np.float32)
    c, s, _ = encode_block_reference(y, fmt)
    assert s.shape == (2,) and int(s[1]) == 1 - 8 + 127
    np.testing.assert_array_equal(quantize_block_reference(y, fmt), y)
    # negative zero survives in float elements
    z = quantize_block_reference(np.array([-0.0, 1.0], np.float32), fmt)
    assert np.signbit(z[0]) and z[0] == 0


def test_ties_in_elements() -> None:
    fmt = BLOCK_FORMATS["mxfp4"]  # scale 1 with amax 4: element grid 0, .5, 1, 1.5, 2, 3, 4
    x = np.array([4.0, 0.25, 0.75, 1.25, 2.5, 3.5, -2.5, 5.0] + [0.0] * 24, np.float32)
    rne = quantize_block_reference(x, fmt)[:8]
    np.testing.assert_array_equal(rne, [4.0, 0.0, 1.0, 1.0, 2.0, 4.0, -2.0, 4.0])
    rna = quantize_block_reference(x, fmt, mode=Rounding.NEAREST_AWAY)[:8]
    np.testing.assert_array_equal(rna, [4.0, 0.5, 1.0, 1.5, 3.0, 4.0, -3.0, 6.0])


def test_mxint8_two_complement_codes() -> None:
    fmt = BLOCK_FORMATS["mxint8"]
    x = np.zeros(32, np.float32)
    x[:5] = [1.0, -1.0, 0.5, -1.9921875, 1.99]  # amax 1.99 -> scale 1; element quantum 1/64
    c, s, _ = encode_block_reference(x, fmt)
    assert int(s[0]) == 127
    assert c[:5].tolist() == [64, 256 - 64, 32, 256 - 127, 127]  # 1.99 rounds to 2 and saturates at 127/64
    v = decode_block_reference(c, s, fmt)
    np.testing.assert_array_equal(v[:5], [1.0, -1.0, 0.5, -127 / 64, 127 / 64])
    assert not np.signbit(quantize_block_reference(np.array([-1e-9, 1.0], np.float32), fmt)[0])


def test_nvfp4_scale_divides_exactly() -> None:
    fmt = BLOCK_FORMATS["nvfp4"]
    x = np.zeros(16, np.float32)
    x[0] = 6.0 * 0.375  # amax/6 = 0.375 is an e4m3 value: scale exact, element 6
    x[1] = 0.375 * 0.75  # 0.75 in element units: tie between 0.5 and 1 -> even (1.0)
    _c, s, g = encode_block_reference(x, fmt)
    assert g == 1.0 and int(s[0]) == 0x2C  # e4m3 0.375
    np.testing.assert_array_equal(quantize_block_reference(x, fmt)[:2], [2.25, 0.375])
    # amax/6 below the smallest e4m3 subnormal -> the smallest positive scale (code 1)
    y = np.zeros(16, np.float32)
    y[0] = 1e-6
    assert int(encode_block_reference(y, fmt)[1][0]) == 1


def test_nvfp4_tensor_scale_value() -> None:
    fmt = BLOCK_FORMATS["nvfp4_ts"]
    x = np.linspace(-3000, 2000, 64).astype(np.float32)
    _, _, g = encode_block_reference(x, fmt)
    assert g == float(np.float32(3000.0 / 2688.0))
    q = quantize_block_reference(x, fmt)
    assert np.max(np.abs(q - x)) <= 3000 / 6 * 1.01  # half the top e2m1 quantum (2) x the block scale


def test_two_d_blocks_and_axes() -> None:
    fmt = BLOCK_FORMATS["nvfp4_2d"]
    x = block_inputs((20, 40), seed=9)
    _c, s, _ = encode_block_reference(x, fmt)
    assert s.shape == (2, 3)
    # the same tile quantized alone gives the same values (2-D tile, ragged in both axes)
    q = quantize_block_reference(x, fmt)
    tile = x[16:20, 32:40]
    np.testing.assert_array_equal(quantize_block_reference(tile, fmt), q[16:20, 32:40])
    # axis=0 equals transposing
    f1 = BLOCK_FORMATS["mxfp6_e3m2"].replace(block=8)
    np.testing.assert_array_equal(
        quantize_block_reference(x, f1, axis=0), quantize_block_reference(x.T, f1).T
    )


def test_names_and_validation() -> None:
    assert get_block_format("mxfp4_b64").block == 64
    assert get_block_format("mxfp8_e4m3_b16_rceil").scale_rule == "rceil"
    assert get_block_format("bfp8").element == "int8" and get_block_format("bfp8").block == 16
    assert get_block_format("nvfp4_b16x16").axis == (-2, -1)
    with pytest.raises(KeyError):
        get_block_format("mxfp5")
    with pytest.raises(ValueError):
        BlockFormat("float4_e2m1fn", "float8_e4m3fn", 16, scale_rule="floor")
    with pytest.raises(ValueError):
        BlockFormat("float4_e2m1fn", "float8_e8m0fnu", 32, tensor_scale=True)
    with pytest.raises(ValueError, match="at most 16 bits"):  # codes are uint8/uint16: no truncation
        BlockFormat(FloatFormat(5, 20), "float8_e8m0fnu", 16)
    with pytest.raises(ValueError, match="at most 8 bits"):  # scale codes are uint8
        BlockFormat("float4_e2m1fn", "bfloat16", 16, scale_rule="amax")
    assert math.isfinite(float(BLOCK_FORMATS["mxfp8_e5m2"].element_max))
