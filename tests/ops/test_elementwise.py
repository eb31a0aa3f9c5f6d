"""Elementwise ops against the exact Fraction oracle: random, tie, far-apart and special operands."""

from __future__ import annotations

import math
import zlib
from fractions import Fraction

import numpy as np
import pytest
from opsref import ref_round, same

from lowprec import ops
from lowprec.formats import get_format
from lowprec.reference import decode_code
from lowprec.rounding import Rounding

FORMATS = ["float32", "bfloat16", "float16", "float8_e4m3fn", "float8_e5m2", "p3109_k8p3se",
           "float4_e2m1fn"]  # fmt: skip
MODES = [m for m in Rounding if not m.is_stochastic]
SPECIALS = [0.0, -0.0, math.inf, -math.inf, math.nan, 5e-324, -1e308]


def _operands(fmt: str, n: int, seed: int) -> np.ndarray:
    """Random values, format values, half-ulp tie offsets and extreme magnitudes."""
    f = get_format(fmt)
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 1 << f.nbits, n)
    vals = np.array([decode_code(int(c), f) for c in codes])
    vals = np.where(np.isfinite(vals), vals, 1.0)
    e = np.floor(np.log2(np.maximum(np.abs(vals), 1e-300)))
    half_ulp = np.exp2(e - f.mbits - 1) * rng.choice([1.0, -1.0, 1 + 2.0**-30, 1 - 2.0**-30], n)
    rand = rng.standard_normal(n) * np.exp2(rng.integers(f.emin_ - f.mbits - 2, f.emax_ + 2, n))
    far = rng.choice([1e-300, 1e300, 2.0**-1070, 3.0], n) * rng.choice([1.0, -1.0], n)
    pick = rng.integers(0, 4, n)
    return np.choose(pick, [vals, half_ulp, rand, far]), vals


def _cases(fmt: str, n: int = 36, seed: int = 0) -> tuple:
    x, vals = _operands(fmt, n, seed)
    y, _ = _operands(fmt, n, seed + 1)
    z, _ = _operands(fmt, n, seed + 2)
    y = np.where(
        np.arange(n) % 3 == 0, vals * np.float64(2.0) ** -get_format(fmt).mbits / 2, y
    )  # ties for add
    sp = np.array(SPECIALS)
    x, y, z = (np.concatenate([v, np.repeat(sp, len(sp)), np.tile(sp, len(sp))]) for v in (x, y, z))
    z = np.concatenate([z[:n], np.roll(z[n:], 3)])
    return x, y, z


def _zero_sum(a: float, b: float, mode: Rounding) -> float:
    if math.copysign(1, a) == math.copysign(1, b):
        return a
    return -0.0 if mode == Rounding.TOWARD_NEGATIVE else 0.0


def _exact(op: str, a: float, b: float, c: float, mode: Rounding) -> Fraction | float:
    """The exact result as a Fraction, or a float for the special cases (IEEE 754 rules)."""
    used = (a, b, c)[: OPS[op]]
    if not all(map(math.isfinite, used)):
        with np.errstate(all="ignore"):
            if op == "fma":
                return float(c) if math.isfinite(a) and math.isfinite(b) else float(np.float64(a) * b + c)
            return float({"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
                          "sqrt": lambda u, _: np.sqrt(u)}[op](np.float64(a), np.float64(b)))  # fmt: skip
    a, b, c = (float(v) if math.isfinite(v) else 0.0 for v in (a, b, c))
    fa, fb, fc = Fraction(a), Fraction(b), Fraction(c)
    sx = math.copysign(1, a) * math.copysign(1, b)
    if op == "add":
        return fa + fb if fa + fb != 0 else _zero_sum(a, b, mode)
    if op == "sub":
        return fa - fb if fa - fb != 0 else _zero_sum(a, -b, mode)
    if op == "mul":
        return fa * fb if fa * fb != 0 else math.copysign(0.0, sx)
    if op == "div":
        if b == 0:
            return math.nan if a == 0 else math.copysign(math.inf, sx)
        return fa / fb if a != 0 else math.copysign(0.0, sx)
    if op == "fma":
        if fa * fb == 0:
            return _exact("add", math.copysign(0.0, sx), c, 0, mode)
        r = fa * fb + fc
        return r if r != 0 else (-0.0 if mode == Rounding.TOWARD_NEGATIVE else 0.0)
    # sqrt: bracket strictly inside one 2**-T grid cell, far finer than any target quantum
    if a < 0:
        return math.nan
    if a == 0:
        return a
    t = 1200
    n = fa.numerator * (1 << (2 * t)) // fa.denominator
    exact = fa.numerator * (1 << (2 * t)) % fa.denominator == 0
    r = math.isqrt(n)
    if exact and r * r == n:
        return Fraction(r, 1 << t)
    return Fraction(2 * r + 1, 1 << (t + 1))


OPS = {"add": 2, "sub": 2, "mul": 2, "div": 2, "fma": 3, "sqrt": 1}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("op", list(OPS))
def test_matches_exact_oracle(op: str, fmt: str) -> None:
    x, y, z = _cases(fmt, seed=zlib.crc32(f"{op}/{fmt}".encode()) % 1000)
    if op == "sqrt":
        x = np.abs(x) if fmt != "float32" else x
    args = (x, y, z)[: OPS[op]]
    for mode in MODES:
        got = getattr(ops, op)(*args, fmt, mode)
        for i in range(x.size):
            want = ref_round(_exact(op, x[i], y[i], z[i], mode), fmt, mode)
            assert same(float(got[i]), want), (op, fmt, mode.name, x[i], y[i], z[i], got[i], want)


def test_ties_and_scalars() -> None:
    assert ops.add(1.0, 2.0**-24, "float32") == 1.0  # tie to even
    assert ops.add(1.0, 3 * 2.0**-25, "float32") == 1 + 2.0**-23
    assert ops.add(1.0, 2.0**-24, "float32", "nearest_away") == 1 + 2.0**-23
    assert ops.add(1.0, 2.0**-1000, "bfloat16", "toward_positive") == 1 + 2.0**-7
    assert ops.sub(1.0, 2.0**-1000, "bfloat16", "toward_zero") == 1 - 2.0**-8
    # fused: (1+2^-12)^2 - 1 = 2^-11 + 2^-24 rounds to 2^-11 in float16; to odd it is inexact
    assert ops.fma(1 + 2.0**-12, 1 + 2.0**-12, -1.0, "float16") == 2.0**-11
    assert ops.fma(1 + 2.0**-12, 1 + 2.0**-12, -1.0, "float16", "to_odd") == 2.0**-11 + 2.0**-21
    assert np.isscalar(ops.mul(3.0, 1 / 3, "bfloat16"))
    assert ops.add(np.ones((2, 3)), np.arange(3.0), "float16").shape == (2, 3)


def test_rejects_wide_formats_and_stochastic() -> None:
    with pytest.raises(ValueError, match="51"):
        ops.add(1.0, 1.0, "float64")
    with pytest.raises(ValueError, match="deterministic"):
        ops.add(1.0, 1.0, "float32", "stochastic")
