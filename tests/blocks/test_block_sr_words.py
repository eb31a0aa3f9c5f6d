"""Stochastic block quantize of float32 with n <= 32 random bits (the int32-lane word rule of the
power-of-two block formats, and every other block path) against the exact reference at the edge
of the rule: each element gets the random integer just below, at or just above the threshold
``2**n - floor(delta * 2**n)`` from which it rounds up (stochastic_equal: around ``2**(n - 1)``)."""

from __future__ import annotations

import contextlib
import functools
import os
from fractions import Fraction

import numpy as np
import pytest

from lowprec import blocks
from lowprec._cpp import available, fast_isa, fast_isas
from lowprec._numba import _block_fast
from lowprec.formats._block import BLOCK_FORMATS, BlockFormat
from lowprec.reference._block import quantize_block_reference
from lowprec.rounding import Rounding

_FORMATS = ["mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e3m2", "mxfp6_e2m3", "mxfp4", "mxint8", "bfp8", "nvfp4"]
_FLAT = ["mxfp4", "mxint8", "mxfp8_e5m2", "nvfp4"]
#: block scales 2**k: ordinary, the float32 grid's subnormal range (float32 subnormal inputs), huge
_SCALES = [0, -9, -118, -126, 90]


def _magnitudes(f: BlockFormat, rng: np.random.Generator) -> np.ndarray:
    """Magnitudes (at block scale 1) between the element grid's values, below its smallest step and
    32-60 binades below it (the rounding position past 32 and past 56 bits)."""
    ef = f.element_format
    step = float(ef.mag_value(1))
    top = float(f.element_max)
    return np.concatenate(
        [
            np.exp(rng.uniform(np.log(step), np.log(top), 200)),
            step * 2.0 ** -rng.uniform(0, 30, 60),
            step * 2.0 ** -rng.uniform(32, 60, 20),
        ]
    )


@functools.cache
def _edge_case(name: str, mode: Rounding, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, r, want): :func:`_edge_input` and the reference's result, shared by the backends."""
    f = BLOCK_FORMATS[name]
    x, r = _edge_input(f, mode, n)
    with np.errstate(over="ignore"):
        want = quantize_block_reference(x, f, -1, mode, r, n).astype(np.float32)
    return x, r, want


def _edge_input(f: BlockFormat, mode: Rounding, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(x, r): rows of blocks whose slot 0 pins the amax (``element_max * 2**k``, so the scale is
    ``2**k`` for the power-of-two rules), the other slots magnitudes of :func:`_magnitudes` times
    ``2**k`` (both signs), and the random integers at the threshold of each element (three variants)."""
    rng = np.random.default_rng(n)
    b = f.block if isinstance(f.block, int) else f.block[1]
    top = float(f.element_max)
    rows = []
    for k in _SCALES:
        m = (_magnitudes(f, rng) * 2.0**k).astype(np.float32)
        m = m[(m > 0) & (m <= np.float32(top * 2.0**k))]
        per = b - 1
        m = np.concatenate([m, np.zeros(-m.size % per, np.float32)]).reshape(-1, per)
        pin = np.full((m.shape[0], 1), np.float32(top * 2.0**k))
        rows.append(np.concatenate([pin, m], axis=1))
    mag = np.concatenate(rows)  # one block per row
    lo = quantize_block_reference(mag, f, -1, Rounding.TOWARD_ZERO)
    hi = quantize_block_reference(mag, f, -1, Rounding.TOWARD_POSITIVE)
    xs, rs = [], []
    for variant in (-1, 0, 1):
        r = np.zeros(mag.shape, np.uint64)
        for i in np.ndindex(mag.shape):
            if hi[i] == lo[i]:
                r[i] = rng.integers(0, 2**n)
                continue
            if mode is Rounding.STOCHASTIC_EQUAL:
                t = 2 ** (n - 1)
            else:
                delta = (Fraction(float(mag[i])) - Fraction(float(lo[i]))) / (
                    Fraction(float(hi[i])) - Fraction(float(lo[i]))
                )
                t = 2**n - int(delta * 2**n)
            r[i] = min(max(t + variant, 0), 2**n - 1)
        for sign in (1, -1):
            xs.append(np.float32(sign) * mag)
            rs.append(r)
    return np.concatenate(xs), np.concatenate(rs)


def _backend_ok(backend: str) -> None:
    if backend == "cpp":
        ok, reason = available()
        if not ok:
            if os.environ.get("LOWPREC_REQUIRE_CPP") == "1":
                pytest.fail(f"LOWPREC_REQUIRE_CPP=1 but {reason}")
            pytest.skip(reason)


# "numba_flat": the per-format kernel of large arrays (one compilation per format and mode): a few formats
_CASES = [(f, b) for f in _FORMATS for b in ("numba", "cpp")] + [(f, "numba_flat") for f in _FLAT]


@pytest.mark.parametrize(
    "mode", [Rounding.STOCHASTIC, Rounding.STOCHASTIC_EQUAL], ids=lambda m: m.name.lower()
)
@pytest.mark.parametrize(("name", "backend"), _CASES)
def test_block_threshold_random_bits(
    name: str, mode: Rounding, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _backend_ok(backend)
    if backend == "numba_flat":  # the per-format kernel of large arrays (_block_fast.flat_kernel)
        monkeypatch.setattr(_block_fast, "SPEC_MIN", 0)
        backend = "numba"
    f = BLOCK_FORMATS[name]
    for n in (1, 7, 24, 32):
        x, r, want = _edge_case(name, mode, n)
        for bits in (r, r.astype(np.uint32)):
            for isa in fast_isas() if backend == "cpp" else [None]:  # every C++ instruction-set copy
                with fast_isa(isa) if isa else contextlib.nullcontext():
                    got = blocks.quantize(
                        x, f, rounding=mode, random_bits=bits, n_random_bits=n, backend=backend
                    )
                nan_g, nan_w = np.isnan(got), np.isnan(want)
                assert np.array_equal(nan_g, nan_w)
                bad = np.nonzero(got.view(np.uint32)[~nan_g] != want.view(np.uint32)[~nan_w])[0]
                assert bad.size == 0, (name, mode, n, isa, x[~nan_g][bad[:4]], got[~nan_g][bad[:4]])
