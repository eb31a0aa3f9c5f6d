"""Every code of every format of 16 bits or fewer decodes exactly as ml_dtypes and gfloat say."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest
from gfloat import decode_ndarray
from reforacles import MLDTYPES, SMALL, canon_bits, decode_table, gfloat_info

from lowprec.formats import FORMATS
from lowprec.reference import decode_code, decode_reference


def test_every_small_format_has_an_oracle() -> None:
    missing = [n for n in SMALL if gfloat_info(n) is None]
    assert missing == []
    assert set(MLDTYPES) <= set(SMALL)


@pytest.mark.parametrize("name", sorted(MLDTYPES))
def test_decode_matches_ml_dtypes(name: str) -> None:
    fmt = FORMATS[name]
    codes = np.arange(1 << fmt.nbits, dtype=np.uint8 if fmt.nbits <= 8 else np.uint16)
    expected = codes.view(MLDTYPES[name]).astype(np.float64)
    got = decode_table(name)
    np.testing.assert_array_equal(canon_bits(got), canon_bits(expected))


@pytest.mark.parametrize("name", SMALL)
def test_decode_matches_gfloat(name: str) -> None:
    fmt = FORMATS[name]
    fi = gfloat_info(name)
    assert fi is not None and fi.k == fmt.nbits
    codes = np.arange(1 << fmt.nbits, dtype=np.uint64)
    expected = decode_ndarray(fi, codes)
    np.testing.assert_array_equal(canon_bits(decode_table(name)), canon_bits(expected))


@pytest.mark.parametrize("name", SMALL)
def test_decode_structure(name: str) -> None:
    """Non-NaN codes decode to distinct values, magnitudes increase with the code, signs mirror.

    With this, comparing decoded values bit for bit (NaN by class) is comparing codes.
    """
    fmt = FORMATS[name]
    t = decode_table(name)
    ok = ~np.isnan(t)
    bits = canon_bits(t[ok])
    assert len(np.unique(bits)) == len(bits)
    nmag = 1 << fmt.mag_bits
    pos = t[:nmag]
    finite = pos[: fmt.max_mag + 1]
    assert np.all(np.isfinite(finite)) and np.all(np.diff(finite) > 0)
    assert finite[-1] == float(fmt.max_finite)
    if fmt.signed:
        neg = t[nmag:]
        both = ~np.isnan(neg) & ~np.isnan(pos)
        np.testing.assert_array_equal(neg[both], -pos[both])


@pytest.mark.parametrize("name", SMALL)
def test_scalar_decode_code_agrees(name: str) -> None:
    """The scalar definition on a sample of codes (decode_reference is built from it on small formats)."""
    fmt = FORMATS[name]
    n = 1 << fmt.nbits
    rng = np.random.default_rng(zlib.crc32(name.encode()))  # hash() is salted per process
    codes = np.unique(
        np.concatenate([np.arange(min(n, 512)), np.arange(max(0, n - 512), n), rng.integers(0, n, 512)])
    )
    t = decode_table(name)
    got = np.array([decode_code(int(c), fmt) for c in codes])
    np.testing.assert_array_equal(canon_bits(got), canon_bits(t[codes]))
    with pytest.raises(ValueError):
        decode_code(n, fmt)


@pytest.mark.parametrize("name", ["float32", "float64"])
def test_decode_wide_formats_match_numpy(name: str) -> None:
    fmt = FORMATS[name]
    dt, ut = (np.float32, np.uint32) if name == "float32" else (np.float64, np.uint64)
    rng = np.random.default_rng(7)
    codes = rng.integers(0, 2**fmt.nbits, 3000, dtype=np.uint64).astype(ut)
    special = np.array([0, 1, 2**fmt.mag_bits - 1, 2**fmt.mag_bits, 2**fmt.nbits - 1], dtype=ut)
    specials = np.array([f.view(ut) for f in np.array([np.inf, -np.inf, -0.0, 1.0], dtype=dt)], dtype=ut)
    codes = np.concatenate([codes, special, specials])
    expected = codes.view(dt).astype(np.float64)
    got = decode_reference(codes, fmt)
    np.testing.assert_array_equal(canon_bits(got), canon_bits(expected))
    assert math.isnan(decode_code(int(codes[-4] | 1), fmt))  # +Inf code with a payload bit is NaN
