"""Every gfloat-expressible mode and overflow policy agrees with gfloat 0.5.2 ``round_ndarray``.

Inputs are float64 (gfloat rounds once from float64). ``sat=True`` is our ``saturate``;
``sat=False`` is the format's own default (``infinity`` with Inf, ``nan`` with NaN only), both for
every deterministic mode and for P3109 StochasticA (gfloat ``StochasticFastest``) with explicit bits.
Codes are compared through our decode, which ``test_decode_oracles`` proves injective on non-NaN
codes and equal to gfloat's; NaN by class.

Cases where gfloat 0.5.2 is not an oracle are removed explicitly (formats.md §5), see ``_usable``.
"""

from __future__ import annotations

import numpy as np
import pytest
from gfloat import RoundMode, round_ndarray
from reforacles import GFLOAT_MODES, SMALL, canon_bits, decode_any, gfloat_info, grid_inputs

from lowprec.formats import FORMATS, FloatFormat
from lowprec.reference import encode_reference
from lowprec.rounding import Overflow, Rounding, default_overflow

NAMES = [n for n in [*SMALL, "float32", "tf32", "fp22"] if gfloat_info(n) is not None]


def _usable(fmt: FloatFormat, x: np.ndarray) -> np.ndarray:
    """Mask of inputs on which gfloat 0.5.2 is a valid oracle for ``fmt``."""
    ok = np.ones(x.shape, dtype=bool)
    if not fmt.has_nan:
        ok &= ~np.isnan(x)  # no NaN code: gfloat passes NaN through, our encode raises (contract)
    if not fmt.signed:
        # §5.5: gfloat treats negatives in unsigned formats as positives with the sign kept
        # (negative results); the spec (and lowprec) gives NaN or 0
        ok &= ~(x < 0)
    if not fmt.zero:
        # §5.3: gfloat's E8M0 returns 0, negatives and values below 2**-127 unchanged (invalid)
        ok &= ~(np.abs(x) < float(fmt.min_normal)) & ~np.isnan(x) | np.isnan(x)
    return ok


def _sr_exact_in_gfloat(fmt: FloatFormat, x: np.ndarray) -> np.ndarray:
    """Mask of inputs whose SR decision gfloat computes exactly.

    gfloat decides ``delta + r * 2**-n >= 1.0`` in float64. That sum is exact when ``delta`` is a
    multiple of 2**-53, which holds at or above the smallest quantum; below it (|x| < quantum, where
    delta = |x| / quantum) a fine ``delta`` can round the sum up to exactly 1.0, e.g. e5m2-like
    ``x = nextafter(quantum / 2, 0)``, ``n = 1``, ``r = 1``: 0.5 - 2**-54 + 0.5 rounds to 1.0 and
    gfloat rounds away while the exact rule (and lowprec) does not.
    """
    q = float(fmt.min_subnormal) if fmt.zero else float(fmt.min_normal)
    a = np.abs(np.where(np.isfinite(x), x, 0.0))
    d = a / q  # exact: q is a power of two
    return (a >= q) | (np.ldexp(d, 53) % 1 == 0)


def _compare(fmt: FloatFormat, x: np.ndarray, codes: np.ndarray, expected: np.ndarray) -> None:
    got = decode_any(codes, fmt)
    bad = canon_bits(got) != canon_bits(expected)
    if bad.any():
        i = np.flatnonzero(bad)[:8]
        detail = [(repr(float(x[j])), hex(int(codes[j])), float(got[j]), float(expected[j])) for j in i]
        pytest.fail(f"{int(bad.sum())}/{len(x)} mismatches (input, our code, our value, gfloat): {detail}")


def _policies(fmt: FloatFormat) -> list[tuple[bool, Overflow]]:
    out = [(True, Overflow.SATURATE)]
    # gfloat sat=False raises ValueError on overflow for formats with neither Inf nor NaN (FP4/FP6,
    # §5.6); their own default is saturate anyway, which the sat=True case covers.
    if fmt.has_inf or fmt.has_nan:
        out.append((False, default_overflow(fmt)))
    return out


@pytest.mark.parametrize("mode", list(GFLOAT_MODES), ids=lambda m: m.name.lower())
@pytest.mark.parametrize("name", NAMES)
def test_deterministic_modes_match_gfloat(name: str, mode: Rounding) -> None:
    fmt = FORMATS[name]
    fi = gfloat_info(name)
    rng = np.random.default_rng(1234)
    x = grid_inputs(fmt, rng, sample=2048)
    x = x[_usable(fmt, x)]
    for sat, ovf in _policies(fmt):
        codes = encode_reference(x, fmt, mode, ovf)
        expected = round_ndarray(fi, x, GFLOAT_MODES[mode], sat=sat)
        _compare(fmt, x, codes, expected)


@pytest.mark.parametrize("n", [1, 3, 8, 24])
@pytest.mark.parametrize("name", NAMES)
def test_stochastic_a_matches_gfloat_stochastic_fastest(name: str, n: int) -> None:
    fmt = FORMATS[name]
    fi = gfloat_info(name)
    rng = np.random.default_rng(n)
    x = grid_inputs(fmt, rng, sample=1024)
    x = x[_usable(fmt, x) & _sr_exact_in_gfloat(fmt, x)]
    r = rng.integers(0, 1 << n, len(x), dtype=np.int64)
    r[: min(len(r), 64)] = (1 << n) - 1  # extremes of the random integer are always present
    r[64:128] = 0
    for sat, ovf in _policies(fmt):
        codes = encode_reference(x, fmt, Rounding.STOCHASTIC, ovf, random_bits=r, n_random_bits=n)
        expected = round_ndarray(fi, x, RoundMode.StochasticFastest, sat=sat, srbits=r, srnumbits=n)
        _compare(fmt, x, codes, expected)


def test_usable_mask_excludes_only_the_documented_cases() -> None:
    """The exclusions are narrow: everything is usable for an ordinary signed format."""
    x = np.array([-1.0, -0.0, 0.0, 1e-40, np.nan, np.inf, -np.inf])
    assert _usable(FORMATS["float8_e4m3fn"], x).all()
    assert _usable(FORMATS["float8_e8m0fnu"], x).tolist() == [False, False, False, False, True, True, False]
    assert _usable(FORMATS["p3109_k8p3ue"], x).tolist() == [False, True, True, True, True, True, False]
