"""Round-to-nearest-even from float32 agrees with ml_dtypes' ``astype`` (formats.md §4 recipe 2).

ml_dtypes is only an oracle for float32 inputs (it double-rounds float64 through float32, §5.1),
and for E8M0 it rounds ties up, which is our ``nearest_away`` (§5.2). Formats without NaN get no
NaN inputs: ml_dtypes writes odd codes for them (§2) and lowprec's ``encode`` raises by contract.
"""

from __future__ import annotations

import numpy as np
import pytest
from reforacles import MLDTYPES, canon_bits, decode_table, positive_grid, top_step

from lowprec.formats import FORMATS
from lowprec.reference import encode_reference
from lowprec.rounding import Overflow, Rounding, default_overflow

#: Low 12 bits of the float32 patterns, under all 2**20 high-bit patterns. Every format here keeps
#: at most 10 of float32's 23 fraction bits, so these 12 bits lie below its rounding bit and act
#: only as sticky bits (zero or not): none, the lowest, the highest and all of them.
LOW_BITS = [0x000, 0x001, 0x800, 0xFFF]


def test_low_bits_are_sticky_only() -> None:
    """LOW_BITS samples only the sticky patterns: that needs every format here to keep <= 10 of
    float32's 23 fraction bits (its rounding bit is then bit 12 or higher, even for subnormal results)."""
    assert all(FORMATS[name].mbits <= 10 for name in MLDTYPES)


def _mode(name: str) -> Rounding:
    # ml_dtypes rounds E8M0 ties up (away from zero; all values are positive): formats.md §5.2
    return Rounding.NEAREST_AWAY if name == "float8_e8m0fnu" else Rounding.NEAREST_EVEN


def _check(name: str, x32: np.ndarray) -> None:
    fmt = FORMATS[name]
    if not fmt.has_nan:
        x32 = x32[~np.isnan(x32)]
    if name == "float8_e8m0fnu":
        # Not in formats.md §5, found here: ml_dtypes 0.6.0 rounds every float32 *subnormal* in
        # (2**-127, 1.5 * 2**-127) up to 2**-126 (0x01); the nearest value is 2**-127 (0x00).
        # lowprec's answer for these is pinned in test_edge_vectors.py.
        a = np.abs(x32.astype(np.float64))
        x32 = x32[~((a > 2.0**-127) & (a < 1.5 * 2.0**-127))]
    ovf: Overflow = default_overflow(fmt)
    got = encode_reference(x32, fmt, _mode(name), ovf)
    with np.errstate(invalid="ignore", over="ignore"):
        exp = x32.astype(MLDTYPES[name])
    exp_codes = exp.view(np.uint8 if fmt.nbits <= 8 else np.uint16)
    table = decode_table(name)
    # codes compared, NaN by class (ml_dtypes and lowprec agree on the sign of NaN only loosely)
    bad = canon_bits(table[got.astype(np.int64)]) != canon_bits(table[exp_codes.astype(np.int64)])
    if bad.any():
        i = np.flatnonzero(bad)[:8]
        detail = [(float(x32[j]), hex(int(got[j])), hex(int(exp_codes[j]))) for j in i]
        pytest.fail(f"{int(bad.sum())} mismatches (input, lowprec, ml_dtypes): {detail}")
    # identical codes where neither is NaN
    keep = ~np.isnan(table[exp_codes.astype(np.int64)])
    np.testing.assert_array_equal(got[keep], exp_codes[keep])


@pytest.mark.parametrize("low", LOW_BITS, ids=[f"low{b:03x}" for b in LOW_BITS])
@pytest.mark.parametrize("name", sorted(MLDTYPES))
def test_rne_sweep_all_float32_high_patterns(name: str, low: int) -> None:
    bits = (np.arange(1 << 20, dtype=np.uint32) << np.uint32(12)) | np.uint32(low)
    _check(name, bits.view(np.float32))


@pytest.mark.parametrize("name", sorted(MLDTYPES))
def test_rne_grid_midpoints_and_neighbours(name: str) -> None:
    """Every representable value, every midpoint and its float32 neighbours, both signs."""
    fmt = FORMATS[name]
    g = positive_grid(fmt)
    lower = np.concatenate([[0.0] if fmt.zero else [g[0] / 2], g])
    upper = np.concatenate([g[:1] if not fmt.zero else [], g, [g[-1] + top_step(fmt)]])[-len(lower) :]
    mid = (lower + upper) / 2
    mid32 = mid.astype(np.float32)
    exact = mid32.astype(np.float64) == mid
    assert exact.mean() > 0.99, "midpoints must be float32 numbers to be useful here"
    m = mid32[exact]
    x = np.concatenate(
        [g.astype(np.float32), m, np.nextafter(m, np.float32(np.inf)), np.nextafter(m, np.float32(-np.inf))]
    )
    x = np.concatenate([x, -x, np.array([0.0, -0.0, np.inf, -np.inf, np.nan], dtype=np.float32)])
    _check(name, x.astype(np.float32))
