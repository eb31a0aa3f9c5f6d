"""Fixed-point and MX block formats in ``jax.numpy`` (bit-identical to the NumPy API where supported).

Fixed point (``FixedFormat``/``IntFormat``): the input is classified by its bits, scaled by
``2**frac_bits`` (exact: the operand is first replaced by an equivalent normal float, see
:func:`fixed_work`), rounded with ``floor`` and comparisons on the exact fraction, and the
overflow applied to int32 codes. Limits: ``bits <= 24``, ``|int_bits| <= 100``,
``|frac_bits| <= 100``; the seven HLS modes plus ``TO_ODD``/``TRN_INF``; overflow ``WRAP``
(``sat_bits=0``), ``SAT``, ``SAT_ZERO``, ``SAT_SYM``.

Block formats with a power-of-two (E8M0) scale and the ``floor`` or ``ceil`` rule (``mxfp8_*``,
``mxfp6_*``, ``mxfp4``, ``mxint8``, ``bfpN``): the block amax is taken on the integer bits, the
scale exponent ``e`` from them, and the elements rounded by the float path with the element
format's exponent range shifted by ``e`` (the same as rounding ``x / 2**e``, with no arithmetic
that could flush subnormals); values are assembled from their bits.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .._fixed_modes import FixedOverflow as FO
from .._fixed_modes import FixedRounding as FR
from ..rounding import Overflow, Rounding
from ._impl import W32, W64, _Width, decode_bits, encode_bits, params_of

__all__ = ["block_work", "check_block", "check_fixed", "fixed_work"]

_FIXED_MODES = (FR.TRN, FR.TRN_ZERO, FR.RND, FR.RND_ZERO, FR.RND_MIN_INF, FR.RND_INF, FR.RND_CONV,
                FR.TO_ODD, FR.TRN_INF)  # fmt: skip
_FIXED_OVERFLOWS = (FO.WRAP, FO.SAT, FO.SAT_ZERO, FO.SAT_SYM)


def check_fixed(f: object, q: FR, o: FO, sat_bits: int) -> None:
    """Raise ``NotImplementedError`` for what the jax fixed-point path does not emulate exactly."""
    if q not in _FIXED_MODES:
        raise NotImplementedError(
            f"lowprec.jax fixed point supports {', '.join(m.name for m in _FIXED_MODES)}, not {q.name}"
        )
    if o not in _FIXED_OVERFLOWS or sat_bits:
        raise NotImplementedError(
            "lowprec.jax fixed point supports overflow WRAP (sat_bits=0), SAT, SAT_ZERO and SAT_SYM, "
            f"not {o.name} with sat_bits={sat_bits}"
        )
    if f.bits > 24 or abs(f.int_bits) > 100 or abs(f.frac_bits) > 100:  # type: ignore[attr-defined]
        raise NotImplementedError(
            f"lowprec.jax fixed point needs bits <= 24 and |int_bits|, |frac_bits| <= 100 (exact in "
            f"float32), got {f}; use the NumPy API or lowprec.torch"
        )


def _pow2(k: int, w: _Width) -> jax.Array:
    """``2**k`` as a float of the working width, built from bits (``k`` in the normal range)."""
    return lax.bitcast_convert_type(jnp.asarray((k + w.in_bias) << w.in_m, w.itype), w.ftype)


def fixed_work(xw: jax.Array, f: object, q: FR, o: FO, w: _Width) -> jax.Array:
    """``xw`` (float32/float64) rounded to the fixed-point format ``f``; NaN passes through.

    Exactness: values with ``0 < |x| < 2**-(F+2)`` (below a quarter LSB, subnormals included) are
    replaced by ``±2**-(F+2)``, which every mode rounds the same way; values with
    ``|x| >= 2**(IB+1)`` (saturating modes: certain overflow) are clamped to ``±2**(IB+1)``, and
    under ``WRAP`` values with ``|x| >= 2**(IB + p)`` (``p`` the significand bits, so ``x * 2**F`` is
    a multiple of ``2**bits``) give code 0. Everything left scales by ``2**F`` without rounding.
    """
    it, W = w.itype, w.bits
    B, IB, F = f.bits, f.int_bits, f.frac_bits  # type: ignore[attr-defined]
    ff = f
    xbits = lax.bitcast_convert_type(xw, it)
    neg = xbits < 0
    a = xbits & it((1 << (W - 1)) - 1)
    inf_bits = w.in_expmask << w.in_m
    is_nan = a > inf_bits
    is_inf = a == inf_bits
    sign = xbits & it(-(1 << (W - 1)))
    tb = it((w.in_bias - (F + 2)) << w.in_m)
    wrap = o == FO.WRAP
    big_exp = IB + (w.in_m + 1) if wrap else IB + 1
    gb = it((w.in_bias + big_exp) << w.in_m)
    tiny = (a != 0) & (a < tb)
    big = a >= gb
    sb = jnp.where(tiny, sign | tb, xbits)
    sb = jnp.where(big, it(0) if wrap else sign | gb, sb)
    v = lax.bitcast_convert_type(sb, w.ftype) * _pow2(F, w)
    if wrap:
        v = jnp.fmod(v, w.ftype(2.0**B))
    fl = jnp.floor(v)
    fr = v - fl
    fli = fl.astype(jnp.int32)
    odd = (fli & 1) == 1
    half = w.ftype(0.5)
    inexact = fr > 0
    above = fr > half
    tie = fr == half
    up = {
        FR.TRN: jnp.zeros_like(neg),
        FR.TRN_ZERO: neg & inexact,
        FR.TRN_INF: inexact,
        FR.RND: fr >= half,
        FR.RND_ZERO: above | (tie & neg),
        FR.RND_MIN_INF: above,
        FR.RND_INF: above | (tie & ~neg),
        FR.RND_CONV: above | (tie & odd),
        FR.TO_ODD: inexact & ~odd,
    }[q]
    r = fli + up.astype(jnp.int32)
    lo, hi = int(ff.min_code), int(ff.max_code)  # type: ignore[attr-defined]
    if o == FO.SAT:
        r = jnp.clip(r, lo, hi)
    elif o == FO.SAT_ZERO:
        r = jnp.where((r > hi) | (r < lo), 0, r)
    elif o == FO.SAT_SYM:  # a 1-bit signed format has max 0: its minimum stays (as the NumPy API)
        r = jnp.clip(r, -hi if ff.signed and B > 1 else lo, hi)  # type: ignore[attr-defined]
    else:
        r = r & jnp.int32((1 << B) - 1)
        if ff.signed:  # type: ignore[attr-defined]
            r = jnp.where(r >= (1 << (B - 1)), r - (1 << B), r)
    val = r.astype(w.ftype) * _pow2(-F, w)
    if wrap:
        val = jnp.where(is_inf, w.ftype(np.nan), val)
    return jnp.where(is_nan, xw, val)


def check_block(f: object, mode: Rounding) -> None:
    """Raise ``NotImplementedError`` for block formats the jax path does not emulate."""
    if not f.pow2_scale or f.scale_rule not in ("floor", "ceil") or f.tensor_scale:  # type: ignore[attr-defined]
        raise NotImplementedError(
            f"lowprec.jax supports block formats with power-of-two scales and the floor/ceil rules "
            f"(MX: mxfp8/mxfp6/mxfp4/mxint8, bfpN), not {f} (rule {f.scale_rule}); NVFP4 and the "  # type: ignore[attr-defined]
            "other rules: use the NumPy API or lowprec.torch"
        )
    if isinstance(f.block, tuple):  # type: ignore[attr-defined]
        raise NotImplementedError(f"lowprec.jax supports 1-D blocks only, not {f}")
    if mode.is_stochastic:
        raise NotImplementedError("lowprec.jax block formats do not support stochastic rounding yet")


def block_work(xw: jax.Array, f: object, axis: int, mode: Rounding, w: _Width) -> tuple[jax.Array, jax.Array]:
    """``(values, cap)`` of ``xw`` rounded to the block format ``f`` along ``axis``.

    ``cap`` is ``element_max * block scale`` per element (NaN for blocks with NaN/Inf), for the
    clipped estimator.
    """
    it, W, m = w.itype, w.bits, w.in_m
    ef = f.element_format  # type: ignore[attr-defined]
    B = int(f.block)  # type: ignore[attr-defined]
    xm = jnp.moveaxis(xw, axis, -1)
    L = xm.shape[-1]
    nb = -(-L // B)
    if nb * B != L:
        xm = jnp.pad(xm, [(0, 0)] * (xm.ndim - 1) + [(0, nb * B - L)])
    xb = xm.reshape((*xm.shape[:-1], nb, B))
    bits = lax.bitcast_convert_type(xb, it)
    a = bits & it((1 << (W - 1)) - 1)
    amax = jnp.max(a, axis=-1)
    bad = amax >= it(w.in_expmask << m)
    exf = amax >> m
    msb = (W - 1) - lax.clz(amax)
    E = jnp.where(exf == 0, msb + (1 - w.in_bias - m), exf - w.in_bias)
    if f.scale_rule == "ceil":  # type: ignore[attr-defined]
        pow2 = jnp.where(exf == 0, (amax & (amax - 1)) == 0, (amax & it((1 << m) - 1)) == 0)
        E = E + jnp.where(pow2, 0, 1).astype(it)
    e = jnp.clip(E - ef.emax_, -127, 127)
    e = jnp.where(amax == 0, it(-127), e)[..., None]
    p = list(params_of(ef, w))
    p[1] = p[1] + e  # emin
    p[2] = p[2] + e  # emax
    p = tuple(p)
    code = encode_bits(bits, p, int(mode), int(Overflow.SATURATE), None, 0, w)
    val = decode_bits(code, p, ef.mag_bits, w)
    cap = decode_bits(jnp.broadcast_to(it(ef.max_mag), code.shape), p, ef.mag_bits, w)
    if f.element_is_int:  # type: ignore[attr-defined]  # integer elements have no -0
        vb = lax.bitcast_convert_type(val, it)  # on bits: XLA CPU compares subnormals as 0
        val = jnp.where((vb & it((1 << (W - 1)) - 1)) == 0, jnp.zeros_like(val), val)
    nan = w.ftype(np.nan)
    val = jnp.where(bad[..., None], nan, val)
    cap = jnp.where(bad[..., None], nan, cap)

    def back(t: jax.Array) -> jax.Array:
        t = t.reshape((*t.shape[:-2], nb * B))[..., :L]
        return jnp.moveaxis(t, -1, axis)

    return back(val), back(cap)


def width_of(dtype: object) -> _Width:
    return W64 if np.dtype(dtype) == np.float64 else W32
