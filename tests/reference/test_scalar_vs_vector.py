"""The vectorised reference equals the scalar Fraction definition, for every format in FORMATS."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest
from reforacles import overflows_for, top_step

from lowprec.formats import FORMATS, FloatFormat
from lowprec.reference import decode_code, encode_reference, round_to_code
from lowprec.rounding import Rounding

ALL = sorted(FORMATS)


def _inputs(fmt: FloatFormat, rng: np.random.Generator) -> np.ndarray:
    """Grid values, midpoints, neighbours and random values around a few random codes, plus specials."""
    mags = np.unique(np.concatenate([[0, 1, fmt.max_mag - 1, fmt.max_mag], rng.integers(0, fmt.max_mag, 5)]))
    mags = mags[(mags >= 0) & (mags <= fmt.max_mag)]
    lo = np.array([decode_code(int(c), fmt) for c in mags])
    hi = np.array([decode_code(int(c) + 1, fmt) if c < fmt.max_mag else 0.0 for c in mags])
    hi[mags == fmt.max_mag] = lo[mags == fmt.max_mag] + top_step(fmt)
    mid = (lo + hi) / 2
    x = np.concatenate([lo, mid, np.nextafter(mid, np.inf), np.nextafter(mid, -np.inf), lo + (hi - lo) * 0.3])
    e_lo = max(math.log2(float(fmt.min_subnormal)) - 3, -1074)
    e_hi = min(math.log2(float(fmt.max_finite)) + 3, 1023.9)
    x = np.concatenate([x, np.exp2(rng.uniform(e_lo, e_hi, 8)), [0.0, np.inf, 5e-324, 1e308]])
    x = np.concatenate([x, -x[rng.random(len(x)) < 0.5], [-0.0, -np.inf]])
    if fmt.has_nan:
        x = np.concatenate([x, [np.nan, -np.nan]])
    return x


@pytest.mark.parametrize("mode", list(Rounding), ids=lambda m: m.name.lower())
@pytest.mark.parametrize("name", ALL)
def test_vector_equals_scalar(name: str, mode: Rounding) -> None:
    fmt = FORMATS[name]
    rng = np.random.default_rng(zlib.crc32(f"{name}/{mode.name}".encode()))
    x = _inputs(fmt, rng)
    ns = [1, 9, 52] if mode.is_stochastic else [0]
    checked = 0
    for ovf in overflows_for(fmt):
        for n in ns:
            r = rng.integers(0, 1 << n, len(x), dtype=np.int64) if n else None
            vec = encode_reference(x, fmt, mode, ovf, r, n)
            for i, xi in enumerate(x):
                want = round_to_code(float(xi), fmt, mode, ovf, int(r[i]) if n else 0, n)
                assert int(vec[i]) == want, (repr(float(xi)), ovf.name, n, hex(int(vec[i])), hex(want))
                checked += 1
    assert checked >= 50
