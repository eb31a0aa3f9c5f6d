"""Helpers of the reference oracle tests: external oracles (ml_dtypes, gfloat) and input sets.

The oracle descriptions here are written from the format specs (formats.md §1), not derived from
lowprec's own format model, so a wrong constant in lowprec shows up as a mismatch.
"""

from __future__ import annotations

import functools
import re

import gfloat
import ml_dtypes
import numpy as np
from gfloat.formats import (
    format_info_bfloat16,
    format_info_binary16,
    format_info_binary32,
    format_info_ocp_e2m1,
    format_info_ocp_e2m3,
    format_info_ocp_e3m2,
    format_info_ocp_e4m3,
    format_info_ocp_e5m2,
    format_info_ocp_e8m0,
    format_info_p3109,
)
from gfloat.types import Domain, FormatInfo, RoundMode, Signedness

from lowprec.formats import FORMATS, FloatFormat
from lowprec.reference import decode_reference
from lowprec.rounding import Overflow, Rounding

#: Names of every named format of 16 bits or fewer (the exhaustive set).
SMALL: list[str] = sorted(n for n, f in FORMATS.items() if f.nbits <= 16)

#: ml_dtypes (or NumPy) scalar types by lowprec name.
MLDTYPES: dict[str, type] = {
    "bfloat16": ml_dtypes.bfloat16,
    "float16": np.float16,
    "float8_e5m2": ml_dtypes.float8_e5m2,
    "float8_e5m2fnuz": ml_dtypes.float8_e5m2fnuz,
    "float8_e4m3": ml_dtypes.float8_e4m3,
    "float8_e4m3fn": ml_dtypes.float8_e4m3fn,
    "float8_e4m3fnuz": ml_dtypes.float8_e4m3fnuz,
    "float8_e4m3b11fnuz": ml_dtypes.float8_e4m3b11fnuz,
    "float8_e3m4": ml_dtypes.float8_e3m4,
    "float8_e8m0fnu": ml_dtypes.float8_e8m0fnu,
    "float6_e2m3fn": ml_dtypes.float6_e2m3fn,
    "float6_e3m2fn": ml_dtypes.float6_e3m2fn,
    "float4_e2m1fn": ml_dtypes.float4_e2m1fn,
}


def _info(name: str, k: int, p: int, bias: int, *, ext: bool, nz: bool, high_nans: int) -> FormatInfo:
    return FormatInfo(
        name,
        k=k,
        precision=p,
        bias=bias,
        is_signed=True,
        domain=Domain.Extended if ext else Domain.Finite,
        has_nz=nz,
        num_high_nans=high_nans,
        has_subnormals=True,
        is_twos_complement=False,
    )


_GFLOAT_NAMED: dict[str, FormatInfo] = {
    "float32": format_info_binary32,
    "float16": format_info_binary16,
    "bfloat16": format_info_bfloat16,
    "float8_e5m2": format_info_ocp_e5m2,
    "float8_e4m3fn": format_info_ocp_e4m3,
    "float8_e8m0fnu": format_info_ocp_e8m0,
    "float6_e2m3fn": format_info_ocp_e2m3,
    "float6_e3m2fn": format_info_ocp_e3m2,
    "float4_e2m1fn": format_info_ocp_e2m1,
    # fnuz = P3109 finite signed formats (formats.md §1)
    "float8_e4m3fnuz": format_info_p3109(8, 4, Signedness.Signed, Domain.Finite),
    "float8_e5m2fnuz": format_info_p3109(8, 3, Signedness.Signed, Domain.Finite),
    # gfloat ships none of these; spelled out from formats.md §1
    "float8_e4m3b11fnuz": _info("e4m3b11fnuz", 8, 4, 11, ext=False, nz=False, high_nans=0),
    "float8_e4m3": _info("e4m3", 8, 4, 7, ext=True, nz=True, high_nans=7),
    "float8_e3m4": _info("e3m4", 8, 5, 3, ext=True, nz=True, high_nans=15),
    "tf32": _info("tf32", 19, 11, 127, ext=True, nz=True, high_nans=2**10 - 1),
    "fp22": _info("fp22", 22, 14, 127, ext=True, nz=True, high_nans=2**13 - 1),
}

_P3109 = re.compile(r"^p3109_k(\d+)p(\d+)([su])([ef])$")


def gfloat_info(name: str) -> FormatInfo | None:
    """gfloat's description of a lowprec format, or None where gfloat cannot express it."""
    if name in _GFLOAT_NAMED:
        return _GFLOAT_NAMED[name]
    m = _P3109.match(name)
    if m:
        sign = Signedness.Signed if m[3] == "s" else Signedness.Unsigned
        dom = Domain.Extended if m[4] == "e" else Domain.Finite
        return format_info_p3109(int(m[1]), int(m[2]), sign, dom)
    return None


#: lowprec rounding -> gfloat 0.5.2 RoundMode (0.5.2 has no ToOdd, no TiesToZero, no equal-prob SR).
GFLOAT_MODES: dict[Rounding, RoundMode] = {
    Rounding.NEAREST_EVEN: RoundMode.TiesToEven,
    Rounding.NEAREST_AWAY: RoundMode.TiesToAway,
    Rounding.TOWARD_ZERO: RoundMode.TowardZero,
    Rounding.TOWARD_POSITIVE: RoundMode.TowardPositive,
    Rounding.TOWARD_NEGATIVE: RoundMode.TowardNegative,
}

