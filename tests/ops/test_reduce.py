"""sum/dot orders against Fraction re-implementations of each order."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from opsref import ref_round

from lowprec import ops


def _r(v: Fraction, fmt: str) -> Fraction:
    return Fraction(ref_round(v, fmt))


def _seq(t: list, fmt: str) -> Fraction:
    acc = _r(t[0], fmt)
    for v in t[1:]:
        acc = _r(acc + v, fmt)
    return acc


def _oracle(t: list, fmt: str, order: str, block: int = 1) -> Fraction:
    if order == "sequential":
        return _seq(t, fmt)
    if order == "blocked":
        return _seq([_seq(t[i : i + block], fmt) for i in range(0, len(t), block)], fmt)
    if order == "pairwise":
        t = [_r(v, fmt) for v in t]
        while len(t) > 1:
            t = [_r(t[i] + t[i + 1], fmt) for i in range(0, len(t) - 1, 2)] + ([t[-1]] if len(t) % 2 else [])
        return t[0]
    s = c = Fraction(0)
    for v in t:
        y = _r(v - c, fmt)
        u = _r(s + y, fmt)
        c = _r(_r(u - s, fmt) - y, fmt)
        s = u
    return s


@pytest.mark.parametrize("fmt", ["bfloat16", "float16", "float8_e4m3fn"])
@pytest.mark.parametrize("order", ["sequential", "pairwise", "blocked", "kahan"])
def test_sum_orders(fmt: str, order: str) -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 23)) * 3
    x[0, :3] = [200.0, 0.01, -200.0]
    got = ops.sum(x, fmt, order, block=4 if order == "blocked" else None)
    for i in range(3):
        assert got[i] == float(_oracle([Fraction(v) for v in x[i]], fmt, order, 4)), (i, order)


def test_dot_fused_and_unfused() -> None:
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal(17), rng.standard_normal(17)
    acc = _r(Fraction(x[0]) * Fraction(y[0]), "bfloat16")
    for a, b in zip(x[1:], y[1:]):
        acc = _r(Fraction(a) * Fraction(b) + acc, "bfloat16")
    assert ops.dot(x, y, "bfloat16") == float(acc)
    prods = [Fraction(a) * Fraction(b) for a, b in zip(x, y)]
    assert ops.dot(x, y, "bfloat16", fused=False) == float(
        _seq([_r(p, "bfloat16") for p in prods], "bfloat16")
    )
    assert ops.dot(x, y, "bfloat16", "pairwise") == float(_oracle(prods, "bfloat16", "pairwise"))


def test_kahan_beats_sequential_on_swamping() -> None:
    x = np.array([256.0] + [1.0 / 4] * 64)  # each 1/4 is below half an ulp of 256 in bfloat16
    assert ops.sum(x, "bfloat16") == 256.0
    assert ops.sum(x, "bfloat16", "kahan") == 272.0
    assert ops.sum(x, "bfloat16", "pairwise") > 256.0
    with pytest.raises(ValueError, match="block"):
        ops.sum(x, "bfloat16", "blocked")
