"""Emulated GEMM: the Numba kernel against an independent Fraction model, oracles and hand vectors."""

from __future__ import annotations

import math
import zlib
from fractions import Fraction

import numpy as np
import pytest
from opsref import ref_round

from lowprec import FloatFormat, quantize
from lowprec.ops._gemm import matmul, split_bounds
from lowprec.ops._profile import GemmProfile
from lowprec.rounding import parse_rounding

RNE = parse_rounding("nearest_even")


def _trunc_align(v: Fraction, q: int) -> Fraction:
    """v truncated toward zero to a multiple of 2**q."""
    unit = Fraction(2) ** q
    n = abs(v) // unit
    return math.copysign(1, v) * n * unit if v else Fraction(0)


def _expo(v: Fraction) -> int:
    e = math.floor(math.log2(abs(float(v))))
    while Fraction(2) ** e > abs(v):
        e -= 1
    while Fraction(2) ** (e + 1) <= abs(v):
        e += 1
    return e


def model(a: np.ndarray, b: np.ndarray, prof: GemmProfile, c: np.ndarray | None = None) -> np.ndarray:
    """The profile's model written directly on Fractions (the test oracle)."""
    fa, fb, facc, fprom, fpart, fout = prof.formats()
    aq = quantize(a, fa)
    bq = quantize(b, fb)
    m, k = aq.shape
    n = bq.shape[1]
    c0 = np.zeros((m, n)) if c is None else quantize(np.broadcast_to(c, (m, n)).copy(), fout)
    bmode = parse_rounding(prof.block_rounding)
    out = np.empty((m, n))
    for i in range(m):
        for j in range(n):
            prods = [Fraction(aq[i, t]) * Fraction(bq[t, j]) for t in range(k)]
            if prof.exact:
                out[i, j] = ref_round(sum(prods, Fraction(c0[i, j])), fout, parse_rounding(prof.out_rounding))
                continue
            bounds = split_bounds(k, prof.split_k)
            parts = []
            for s in range(prof.split_k):
                acc = Fraction(c0[i, j]) if s == 0 else Fraction(0)
                reg, cnt, t = Fraction(0), 0, int(bounds[s])
                while t < bounds[s + 1]:
                    end = min(t + prof.block_size, int(bounds[s + 1]))
                    if prof.promote_interval:
                        end = min(end, t + prof.promote_interval - cnt)
                    terms = prods[t:end]
                    if not prof.fused:
                        terms = [Fraction(ref_round(v, facc, bmode)) for v in terms]
                    terms.append(acc)
                    if prof.align_bits is not None:
                        nz = [v for v in terms if v]
                        if nz:
                            q = max(_expo(v) for v in nz) + 1 - prof.align_bits
                            terms = [_trunc_align(v, q) for v in terms]
                    acc = Fraction(ref_round(sum(terms, Fraction(0)), facc, bmode))
                    cnt += end - t
                    t = end
                    if prof.promote_interval and (cnt == prof.promote_interval or t == bounds[s + 1]):
                        reg = Fraction(ref_round(reg + acc, fprom))
                        acc, cnt = Fraction(0), 0
                v = reg if prof.promote_interval else acc
                parts.append(Fraction(ref_round(v, fpart)) if prof.split_k > 1 else v)
            if prof.reduce_order == "tree":
                while len(parts) > 1:
                    nxt = [
                        Fraction(ref_round(parts[q] + parts[q + 1], fpart))
                        for q in range(0, len(parts) - 1, 2)
                    ]
                    parts = nxt + ([parts[-1]] if len(parts) % 2 else [])
                tot = parts[0]
            else:
                order = (np.random.default_rng(prof.reduce_seed).permutation(prof.split_k)
                         if prof.reduce_order == "permutation" else range(prof.split_k))  # fmt: skip
                order = list(order)
                tot = parts[order[0]]
                for q in order[1:]:
                    tot = Fraction(ref_round(tot + parts[q], fpart))
            out[i, j] = ref_round(tot, fout, parse_rounding(prof.out_rounding))
    return out


PROFILES = [
    *(GemmProfile.preset(p) for p in GemmProfile.presets()),
    GemmProfile(
        block_size=4, extra_align_bits=None, split_k=3, partial_format="bfloat16", reduce_order="tree"
    ),
    GemmProfile(
        a_format="bfloat16",
        block_size=8,
        extra_align_bits=0,
        split_k=4,
        reduce_order="permutation",
        reduce_seed=7,
        partial_format="float16",
        out_format="float16",
        block_rounding="toward_zero",
    ),
    GemmProfile(a_format="float16", block_size=1, fused=False, acc_format="float16", promote_interval=5),
    GemmProfile(
        a_format="float8_e5m2",
        block_size=3,
        extra_align_bits=-12,
        fused=False,
        split_k=2,
        out_format="bfloat16",
        out_rounding="toward_positive",
    ),
]