NAN_BITS = np.uint64(0x7FF8000000000000)


def canon_bits(v: np.ndarray) -> np.ndarray:
    """Float64 bit patterns with every NaN mapped to one pattern (NaN compared by class; -0 kept)."""
    v = np.asarray(v, dtype=np.float64)
    b = v.view(np.uint64).copy()
    b[np.isnan(v)] = NAN_BITS
    return b


@functools.cache
def decode_table(name: str) -> np.ndarray:
    """Read-only float64 values of every code of a format of 16 bits or fewer (cached)."""
    fmt = FORMATS[name]
    table = decode_reference(np.arange(1 << fmt.nbits, dtype=np.int64), fmt)
    table.setflags(write=False)
    return table


def decode_any(codes: np.ndarray, fmt: FloatFormat) -> np.ndarray:
    """Our decode of codes; cached tables for small formats, the vectorised reference otherwise."""
    if fmt.nbits <= 16 and fmt.name in FORMATS:
        return decode_table(fmt.name)[np.asarray(codes).astype(np.int64)]
    return decode_reference(codes, fmt)


def positive_grid(fmt: FloatFormat) -> np.ndarray:
    """Every positive finite value of a small format, ascending (exact float64)."""
    t = decode_table(fmt.name)
    v = np.unique(t[np.isfinite(t) & (t > 0)])
    return v


def top_step(fmt: FloatFormat) -> float:
    """The grid step just above the largest finite value (the unbounded grid continues there)."""
    fi = np.frexp(float(fmt.max_finite))[1] - 1
    return float(np.ldexp(1.0, int(fi) - fmt.mbits))


def grid_inputs(fmt: FloatFormat, rng: np.random.Generator, sample: int = 4096) -> np.ndarray:
    """Float64 inputs that probe every decision: grid values, midpoints and their neighbours.

    Works on magnitude codes: every code when there are at most ``sample``, otherwise the first and
    last 256, every binade boundary and a random sample. Both signs, zeros and specials included.
    """
    nmag = fmt.max_mag + 1
    if nmag <= sample:
        mags = np.arange(nmag, dtype=np.int64)
    else:
        edge = np.concatenate([np.arange(256), np.arange(nmag - 256, nmag)])
        step = 1 << fmt.mbits
        binades = np.arange(0, nmag, step, dtype=np.int64)
        mags = np.unique(np.concatenate([edge, binades, binades - 1, rng.integers(0, nmag, sample)]))
        mags = mags[(mags >= 0) & (mags < nmag)]
    lower = decode_any(mags, fmt)
    upper = np.where(mags < fmt.max_mag, decode_any(np.minimum(mags + 1, fmt.max_mag), fmt), 0.0)
    upper[mags == fmt.max_mag] = float(fmt.max_finite) + top_step(fmt)
    if not fmt.zero:  # below the minimum everything is the minimum: probe the gap to 0 too
        lower = np.concatenate([[lower[0] / 2], lower])
        upper = np.concatenate([[lower[1]], upper])
    mid = (lower + upper) / 2
    pieces = [
        lower,
        mid,
        np.nextafter(mid, np.inf),
        np.nextafter(mid, -np.inf),
        lower + (upper - lower) * rng.random(len(lower)),
        np.nextafter(upper, -np.inf),
    ]
    x = np.concatenate(pieces)
    x = x[x > 0]
    # random magnitudes across (and beyond) the whole range
    e_lo = max(np.log2(float(fmt.min_subnormal)) - 4, -1074)
    e_hi = min(np.log2(float(fmt.max_finite)) + 4, 1023.5)
    r = np.exp2(rng.uniform(e_lo, e_hi, 2000))
    specials = np.array([0.0, np.inf, 1e308, 5e-324, 1.0, 2.0, 0.5, 1 / 3])
    x = np.concatenate([x, r, specials])
    x = np.concatenate([x, -x, [-0.0, np.nan, -np.nan]])
    return x


def overflows_for(fmt: FloatFormat) -> list[Overflow]:
    """Every overflow policy the format supports."""
    out = [Overflow.SATURATE]
    if fmt.has_inf:
        out.append(Overflow.INFINITY)
    if fmt.has_nan:
        out.append(Overflow.NAN)
    return out


def splitmix64_np(z: np.ndarray) -> np.ndarray:
    """Vectorised SplitMix64 finaliser on uint64 (wrapping arithmetic)."""
    z = np.asarray(z, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def random_bits_np(seed: int, count: int, n: int) -> np.ndarray:
    """The documented counter-based stream (docs/development.md), written independently in NumPy."""
    key = splitmix64_np(np.uint64(seed % 2**64))
    i = np.arange(1, count + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = key + i * np.uint64(0x9E3779B97F4A7C15)
    return splitmix64_np(z) >> np.uint64(64 - n)


__all__ = [
    "GFLOAT_MODES",
    "MLDTYPES",
    "SMALL",
    "canon_bits",
    "decode_any",
    "decode_table",
    "gfloat",
    "gfloat_info",
    "grid_inputs",
    "overflows_for",
    "positive_grid",
    "random_bits_np",
    "top_step",
]
