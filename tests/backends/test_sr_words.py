"""Stochastic rounding of float32 input with n <= 32 random bits, which the Numba and C++ loops
take as 32-bit words (the bits at the top of a word, compared at 32-bit alignment), against the
exact reference at the edge of the rule: for each input, the random integers just below, at and
just above the threshold ``2**n - floor(delta * 2**n)`` from which the element rounds up."""

from __future__ import annotations

import os
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import pytest
from cppkit import per_isa

import lowprec
from lowprec._cpp import available
from lowprec.reference import encode_reference, quantize_reference
from lowprec.rounding import Rounding, resolve_overflow
from lowprec.testing import assert_codes_equal

FORMATS = ["bfloat16", "float16", "float8_e4m3fn", "float8_e5m2", "float4_e2m1fn", "p3109_k8p3se"]
BACKENDS = ["numba", "cpp"]


def _edge_cases(fmt: object, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(x, r): float32 inputs between two values of ``fmt`` (normal, subnormal and below the smallest
    step, both signs), each with the random integers threshold - 1, threshold, threshold + 1."""
    rng = np.random.default_rng(n)
    step = float(fmt.mag_value(1))
    top = float(fmt.mag_value(fmt.max_mag))
    mags = np.concatenate(
        [
            np.exp(rng.uniform(np.log(step), np.log(top) - 0.1, 300)),
            step * 2.0 ** -rng.uniform(0, 20, 100),  # rounding positions past 32 bits included
            step * 2.0 ** -rng.uniform(32, 60, 30),  # positions past 56 bits: floor(delta * 2**32) == 0
        ]
    ).astype(np.float32)
    xs, rs = [], []
    for m in mags:
        lo = quantize_reference(np.array([m]), fmt, Rounding.TOWARD_ZERO)[0]
        hi = quantize_reference(np.array([m]), fmt, Rounding.TOWARD_POSITIVE)[0]
        if hi == lo:
            continue
        delta = (Fraction(float(m)) - Fraction(float(lo))) / (Fraction(float(hi)) - Fraction(float(lo)))
        k = int(delta * 2**n)  # floor: delta >= 0
        for r in (2**n - k - 1, 2**n - k, 2**n - k + 1):
            if 0 <= r < 2**n:
                for sign in (1.0, -1.0):
                    xs.append(sign * m)
                    rs.append(r)
    return np.array(xs, np.float32), np.array(rs, np.uint64)


def _runs(backend: str, call: Callable[[], np.ndarray]) -> list[np.ndarray]:
    """``call()``'s results: once for Numba, under each instruction set for C++ (skipped, or failed
    under LOWPREC_REQUIRE_CPP=1, when lowprec._C is not built)."""
    if backend == "numba":
        return [call()]
    ok, reason = available()
    if not ok:
        if os.environ.get("LOWPREC_REQUIRE_CPP") == "1":
            pytest.fail(f"LOWPREC_REQUIRE_CPP=1 but {reason}")
        pytest.skip(reason)
    return [got for _, got in per_isa(call)]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "mode", [Rounding.STOCHASTIC, Rounding.STOCHASTIC_EQUAL], ids=lambda m: m.name.lower()
)
@pytest.mark.parametrize("name", FORMATS)
def test_threshold_random_bits(name: str, mode: Rounding, backend: str) -> None:
    fmt = lowprec.get_format(name)
    ovf = resolve_overflow(fmt, None)
    for n in (1, 7, 24, 31, 32):
        x, r = _edge_cases(fmt, n)
        want_codes = encode_reference(x, fmt, mode, ovf, r, n)
        want = quantize_reference(x, fmt, mode, ovf, r, n)
        for bits in (r, r.astype(np.uint32)):
            kw = {"random_bits": bits, "n_random_bits": n, "backend": backend}
            for got in _runs(backend, lambda: lowprec.encode(x, fmt, mode, overflow=ovf, **kw)):  # noqa: B023
                assert_codes_equal(got, want_codes, x)
            for got in _runs(backend, lambda: lowprec.quantize(x, fmt, mode, overflow=ovf, **kw)):  # noqa: B023
                assert np.array_equal(got.view(np.uint32), want.view(np.uint32)), (name, mode, n, backend)
