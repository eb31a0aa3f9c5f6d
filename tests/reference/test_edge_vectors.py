"""The edge vectors of formats.md §6 (and a few more), as an explicit table.

Each row is checked against both the vectorised and the scalar reference.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from lowprec.formats import FORMATS
from lowprec.reference import encode_reference, round_to_code
from lowprec.rounding import Overflow, Rounding, default_overflow

RNE, RNA, RTZ = Rounding.NEAREST_EVEN, Rounding.NEAREST_AWAY, Rounding.TOWARD_ZERO
RU, RD, ODD = Rounding.TOWARD_POSITIVE, Rounding.TOWARD_NEGATIVE, Rounding.TO_ODD
SAT, INF, NAN = Overflow.SATURATE, Overflow.INFINITY, Overflow.NAN
DEF = None  # the format's own default policy

# (format, input, mode, overflow, expected code, why)
EDGES: list[tuple[str, float, Rounding, Overflow | None, int, str]] = [
    # ties at the subnormal boundary
    ("float8_e4m3fn", 2.0**-10, RNE, DEF, 0x00, "half the smallest subnormal ties to even 0"),
    ("float8_e4m3fn", 2.0**-10 * (1 + 2.0**-20), RNE, DEF, 0x01, "just above the tie goes up"),
    ("float8_e4m3fn", 7.5 * 2.0**-9, RNE, DEF, 0x08, "rounds up out of the subnormals into 2**-6"),
    ("float8_e4m3fn", 2.0**-10, RNA, DEF, 0x01, "ties away at the bottom"),
    ("float8_e5m2", 2.0**-17, RNE, DEF, 0x00, "e5m2 half-subnormal tie"),
    ("float8_e5m2", 3.5 * 2.0**-16, RNE, DEF, 0x04, "3.5 * 2**-16 -> 2**-14"),
    ("float16", 2.0**-25, RNE, DEF, 0x0000, "float16 half-subnormal tie"),
    ("float16", 3 * 2.0**-25, RNE, DEF, 0x0002, "odd subnormal tie goes to even code 2"),
    # carry into the next binade
    ("float8_e4m3fn", 1.9375, RNE, DEF, 0x40, "carry reaches the exponent"),
    ("float8_e5m2", 1.875, RNE, DEF, 0x40, "carry reaches the exponent"),
    ("bfloat16", 1.99609375, RNE, DEF, 0x4000, "bf16 tie 1.1111111|1 -> 2"),
    # rounding into overflow
    ("float8_e5m2", 61440.0, RNE, DEF, 0x7C, "tie above max: max significand odd, goes up -> Inf"),
    ("float8_e5m2", 61439.9, RNE, DEF, 0x7B, "just below the tie stays at max"),
    ("float8_e5m2", 61440.0, RNE, SAT, 0x7B, "saturate"),
    ("float8_e5m2", 61440.0, RNE, NAN, 0x7E, "overflow=nan on an IEEE format: canonical NaN"),
    ("float8_e5m2", -61440.0, RNE, DEF, 0xFC, "-Inf"),
    # ties at the maximum
    ("float8_e4m3fn", 464.0, RNE, DEF, 0x7E, "max significand even: tie stays at 448"),
    ("float8_e4m3fn", 465.0, RNE, DEF, 0x7F, "beyond the tie: NaN"),
    ("float8_e4m3fn", -465.0, RNE, DEF, 0xFF, "NaN keeps the sign"),
    ("float8_e4m3fn", 464.0, RNA, DEF, 0x7F, "ties away overflow"),
    ("float8_e4m3fnuz", 248.0, RNE, DEF, 0x80, "fnuz tie at max goes up: NaN 0x80"),
    ("float4_e2m1fn", 7.0, RNE, DEF, 0x7, "e2m1 7 -> 8 -> saturated to 6"),
    ("float4_e2m1fn", -7.0, RNE, DEF, 0xF, "e2m1 -7 -> -6"),
    ("p3109_k8p3se", 53248.0, RNE, DEF, 0x7E, "binary8p3se tie at max stays"),
    ("p3109_k8p3se", 53249.0, RNE, DEF, 0x7F, "binary8p3se above the tie -> Inf"),
    ("p3109_k8p3se", -53249.0, RNE, DEF, 0xFF, "-Inf"),
    ("p3109_k8p3sf", 53249.0, RNE, DEF, 0x7F, "finite P3109: 0x7F is the finite 57344"),
    ("p3109_k8p3sf", 61441.0, RNE, DEF, 0x80, "finite P3109 overflow: NaN"),
    # directed rounding at overflow gives max toward zero
    ("float8_e4m3fn", 1000.0, RTZ, DEF, 0x7E, "toward zero never overflows"),
    ("float8_e4m3fn", 1000.0, RD, DEF, 0x7E, "toward -inf on a positive value"),
    ("float8_e4m3fn", -1000.0, RU, DEF, 0xFE, "toward +inf on a negative value"),
    ("float8_e4m3fn", 1000.0, RU, DEF, 0x7F, "toward +inf on a positive value: NaN"),
    ("float8_e5m2", 1e6, ODD, DEF, 0x7B, "to-odd never overflows"),
    ("float8_e5m2", 1e300, RTZ, DEF, 0x7B, "far beyond the exponent range"),
    # infinite inputs
    ("float8_e4m3fn", math.inf, RNE, DEF, 0x7F, "Inf -> NaN where there is no Inf"),
    ("float8_e4m3fn", -math.inf, RNE, SAT, 0xFE, "saturate clamps Inf"),
    ("float8_e5m2", math.inf, RTZ, DEF, 0x7C, "an infinite input stays infinite"),
    ("float8_e5m2", math.inf, RNE, NAN, 0x7C, "an infinite input stays infinite under overflow=nan"),
    ("float4_e2m1fn", math.inf, RNE, DEF, 0x7, "no Inf, no NaN: saturates"),
    # negative zero
    ("float8_e4m3fn", -0.0, RNE, DEF, 0x80, "-0 kept"),
    ("float8_e4m3fn", -1e-30, RNE, DEF, 0x80, "negative underflow -> -0"),
    ("float8_e5m2", -1e-30, RNE, DEF, 0x80, "negative underflow -> -0"),
    ("float6_e2m3fn", -0.0, RNE, DEF, 0x20, "fp6 -0"),
    ("float6_e3m2fn", -1e-30, RNE, DEF, 0x20, "fp6 negative underflow"),
    ("float4_e2m1fn", -0.0, RNE, DEF, 0x8, "fp4 -0"),
    ("float8_e4m3fnuz", -0.0, RNE, DEF, 0x00, "fnuz: 0x80 is NaN, so -0 -> +0"),
    ("float8_e4m3fnuz", -1e-30, RNE, DEF, 0x00, "fnuz negative underflow -> +0"),
    ("float8_e5m2fnuz", -1e-30, RTZ, DEF, 0x00, "fnuz negative underflow toward zero"),
    ("p3109_k8p4se", -0.0, RNE, DEF, 0x00, "P3109 has no -0"),
    ("p3109_k8p4se", -1e-30, RD, DEF, 0x81, "toward -inf: the smallest negative subnormal"),
    # NaN
    ("float8_e4m3fn", math.nan, RNE, DEF, 0x7F, "NaN"),
    ("float8_e4m3fn", -math.nan, RNE, DEF, 0xFF, "NaN keeps the sign in fn"),
    ("float8_e5m2", math.nan, RNE, DEF, 0x7E, "canonical quiet NaN"),
    ("float8_e5m2", -math.nan, RNE, SAT, 0xFE, "NaN is NaN under saturate too"),
    ("float8_e3m4", math.nan, RNE, DEF, 0x78, "canonical quiet NaN"),
    ("bfloat16", math.nan, RNE, DEF, 0x7FC0, "canonical quiet NaN"),
    ("float8_e4m3fnuz", -math.nan, RNE, DEF, 0x80, "fnuz NaN has no sign"),
    ("p3109_k8p3ue", math.nan, RNE, DEF, 0xFF, "unsigned P3109 NaN is all ones"),
    # unsigned formats
    ("p3109_k8p3ue", -1.0, RNE, DEF, 0xFF, "negative -> NaN"),
    ("p3109_k8p3ue", -1.0, RNE, SAT, 0x00, "negative -> 0 under saturate"),
    ("p3109_k8p3ue", -1e-30, RNE, DEF, 0x00, "negative rounding to zero is +0"),
    ("p3109_k8p3ue", 1e30, RNE, DEF, 0xFE, "unsigned extended: +Inf is 0xFE"),
    # E8M0 (no zero, no sign, M = 0)
    ("float8_e8m0fnu", 3.0, RNE, DEF, 0x80, "tie 3 -> even code 0x80 (= 2)"),
    ("float8_e8m0fnu", 3.0, RNA, DEF, 0x81, "tie 3 -> 4 away"),
    ("float8_e8m0fnu", 0.75, RNE, DEF, 0x7E, "tie 0.75 -> even code 0x7E (= 0.5)"),
    ("float8_e8m0fnu", 0.75, RNA, DEF, 0x7F, "tie 0.75 -> 1 away"),
    ("float8_e8m0fnu", 0.0, RNE, DEF, 0xFF, "no zero: NaN"),
    ("float8_e8m0fnu", 0.0, RNE, SAT, 0x00, "no zero: the minimum under saturate"),
    ("float8_e8m0fnu", 1e-300, RNE, DEF, 0x00, "below the minimum -> the minimum"),
    ("float8_e8m0fnu", 1.0009765625 * 2.0**-127, RNA, DEF, 0x00, "nearest is 2**-127 (ml_dtypes: 0x01)"),
    ("float8_e8m0fnu", 1.5 * 2.0**127, RNA, DEF, 0xFF, "overflow -> NaN"),
    ("float8_e8m0fnu", 1.5 * 2.0**127, RNA, SAT, 0xFE, "overflow saturates to 2**127"),
    ("float8_e8m0fnu", -2.0, RNE, DEF, 0xFF, "negative -> NaN"),
    # no subnormals (P3109 P=1): the gap below the smallest normal is one step
    ("p3109_k8p1se", 2.0**-64, RNE, DEF, 0x00, "half the smallest normal ties to 0"),
    ("p3109_k8p1se", 0.75 * 2.0**-63, RNE, DEF, 0x01, "above the tie -> min normal"),
    ("p3109_k8p1se", 2.0**-64, RU, DEF, 0x01, "toward +inf"),
    ("p3109_k8p1se", 3 * 2.0**10, RNE, DEF, 0x4C, "M=0 tie 1.5 * 2**11 -> even code 0x4C (2**12)"),
    # nearest-zero and to-odd
    ("float8_e4m3fn", 1.0625, Rounding.NEAREST_ZERO, DEF, 0x38, "tie toward zero"),
    ("float8_e4m3fn", 1.0625, ODD, DEF, 0x39, "inexact -> odd code"),
    ("float8_e4m3fn", 1.125, ODD, DEF, 0x39, "exact stays"),
    ("float8_e4m3fn", 1.2, ODD, DEF, 0x39, "inexact between 0x39 and 0x3A -> odd 0x39"),
]


def _id(e: tuple) -> str:
    return f"{e[0]}-{e[1]!r}-{e[2].name.lower()}-{e[3].name.lower() if e[3] is not None else 'default'}"


@pytest.mark.parametrize(("name", "x", "mode", "ovf", "code", "why"), EDGES, ids=[_id(e) for e in EDGES])
def test_edge_vector(name: str, x: float, mode: Rounding, ovf: Overflow | None, code: int, why: str) -> None:
    fmt = FORMATS[name]
    policy = default_overflow(fmt) if ovf is None else ovf
    vec = int(encode_reference(np.array([x]), fmt, mode, policy)[0])
    scal = round_to_code(x, fmt, mode, policy)
    assert (hex(vec), hex(scal)) == (hex(code), hex(code)), why


@pytest.mark.parametrize(
    ("name", "x", "r", "n", "code"),
    [
        ("float8_e4m3fn", 2.0**-10, 1, 1, 0x01),  # rem = 1/2: floor(1) + 1 >= 2
        ("float8_e4m3fn", 2.0**-10, 0, 1, 0x00),
        ("float8_e4m3fn", 2.0**-10 * 0.999, 1, 1, 0x00),  # floor(0.999) + 1 < 2
        ("float8_e4m3fn", 1.9375, 8, 4, 0x40),  # rem = 1/2: 8 + 8 >= 16, carry into the next binade
        ("float8_e4m3fn", 1.9375, 7, 4, 0x3F),  # 8 + 7 < 16: toward zero
        ("float8_e4m3fn", 1.9375, 0, 3, 0x3F),  # floor(0.5 * 8) + 0 = 4 < 8: toward zero
        ("float8_e4m3fn", 460.0, 15, 4, 0x7F),  # rem = 3/8 * 16 = 6 + 15 >= 16 -> overflow -> NaN
        ("float8_e4m3fn", 460.0, 9, 4, 0x7E),
        ("float8_e5m2", -1e-30, (1 << 20) - 1, 20, 0x80),  # far below the quantum: floor(tiny) = 0
        ("float8_e5m2", -1e-30, (1 << 52) - 1, 52, 0x80),
    ],
)
def test_stochastic_edge_vector(name: str, x: float, r: int, n: int, code: int) -> None:
    fmt = FORMATS[name]
    policy = default_overflow(fmt)
    vec = int(encode_reference(np.array([x]), fmt, Rounding.STOCHASTIC, policy, np.array([r]), n)[0])
    scal = round_to_code(x, fmt, Rounding.STOCHASTIC, policy, r, n)
    assert (hex(vec), hex(scal)) == (hex(code), hex(code))


@pytest.mark.parametrize("name", ["float4_e2m1fn", "float6_e2m3fn", "float6_e3m2fn"])
def test_nan_has_no_code_in_finite_formats(name: str) -> None:
    fmt = FORMATS[name]
    with pytest.raises(ValueError, match="NaN"):
        encode_reference(np.array([1.0, math.nan]), fmt)
    with pytest.raises(ValueError, match="NaN"):
        round_to_code(math.nan, fmt)