@pytest.mark.parametrize("prof", PROFILES, ids=[f"{i}-{p.name}" for i, p in enumerate(PROFILES)])
def test_kernel_matches_fraction_model(prof: GemmProfile) -> None:
    rng = np.random.default_rng(zlib.crc32(prof.name.encode()))  # hash() is salted per process
    a = rng.standard_normal((3, 37)) * np.exp2(rng.integers(-6, 6, (3, 37)))
    b = rng.standard_normal((37, 2))
    a[0, :4] = [256.0, 1.0, -256.0, 1.0]  # swamping pattern in one row
    c = rng.standard_normal((3, 1))
    np.testing.assert_array_equal(matmul(a, b, prof, c=c), model(a, b, prof, c))


def test_block1_unbounded_is_sequential_fp32_fma() -> None:
    rng = np.random.default_rng(1)
    a = quantize(rng.standard_normal((2, 50)), "float32")
    b = quantize(rng.standard_normal((50, 2)) * 1e3, "float32")
    got = matmul(a, b, "ieee_fp32_sequential")
    for i in range(2):
        for j in range(2):
            acc = Fraction(0)
            for t in range(50):  # IEEE fp32 fma(a, b, acc): exact a*b + acc, rounded once
                acc = Fraction(ref_round(Fraction(a[i, t]) * Fraction(b[t, j]) + acc, "float32"))
            assert got[i, j] == float(acc)


def test_exact_preset_is_correctly_rounded() -> None:
    a = np.array([[2.0**24, 1.0, 1.0, 2.0**-30]])
    b = np.ones((4, 1))
    assert matmul(a, b, "exact")[0, 0] == 2.0**24 + 2  # exact sum 2^24 + 2 + 2^-30 rounds to 2^24 + 2
    assert matmul(a, b, "ieee_fp32_sequential")[0, 0] == 2.0**24  # each 1 is a tie lost to even
    assert matmul(a[0], b[:, 0], "exact") == 2.0**24 + 2


def test_swamping_reveals_block_size() -> None:
    m = 2.0**30
    row = np.array([m, 1.0, -m, 1.0, 1.0, 1.0, 1.0, 1.0])
    b = np.ones((8, 1))
    base = GemmProfile(block_size=1)
    assert matmul(row, b[:, 0], base) == 5.0  # the 1 added to +M is swamped (exact sum: 6)
    for blk in (4, 8):  # +M, 1, -M in one exact block: nothing lost
        assert matmul(row, b[:, 0], base.replace(block_size=blk)) == 6.0
    assert matmul(row, b[:, 0], base.replace(block_size=2)) == 5.0  # blocks [M, 1] and [-M, 1]
    # 24 aligned bits truncate both ones of the first block below 2^30 (V100-like, neab = 0)
    assert matmul(row, b[:, 0], base.replace(block_size=4, extra_align_bits=0)) == 4.0
    assert matmul(row, b[:, 0], base.replace(block_size=4, extra_align_bits=7)) == 6.0  # 31 bits keep them


def test_split_k_orders_on_hand_vector() -> None:
    a = np.array([1.0, 0.0, 2.0**-8, 2.0**-8])  # one element per slice, bf16 workspace
    b = np.ones(4)
    p = GemmProfile(split_k=4, partial_format="bfloat16")
    assert matmul(a, b, p) == 1.0  # (1 + 0) + 2^-8 is a tie -> 1, twice
    assert matmul(a, b, p.replace(reduce_order="tree")) == 1 + 2.0**-7  # (1 + 0) + (2^-8 + 2^-8)
    assert matmul(a, b, p.replace(split_k=1)) == 1 + 2.0**-7  # one fp32 chain keeps everything
    assert matmul(a, b, p.replace(split_k=2)) == 1 + 2.0**-7  # the two 2^-8 meet in one fp32 slice
    for seed in range(4):
        order = np.random.default_rng(seed).permutation(4)
        want = a[order[0]]
        for q in order[1:]:
            want = ref_round(Fraction(want) + Fraction(a[q]), "bfloat16")
        assert matmul(a, b, p.replace(reduce_order="permutation", reduce_seed=seed)) == want


def test_profile_validation() -> None:
    with pytest.raises(ValueError, match="exact in float64"):
        GemmProfile(a_format="float32", b_format=FloatFormat(8, 30))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown GEMM preset"):
        GemmProfile.preset("tpu")
    assert GemmProfile.preset("h100_fp8").align_bits == 14
