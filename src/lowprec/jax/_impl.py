"""Float rounding written with ``jax.numpy`` integer bit operations (XLA fuses it into one kernel).

This is the integer algorithm of ``lowprec._numba._float.encode_one``, vectorised: every branch is
computed and selected with ``where``. float32 inputs (and float16/bfloat16, widened exactly to
float32) use 32-bit integers only, so nothing needs ``jax_enable_x64``; float64 inputs use 64-bit
integers and need x64. The format parameters may be Python ints (constants XLA folds) or traced
scalars (one compiled kernel for many formats, as the tests use).
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .._params import float_params
from ..formats._float import FloatFormat
from ..rounding import Overflow, Rounding

# flag bits of FloatParams.flags (lowprec._params)
F_SUB, F_ZERO, F_SIGNED, F_NEGZERO, F_INF, F_NAN, F_NANSIGN = 1, 2, 4, 8, 16, 32, 64
RNE, RNA, RNZ, RTZ, RTP, RTN, RTO, SR, SRE = range(9)
OV_SAT, OV_INF, OV_NAN = 0, 1, 2


@dataclasses.dataclass(frozen=True)
class _Width:
    """Integer types and input-float layout of one working precision."""

    bits: int
    itype: type
    utype: type
    ftype: type
    in_m: int
    in_bias: int
    in_expmask: int


W32 = _Width(32, jnp.int32, jnp.uint32, jnp.float32, 23, 127, 0xFF)
W64 = _Width(64, jnp.int64, jnp.uint64, jnp.float64, 52, 1023, 0x7FF)


def _is_static(*vals: object) -> bool:
    return all(isinstance(v, (int, np.integer)) for v in vals)


def _flag(flags: object, bit: int) -> object:
    """A flag as a Python bool (static flags) or a traced bool scalar."""
    if _is_static(flags):
        return bool(int(flags) & bit)
    return (flags & bit) != 0


def _sel(c: object, a: object, b: object) -> object:
    """``where`` that folds when the condition is a Python bool."""
    if isinstance(c, bool):
        return a if c else b
    return jnp.where(c, a, b)


def _not(c: object) -> object:
    """Logical not of a Python bool or a traced bool."""
    return (not c) if isinstance(c, bool) else ~c


def _band(c: object, arr: jax.Array) -> jax.Array:
    """``c & arr`` where ``c`` may be a Python bool."""
    if isinstance(c, bool):
        return arr if c else jnp.zeros_like(arr)
    return c & arr


def params_of(fmt: FloatFormat, w: _Width) -> tuple[int, ...]:
    """FloatParams as Python ints wrapped to the signed integer width (a 32-bit format's sign bit)."""
    out = []
    for v in float_params(fmt):
        v = int(v) & ((1 << w.bits) - 1)
        out.append(v - (1 << w.bits) if v >= (1 << (w.bits - 1)) else v)
    return tuple(out)


def encode_bits(
    xbits: jax.Array, p: tuple, mode: object, ovf: object, r: jax.Array | None, n: object, w: _Width
) -> jax.Array:
    """Codes (signed integers of the working width, two's-complement bit patterns) of ``xbits``.

    ``xbits`` is the input float reinterpreted as ``w.itype``; ``p`` the format parameters; ``r``
    the random integers (``w.utype``) for stochastic modes; ``mode``, ``ovf`` and ``n`` Python ints
    or traced scalars. A NaN input of a format without NaN gives code 0 (callers pass NaN through).
    """
    it, ut, W = w.itype, w.utype, w.bits
    mbits, emin, emax, max_mag, inf_mag, nan_code, sign_mask, flags = (
        v if _is_static(v) else jnp.asarray(v, it) for v in p
    )
    has_sub, has_zero, signed = _flag(flags, F_SUB), _flag(flags, F_ZERO), _flag(flags, F_SIGNED)
    has_negzero, has_inf, has_nan = _flag(flags, F_NEGZERO), _flag(flags, F_INF), _flag(flags, F_NAN)
    nan_sign = _flag(flags, F_NANSIGN)
    one = it(1)

    neg = xbits < 0
    a = xbits & it((1 << (W - 1)) - 1)
    exf = a >> w.in_m
    mant = a & it((1 << w.in_m) - 1)
    special = exf == w.in_expmask
    is_nan = special & (mant != 0)
    is_inf = special & (mant == 0)
    zero_in = a == 0
    sub_in = exf == 0
    msb = (W - 1) - lax.clz(a)
    sig = jnp.where(sub_in, a, mant | it(1 << w.in_m))
    sub_lsb = 1 - w.in_bias - w.in_m
    ex = jnp.where(sub_in, sub_lsb + msb, exf - w.in_bias)
    lsb = jnp.where(sub_in, it(sub_lsb), ex - w.in_m)

    huge = ex > emax + 1
    below = ex < emin
    nozero_below = _band(_not(has_zero), below)
    qexp = jnp.where(below, _sel(has_sub, emin - mbits, emin), ex - mbits)
    s = qexp - lsb
    le0 = s <= 0
    big = s >= W - 1
    sc = jnp.clip(s, 0, W - 2)
    t = jnp.where(le0, sig << jnp.clip(-s, 0, W - 1), jnp.where(big, it(0), sig >> sc))
    rem = jnp.where(le0, it(0), jnp.where(big, sig, sig & ((one << sc) - 1)))
    lo_norm = ((ex - emin + _sel(has_zero, one, it(0))) << mbits) + t - (one << mbits)
    lo = jnp.where(below, _sel(has_sub, t, jnp.zeros_like(t)), lo_norm)
    hi = jnp.where(below, _sel(has_sub, t + 1, jnp.broadcast_to(one << mbits, t.shape)), lo_norm + 1)
    inexact = rem != 0
    odd = (lo & 1) == 1

    def nearest(tie_up: jax.Array | bool) -> jax.Array:
        half = one << jnp.clip(s - 1, 0, W - 2)
        return ~big & ((rem > half) | ((rem == half) & tie_up))

    def stochastic() -> jax.Array:
        d = s - n
        ru = rem.astype(ut)
        frac = jnp.where(
            d >= 0, ru >> jnp.clip(d, 0, W - 1).astype(ut), ru << jnp.clip(-d, 0, W - 1).astype(ut)
        )
        maskn = jnp.asarray(np.iinfo(np.dtype(ut)).max, ut) >> jnp.asarray(W - n, ut)
        return r > maskn - frac

    def stochastic_equal() -> jax.Array:
        maskn = jnp.asarray(np.iinfo(np.dtype(ut)).max, ut) >> jnp.asarray(W - n, ut)
        return r > (maskn >> 1)

    choices = [
        lambda: nearest(odd),
        lambda: nearest(True),
        lambda: nearest(False),
        lambda: jnp.zeros_like(neg),
        lambda: ~neg,
        lambda: neg,
        lambda: ~odd,
        stochastic,
        stochastic_equal,
    ]
    if _is_static(mode):
        up = choices[int(mode)]()
    else:
        n_modes = len(choices) if r is not None else SR
        up = jnp.select([mode == k for k in range(n_modes)], [c() for c in choices[:n_modes]], False)
    rounded = jnp.where(inexact & up, hi, lo)
    mag = jnp.where(huge, max_mag + 1, jnp.where(nozero_below, it(0), rounded))
    mag = jnp.where(zero_in | special, it(0), mag)
    over = is_inf | (~(zero_in | special) & (mag > max_mag))

    if _is_static(mode):
        m = int(mode)
        if m in (RTZ, RTO):
            toward_zero = ~is_inf
        elif m == RTN:
            toward_zero = ~neg & ~is_inf
        elif m == RTP:
            toward_zero = neg & ~is_inf
        else:
            toward_zero = jnp.zeros_like(neg)
    else:
        toward_zero = (
            (mode == RTZ) | (mode == RTO) | ((mode == RTN) & ~neg) | ((mode == RTP) & neg)
        ) & ~is_inf
    pol_sat = (int(ovf) == OV_SAT) if _is_static(ovf) else ovf == OV_SAT
    pol_inf = (int(ovf) == OV_INF) if _is_static(ovf) else ovf == OV_INF
    sat = toward_zero | pol_sat
    mag = jnp.where(over & sat, max_mag, mag)
    to_inf = _band(has_inf, over & ~sat & (is_inf | pol_inf))
    mag = jnp.where(to_inf, inf_mag, mag)
    nan_out = is_nan | (over & ~sat & ~to_inf)

    c1 = _band(_not(signed), neg & ~nan_out)
    ok1 = (mag == 0) & ~is_inf
    bad1 = c1 & ~_band(has_zero, ok1)
    c2 = ~c1 & _band(_not(has_zero), zero_in & ~nan_out)
    bad = bad1 | c2
    mag = jnp.where(_band(pol_sat, bad), it(0), mag)
    nan_out = nan_out | _band(_not(pol_sat), bad)
    neg = neg & ~c1

    nan_c = jnp.where(_band(nan_sign, _band(signed, neg)), nan_code | sign_mask, nan_code)
    nan_c = _sel(has_nan, nan_c, jnp.zeros_like(nan_c))
    neg_s = _band(signed, neg)
    signed_c = jnp.where(_band(_not(has_negzero), mag == 0), it(0), mag | sign_mask)
    code = jnp.where(neg_s, signed_c, mag)
    return jnp.where(nan_out, nan_c, code)


def _make_float(sig: jax.Array, e: jax.Array, neg: jax.Array, w: _Width) -> jax.Array:
    """The float ``(-1)**neg * sig * 2**e`` built from its bits (no arithmetic: XLA CPU flushes subnormals).

    ``sig < 2**(w.in_m + 1)`` and the value must be representable (or overflow to infinity).
    """
    it, m, bias, W = w.itype, w.in_m, w.in_bias, w.bits
    k = (W - 1) - lax.clz(sig)  # msb of sig
    ev = e + k  # exponent of the value
    frac = (sig << jnp.clip(m - k, 0, W - 1)) & it((1 << m) - 1)
    normal = ((ev + bias).astype(it) << m) | frac
    emin_sub = 1 - bias - m  # exponent of the smallest subnormal
    d = e - emin_sub
    subn = jnp.where(d >= 0, sig << jnp.clip(d, 0, W - 1), sig >> jnp.clip(-d, 0, W - 1))
    inf = it(((1 << (W - 1 - m)) - 1) << m)
    bits = jnp.where(ev > bias, inf, jnp.where(ev >= 1 - bias, normal, subn))
    bits = jnp.where(sig == 0, it(0), bits)
    bits = jnp.where(neg, bits | it(-(1 << (W - 1))), bits)
    return lax.bitcast_convert_type(bits, w.ftype)


def decode_bits(code: jax.Array, p: tuple, mag_bits: int, w: _Width) -> jax.Array:
    """Values of codes in the working float type, assembled bit by bit (formats wider than 16 bits)."""
    it, ft = w.itype, w.ftype
    mbits, emin, _emax, max_mag, inf_mag, nan_code, sign_mask, flags = p
    has_zero, has_inf = _flag(flags, F_ZERO), _flag(flags, F_INF)
    neg = (code & it(sign_mask)) != 0 if sign_mask else jnp.zeros(code.shape, bool)
    mag = code & it((1 << mag_bits) - 1)
    sgn = jnp.where(neg, ft(-1), ft(1))  # only multiplies NaN and Inf
    ef = mag >> mbits
    mf = mag & it((1 << mbits) - 1)
    z = 1 if has_zero else 0
    sub = (ef == 0) if has_zero else jnp.zeros(code.shape, bool)
    sig = jnp.where(sub, mf, mf + it(1 << mbits))
    e = jnp.where(sub, it(emin - mbits), ef - z + emin - mbits)
    val = _make_float(sig, e, neg, w)
    val = jnp.where(mag > max_mag, sgn * ft(np.nan), val)
    if has_inf:
        val = jnp.where(mag == inf_mag, sgn * ft(np.inf), val)
    if sign_mask and nan_code == sign_mask:
        val = jnp.where(code == it(sign_mask), ft(-np.nan), val)
    return val


@functools.lru_cache(maxsize=256)
def lut_np(fmt: FloatFormat, work: type) -> np.ndarray:
    """The value of every code of a format of <= 16 bits, as the NumPy API computes it."""
    from .._api import _lut

    return np.ascontiguousarray(_lut(fmt, np.dtype(np.float64 if work is jnp.float64 else np.float32)))


def quantize_work(
    xw: jax.Array,
    fmt: FloatFormat,
    mode: Rounding,
    ovf: Overflow,
    r: jax.Array | None,
    n: int,
    w: _Width,
) -> jax.Array:
    """``xw`` (float32 or float64) rounded to ``fmt``; the format and mode are static."""
    if fmt.mag_bits > w.bits - 1 or (fmt.nbits > 16 and fmt.mbits > w.in_m):
        raise NotImplementedError(
            f"{fmt} is too wide for {w.bits}-bit integer emulation of {np.dtype(w.ftype).name} inputs; "
            "enable jax_enable_x64 and pass float64"
        )
    xbits = lax.bitcast_convert_type(xw, w.itype)
    p = params_of(fmt, w)
    code = encode_bits(xbits, p, int(mode), int(ovf), r, n, w)
    if fmt.nbits <= 16:
        val = jnp.asarray(lut_np(fmt, w.ftype))[code]
    else:
        val = decode_bits(code, p, fmt.mag_bits, w)
    if not fmt.has_nan:
        val = jnp.where(jnp.isnan(xw), xw, val)
    return val


def quantize_traced(
    xw: jax.Array,
    p: jax.Array,
    mode: jax.Array,
    ovf: jax.Array,
    r: jax.Array,
    n: jax.Array,
    lut: jax.Array,
) -> jax.Array:
    """The same rounding with every format parameter, mode and policy traced (formats <= 16 bits).

    ``p`` is the int32 vector of :func:`params_of` and ``lut`` the code values padded to any length.
    One compiled kernel then serves every format and mode (used by the test-suite sweeps).
    """
    w = W64 if xw.dtype == jnp.float64 else W32
    xbits = lax.bitcast_convert_type(xw, w.itype)
    pt = tuple(p[i].astype(w.itype) for i in range(8))
    code = encode_bits(xbits, pt, mode, ovf, r.astype(w.utype), n, w)
    val = lut[code]
    no_nan = (p[7] & F_NAN) == 0
    return jnp.where(no_nan & jnp.isnan(xw), xw, val)
