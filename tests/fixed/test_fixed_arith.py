"""FixedArray: exact arithmetic with HLS result types; casts and the HLS accumulation loop."""

import numpy as np
import pytest

from lowprec.fixed import FixedArray, add_format, hls_accumulate, mul_format, sub_format, sum_format
from lowprec.formats._fixed import FixedFormat

apytypes = pytest.importorskip("apytypes")
from apytypes import APyFixedArray, OverflowMode, QuantizationMode  # noqa: E402


def _apy(fa: FixedArray) -> APyFixedArray:
    return APyFixedArray(fa.to_bits().tolist(), bits=fa.fmt.bits, int_bits=fa.fmt.int_bits)


def _signed(bits, width):
    return [int(b) - (1 << width) if int(b) >> (width - 1) else int(b) for b in bits]


def _rand(fmt, shape, rng):
    return FixedArray(rng.integers(fmt.min_code, fmt.max_code, shape, endpoint=True), fmt)


def test_growth_rules_match_hls():
    a, b = FixedFormat(8, 4), FixedFormat(9, 3)  # the worked example: <11,5>, <17,7>
    assert add_format(a, b) == FixedFormat(11, 5) and mul_format(a, b) == FixedFormat(17, 7)
    assert sub_format(a, b) == FixedFormat(11, 5)
    ua, ub = FixedFormat(6, 2, False), FixedFormat(5, 4, False)
    assert add_format(ua, ub) == FixedFormat(9, 5, False)  # max(I) + 1, F = max(F)
    assert sub_format(ua, ub) == FixedFormat(9, 5, True)  # minus is always signed
    assert add_format(ua, a) == FixedFormat(max(2 + 1, 4) + 1 + 4, max(2 + 1, 4) + 1, True)
    assert mul_format(ua, a) == FixedFormat(14, 6, True)
    assert sum_format(a, 1) == a and sum_format(a, 5) == FixedFormat(11, 7)
    with pytest.raises(OverflowError):
        mul_format(FixedFormat(40, 10), FixedFormat(30, 2))
    with pytest.raises(OverflowError):
        sum_format(FixedFormat(63, 10), 4)


@pytest.mark.parametrize("fa, fb", [(FixedFormat(8, 4), FixedFormat(9, 3)), (FixedFormat(12, -2), FixedFormat(7, 9)),
                                    (FixedFormat(20, 20), FixedFormat(31, 1))], ids=str)  # fmt: skip
def test_add_sub_mul_match_apytypes(fa, fb):
    rng = np.random.default_rng(fa.bits)
    a, b = _rand(fa, 500, rng), _rand(fb, 500, rng)
    for ours, theirs in ((a + b, _apy(a) + _apy(b)), (a - b, _apy(a) - _apy(b)), (a * b, _apy(a) * _apy(b))):
        assert (ours.fmt.bits, ours.fmt.int_bits) == (theirs.bits, theirs.int_bits)
        assert ours.codes.tolist() == _signed(theirs.to_bits(), theirs.bits)
    assert np.array_equal((a * b).to_float(), a.to_float() * b.to_float())
    assert (-a).codes.tolist() == (-a.codes).tolist() and (-a).fmt == FixedFormat(
        fa.bits + 1, fa.int_bits + 1
    )


def test_sum_and_matmul_exact():
    rng = np.random.default_rng(1)
    fa, fb = FixedFormat(10, 3), FixedFormat(8, 1)
    a, b = _rand(fa, (6, 5), rng), _rand(fb, (5, 4), rng)
    s = a.sum()
    assert s.fmt == FixedFormat(15, 8) and int(s.codes) == int(a.codes.sum())
    assert a.sum(axis=0).fmt == FixedFormat(13, 6) and a.sum(axis=0).shape == (5,)
    p = a @ b
    assert p.fmt == FixedFormat(18 + 3, 4 + 3) and p.shape == (6, 4)
    exact = [
        [sum(int(a.codes[i, k]) * int(b.codes[k, j]) for k in range(5)) for j in range(4)] for i in range(6)
    ]
    assert p.codes.tolist() == exact
    assert a.matmul(b) == p
    with pytest.raises(OverflowError):
        _rand(FixedFormat(40, 3), (2, 3), rng) @ _rand(FixedFormat(30, 3), (3, 2), rng)


def test_cast_matches_apytypes():
    rng = np.random.default_rng(2)
    a = _rand(FixedFormat(24, 9), 1000, rng)
    for q in ("TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_MIN_INF", "RND_INF", "RND_CONV"):
        for o in ("WRAP", "SAT"):
            ours = a.cast(FixedFormat(8, 4), q, o)
            theirs = _apy(a).cast(bits=8, int_bits=4, quantization=getattr(QuantizationMode, q),
                                  overflow=getattr(OverflowMode, o))  # fmt: skip
            assert ours.codes.tolist() == _signed(theirs.to_bits(), 8), (q, o)


@pytest.mark.parametrize(
    "q, o", [("TRN", "WRAP"), ("RND_CONV", "SAT"), ("TRN_ZERO", "SAT"), ("RND_INF", "WRAP")]
)
def test_hls_accumulate_matches_explicit_apytypes_loop(q, o):
    """acc = (acc + a*b).cast(...) per step: the HLS `acc += a*b` semantics."""
    rng = np.random.default_rng(3)
    fa, fb, facc = FixedFormat(8, 2), FixedFormat(8, 1), FixedFormat(10, 3)
    a, b = _rand(fa, (200, 8), rng), _rand(fb, (200, 8), rng)
    ours = hls_accumulate(a, b, facc, q, o)
    qm, om = getattr(QuantizationMode, q), getattr(OverflowMode, o)
    acc = APyFixedArray([0] * 200, bits=facc.bits, int_bits=facc.int_bits)
    for k in range(8):
        acc = (acc + _apy(a[:, k]) * _apy(b[:, k])).cast(bits=facc.bits, int_bits=facc.int_bits,
                                                           quantization=qm, overflow=om)  # fmt: skip
    assert ours.fmt == facc and ours.codes.tolist() == _signed(acc.to_bits(), facc.bits)


def test_construction_and_errors():
    f = FixedFormat(8, 3)
    x = FixedArray.from_float([0.1, -3.3], f, "RND_CONV", "SAT")
    assert x.codes.tolist() == [3, -106] and x.shape == (2,) and len(x) == 2
    assert np.array_equal(np.asarray(x), [3 / 32, -106 / 32]) and "ap_fixed<8,3>" in repr(x)
    assert x.to_bits().tolist() == [3, 256 - 106]
    with pytest.raises(ValueError):
        FixedArray([128], f)
    with pytest.raises(TypeError):
        FixedArray([0.5], f)
    with pytest.raises(ValueError):
        FixedArray([1], FixedFormat(64, 3, False))
    with pytest.raises(TypeError):
        x + 1
    with pytest.raises(ValueError):
        hls_accumulate(x, FixedArray([1], f), f)
