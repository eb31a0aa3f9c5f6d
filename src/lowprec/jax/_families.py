"""Fixed-point and block formats in ``jax.numpy`` integer bit operations (bit-identical to the NumPy API).

Fixed point (``FixedFormat``/``IntFormat``): the input's bits give ``|x| * 2**F = sig * 2**s``; the
integer part ``T`` (its low ``W`` bits and whether it is wider than ``W`` bits), the remainder
below the LSB and the random integer decide rounding, which gives the magnitude ``M`` of the rounded
integer; the overflow stage (``WRAP`` with saturation bits, ``WRAP_SM``, ``SAT``...) works on
``bits``-bit patterns, as ``lowprec._numba._fixed``. Values are assembled from the code's bits with
one rounding to nearest even (no float arithmetic, which XLA on CPU flushes when subnormal). The
working width ``W`` is 32 (float16/bfloat16/float32 input, ``bits <= 32``, ``n_random_bits <= 32``)
or 64 (float64 input or wider formats; needs ``jax_enable_x64``).

Block formats: the blocks (1-D along one axis or 2-D tiles, ragged edges padded with zeros) are
gathered on a trailing axis. Power-of-two rules (``floor``, ``ceil``, ``even``, ``rceil``) take the
scale exponent ``e`` from the block amax's bits and round the elements with the element format's
exponent range shifted by ``e``. The ``amax`` rule (NVFP4, optional float32 tensor scale) divides
exactly: a restoring long division gives a ``W - 2``-bit quotient with a sticky last bit (round to
odd), which every deterministic mode rounds as the exact quotient (and stochastic rounding too
while ``n_random_bits <= W - 4 - element mantissa bits``); values are ``element x scale x g``
assembled from the exact integer product.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .._fixed_modes import FixedOverflow as FO
from .._fixed_modes import FixedRounding as FR
from ..rounding import Overflow, Rounding
from ._impl import F_ZERO, W32, W64, _Width, decode_bits, encode_bits, params_of

__all__ = ["block_width", "block_work", "fixed_keep", "fixed_width", "fixed_work", "width_of"]


def _x64() -> bool:
    return bool(jax.config.jax_enable_x64)


# ---- integer helpers ----------------------------------------------------------------------------------


def _all(w: _Width) -> jax.Array:
    return w.utype((1 << w.bits) - 1)


def _mask(k: int, w: _Width) -> jax.Array:
    """Unsigned constant with the low ``k`` bits set (``0 <= k <= W``, static)."""
    return w.utype((1 << k) - 1)


def _shl(a: jax.Array, k: jax.Array, w: _Width) -> jax.Array:
    """``a << k`` with ``k`` clipped to ``[0, W-1]`` (callers select away the clipped lanes)."""
    return lax.shift_left(a, jnp.clip(k, 0, w.bits - 1).astype(a.dtype))


def _shr(a: jax.Array, k: jax.Array, w: _Width) -> jax.Array:
    """Logical ``a >> k`` (``a`` unsigned) with ``k`` clipped to ``[0, W-1]``."""
    return lax.shift_right_logical(a, jnp.clip(k, 0, w.bits - 1).astype(a.dtype))


def _lowmask(k: jax.Array, w: _Width) -> jax.Array:
    """Unsigned mask of the low ``k`` bits, ``k`` traced (``<= 0``: none, ``>= W``: all)."""
    m = _shl(w.utype(1), k, w) - w.utype(1)
    return jnp.where(k >= w.bits, _all(w), jnp.where(k <= 0, w.utype(0), m))


def _msb(v: jax.Array, w: _Width) -> jax.Array:
    """Position of the highest set bit of ``v`` as ``w.itype`` (-1 for 0)."""
    return w.itype(w.bits - 1) - lax.clz(v).astype(w.itype)


def float_bits(
    mag: jax.Array, e: jax.Array, neg: jax.Array, w: _Width, tm: int, tbias: int, tw: int, down: bool = False
) -> jax.Array:
    """Bits of ``(-1)**neg * mag * 2**e`` rounded once to nearest even (``down``: toward zero) to the
    IEEE binary format with ``tm`` mantissa bits, bias ``tbias`` and ``tw`` bits (``tw <= W``);
    overflow gives Inf.

    ``mag`` is ``w.utype``, ``e`` ``w.itype``. Returns the bits as ``int32`` (``tw == 32``) or
    ``int64`` (``tw == 64``), built without float arithmetic (XLA on CPU flushes subnormals).
    """
    it, ut, W = w.itype, w.utype, w.bits
    k = _msb(mag, w)
    qe = jnp.maximum(e + k, it(1 - tbias)) - tm  # exponent of the quantum
    sh = qe - e  # bits dropped
    t = jnp.where(sh >= W, ut(0), _shr(mag, sh, w))
    rem = mag & _lowmask(sh, w)
    half = _shl(ut(1), sh - 1, w)
    up = (sh >= 1) & (sh <= W) & ((rem > half) | ((rem == half) & ((t & ut(1)) == ut(1))))
    if down:
        up = jnp.zeros_like(up)
    sig = jnp.where(sh <= 0, _shl(mag, -sh, w), t + up.astype(ut))  # <= 2**(tm+1); value sig * 2**qe
    field = qe + (tm + tbias - 1)  # exponent field of sig = 2**tm (0: subnormal)
    top = (1 << (tw - 1 - tm)) - 1  # the Inf exponent field
    over = (field + (sig >> tm).astype(it)) >= top
    fieldc = jnp.clip(field, 0, top).astype(it)
    bits = lax.shift_left(fieldc, it(tm)) + sig.astype(it)
    bits = jnp.where(over, it(top << tm), bits)
    bits = jnp.where(sig == 0, it(0), bits)
    ot = jnp.int32 if tw == 32 else jnp.int64
    bits = bits.astype(ot)
    return jnp.where(neg, bits | ot(-(1 << (tw - 1))), bits)


def _bits_to(bits: jax.Array, tw: int) -> jax.Array:
    return lax.bitcast_convert_type(bits, jnp.float32 if tw == 32 else jnp.float64)


def _f64_bits_to_f32(b64: jax.Array) -> jax.Array:
    """Finite float64 bits (int64) rounded to float32 (nearest even, subnormals exact), as float32."""
    ub = lax.bitcast_convert_type(b64, jnp.uint64)
    neg = (ub >> jnp.uint64(63)) == jnp.uint64(1)
    a = ub & jnp.uint64((1 << 63) - 1)
    exf = (a >> jnp.uint64(52)).astype(jnp.int64)
    mant = a & jnp.uint64((1 << 52) - 1)
    sig = jnp.where(exf == 0, mant, mant | jnp.uint64(1 << 52))
    e = jnp.where(exf == 0, jnp.int64(-1074), exf - 1075)
    return _bits_to(float_bits(sig, e, neg, W64, 23, 127, 32), 32)  # finite inputs only


def _split(xw: jax.Array, w: _Width) -> tuple:
    """``(neg, a, sig, e)`` of a float array: magnitude bits ``a`` and ``|x| = sig * 2**e`` (finite)."""
    ut, it, m = w.utype, w.itype, w.in_m
    xb = lax.bitcast_convert_type(xw, ut)
    neg = (xb >> ut(w.bits - 1)) == ut(1)
    a = xb & _mask(w.bits - 1, w)
    exf = (a >> ut(m)).astype(it)
    mant = a & _mask(m, w)
    sig = jnp.where(exf == 0, mant, mant | ut(1 << m))
    e = jnp.where(exf == 0, it(1 - w.in_bias - m), exf - (w.in_bias + m))
    return neg, a, sig, e


# ---- fixed point ----------------------------------------------------------------------------------------


def fixed_width(f: object, q: FR, n: int, wide_input: bool) -> _Width:
    """The working width for a fixed-point format (raises where 64 bits are needed without x64)."""
    need64 = wide_input or f.bits > 32 or (q.is_stochastic and n > 32)  # type: ignore[attr-defined]
    if need64 and not _x64():
        raise ValueError(
            f"lowprec.jax needs jax_enable_x64 for fixed-point formats over 32 bits or more than 32 random "
            f"bits (got {f} with n_random_bits={n}): jax.config.update('jax_enable_x64', True)"
        )
    return W64 if need64 else W32


def fixed_work(
    xw: jax.Array, f: object, q: FR, o: FO, nsat: int, r: jax.Array | None, n: int, w: _Width, out_w: int
) -> jax.Array:
    """``xw`` (float of width ``w``) rounded to the fixed-point format ``f``; NaN passes through.

    ``out_w`` is 32 or 64: the float width of the result (32 from a 64-bit working width means
    float32 input of a wide format: the value is rounded to float64 first, as the NumPy API does).
    """
    it, ut, W = w.itype, w.utype, w.bits
    B, F, signed = f.bits, f.frac_bits, f.signed  # type: ignore[attr-defined]
    one, zero_u = ut(1), ut(0)
    neg, a, sig, e2 = _split(xw, w)
    inf_bits = ut(w.in_expmask << w.in_m)
    is_nan = a > inf_bits
    is_inf = a == inf_bits
    zero = a == 0
    s = e2 + it(F)  # |x| * 2**F = sig * 2**s
    spos = s >= 0
    k = -s
    t_hi = jnp.where(s < W, _shl(sig, s, w), zero_u)  # T mod 2**W for s >= 0
    big = (spos & ~zero & (_msb(sig, w) + 1 + s > W)) | is_inf
    t_lo = jnp.where(k >= W, zero_u, _shr(sig, k, w))
    rem = jnp.where(spos, zero_u, sig & _lowmask(k, w))
    T = jnp.where(spos, t_hi, t_lo)
    inexact = rem != 0
    half = _shl(one, k - 1, w)  # 2**(W-1) (above every remainder) when k > W
    gt = jnp.where(neg, inexact & (rem < half), rem > half)
    tie = inexact & (rem == half)
    U = T + (neg & inexact).astype(ut)  # |floor| for negative values
    odd = (U & one) == one
    if q.is_stochastic:
        maskn = _all(w) >> ut(W - n)
        if q == FR.STOCHASTIC:
            d = k - n
            fl_a = _shl(rem, n - k, w)
            fl_b = jnp.where(d >= W, zero_u, _shr(rem, d, w))
            ce_b = fl_b + ((rem & _lowmask(d, w)) != 0).astype(ut)
            fl = jnp.where(k <= n, fl_a, fl_b)
            ce = jnp.where(k <= n, fl_a, ce_b)
            up = jnp.where(neg, inexact & (r >= ce), r > maskn - fl)
        else:
            up = inexact & (r > (maskn >> one))
    else:
        up = {
            FR.TRN: jnp.zeros_like(neg),
            FR.TRN_ZERO: neg & inexact,
            FR.TRN_INF: inexact,
            FR.RND: gt | tie,
            FR.RND_ZERO: gt | (tie & neg),
            FR.RND_MIN_INF: gt,
            FR.RND_INF: gt | (tie & ~neg),
            FR.RND_CONV: gt | (tie & odd),
            FR.TO_ODD: inexact & ~odd,
        }[q]
    upu = up.astype(ut)
    M = jnp.where(neg, U - upu, T + upu)  # magnitude of the rounded integer (exact unless big)
    r_lo = jnp.where(neg, zero_u - M, M)  # its low W bits, two's complement
    maskb = _mask(B, w)
    msb = ut(1 << (B - 1))
    if signed:
        lim = jnp.where(neg, msb, msb - one)
    else:
        lim = jnp.where(neg, zero_u, maskb)
    in_range = ~big & (M <= lim)
    v = r_lo & maskb
    out = v
    if o == FO.SAT_SYM and signed:
        out = jnp.where(in_range & neg & (M == msb), msb | one, out)
    oor = ~in_range
    mid = ut(((1 << (nsat - 1)) - 1) << (B - nsat)) if nsat > 1 else zero_u
    if o == FO.WRAP:
        if nsat:
            if signed:
                adj = jnp.where(neg, v & ~mid, v | mid)
                adj = jnp.where(neg, adj | msb, adj & ~msb)
            else:
                adj = v | ut(((1 << nsat) - 1) << (B - nsat))
            out = jnp.where(oor, adj, out)
    elif o in (FO.SAT, FO.SAT_SYM):
        if signed:
            sat = jnp.where(neg, msb | (one if o == FO.SAT_SYM else zero_u), msb - one)
        else:
            sat = jnp.where(neg, zero_u, maskb)
        out = jnp.where(oor, sat, out)
    elif o == FO.SAT_ZERO:
        out = jnp.where(oor, zero_u, out)
    else:  # WRAP_SM (signed formats)
        ro = ((v >> ut(B - 1)) & one) == one
        inv = ~v & maskb
        if nsat == 0:
            if B < W:  # bit B of the floor, from its low W bits
                ld = ((jnp.where(neg, zero_u - U, U) >> ut(B)) & one) == one
            else:  # bit W of the floor: of |floor| (s >= 0 only), flipped by the negation's borrow
                bit_u = spos & (s <= W) & (W - s <= w.in_m) & ((_shr(sig, W - s, w) & one) == one)
                ld = bit_u ^ (neg & (U != 0))
            adj = jnp.where(ld != ro, jnp.where(ld, inv | msb, inv & ~msb), v)
        else:
            if nsat == 1:
                adj = jnp.where(neg != ro, inv, v)
            else:
                lno = ((v >> ut(B - nsat)) & one) == one
                adj = jnp.where(lno == neg, inv, v)
                adj = jnp.where(neg, adj & ~mid, adj | mid)
            adj = jnp.where(neg, adj | msb, adj & ~msb)
        out = jnp.where(oor, adj, out)
    p = out & maskb
    negc = ((p >> ut(B - 1)) & one) == one if signed else jnp.zeros_like(neg)
    mag = jnp.where(negc, (maskb - p) + one, p)
    eF = jnp.full(p.shape, -F, it)
    if out_w == W:
        val = _bits_to(float_bits(mag, eF, negc, w, w.in_m, w.in_bias, W), W)
    else:  # float32 result of a 64-bit working width: float64 first, as the NumPy API
        val = _f64_bits_to_f32(float_bits(mag, eF, negc, w, 52, 1023, 64))
    xo = xw.astype(val.dtype)
    if o in (FO.WRAP, FO.WRAP_SM):
        val = jnp.where(is_inf, val.dtype.type(np.nan), val)
    return jnp.where(is_nan, xo, val)


def _directed(v: Fraction, dtype: type, down: bool) -> float:
    """The float of ``dtype`` nearest ``v`` on the side ``down`` (<= v) or up (>= v)."""
    with np.errstate(over="ignore"):
        y = np.asarray(float(v)).astype(dtype)
    if np.isfinite(y):
        fy = Fraction(float(y))
        if down and fy > v:
            y = np.nextafter(y, dtype(-np.inf))
        elif not down and fy < v:
            y = np.nextafter(y, dtype(np.inf))
    return y


def fixed_keep(xw: jax.Array, f: object) -> jax.Array:
    """``fmt.min <= x <= fmt.max``, exactly (for the clipped estimator)."""
    dt = np.dtype(xw.dtype).type
    lo = _directed(f.min, dt, down=False)  # type: ignore[attr-defined]
    hi = _directed(f.max, dt, down=True)  # type: ignore[attr-defined]
    return (xw >= lo) & (xw <= hi)


# ---- block formats ------------------------------------------------------------------------------------


def block_width(f: object, mode: Rounding, n: int, wide_input: bool) -> _Width:
    """The working width for a block format (64 where the format or ``n`` needs it, with x64)."""
    ef = f.element_format  # type: ignore[attr-defined]
    if f.pow2_scale:  # type: ignore[attr-defined]
        need = mode.is_stochastic and n > 32
        why = "more than 32 random bits"
    else:
        ts = 24 if f.tensor_scale else 0  # type: ignore[attr-defined]
        sm = f.scale.mbits  # type: ignore[attr-defined]
        need = (
            (ef.mbits + 1) + (sm + 1) + ts > 32
            or (sm + 1) + ts > 30
            or (ef.mbits + 1) + ts > 30
            or (mode.is_stochastic and n > 28 - ef.mbits)
        )
        why = f"more than {28 - ef.mbits} random bits (or this element/scale precision) with the amax rule"
    need = need or wide_input
    if need and not _x64():
        raise ValueError(f"lowprec.jax needs jax_enable_x64 for {f} with {why}: "
                         "jax.config.update('jax_enable_x64', True)")  # fmt: skip
    return W64 if need else W32


def _to_blocks(t: jax.Array, axes: tuple, blk: tuple) -> tuple:
    """``t`` with the blocks gathered on the last axis (zero padded), and the function undoing it."""
    nd, nb_ax = t.ndim, len(axes)
    tm = jnp.moveaxis(t, axes, tuple(range(nd - nb_ax, nd)))
    lens = tm.shape[nd - nb_ax :]
    lead = tm.shape[: nd - nb_ax]
    nbs = tuple(-(-ln // b) for ln, b in zip(lens, blk))
    pads = [(0, 0)] * len(lead) + [(0, nb * b - ln) for nb, b, ln in zip(nbs, blk, lens)]
    if any(p[1] for p in pads):
        tm = jnp.pad(tm, pads)
    L = len(lead)
    if nb_ax == 1:
        tb = tm.reshape((*lead, nbs[0], blk[0]))
    else:
        tb = tm.reshape((*lead, nbs[0], blk[0], nbs[1], blk[1]))
        tb = jnp.transpose(tb, (*range(L), L, L + 2, L + 1, L + 3)).reshape(
            (*lead, nbs[0], nbs[1], blk[0] * blk[1])
        )

    def back(u: jax.Array) -> jax.Array:
        if nb_ax == 1:
            u = u.reshape((*lead, nbs[0] * blk[0]))
        else:
            u = u.reshape((*lead, nbs[0], nbs[1], blk[0], blk[1]))
            u = jnp.transpose(u, (*range(L), L, L + 2, L + 1, L + 3)).reshape(
                (*lead, nbs[0] * blk[0], nbs[1] * blk[1])
            )
        u = u[(Ellipsis, *(slice(0, ln) for ln in lens))]
        return jnp.moveaxis(u, tuple(range(nd - nb_ax, nd)), axes)

    return tb, back


def _sig_exp_of(v: Fraction) -> tuple[int, int]:
    """``(sig, exp)`` with ``v = sig * 2**exp``, ``sig`` odd (``v`` a positive dyadic rational)."""
    num, den = v.numerator, v.denominator
    ex = -(den.bit_length() - 1)
    while num % 2 == 0:
        num //= 2
        ex += 1
    return num, ex


def _code_sig_exp(code: jax.Array, p: tuple, mag_bits: int, w: _Width) -> tuple:
    """``(neg, sig, exp)`` of finite codes of a float format with parameters ``p`` (static)."""
    it, ut = w.itype, w.utype
    mbits, emin, _emax, _mm, _im, _nc, sign_mask, flags = p
    neg = (code & it(sign_mask)) != 0 if sign_mask else jnp.zeros(code.shape, bool)
    mag = code & it((1 << mag_bits) - 1)
    ef = mag >> mbits
    mf = mag & it((1 << mbits) - 1)
    z = 1 if flags & F_ZERO else 0
    sub = (ef == 0) if z else jnp.zeros(code.shape, bool)
    sig = jnp.where(sub, mf, mf + it(1 << mbits)).astype(ut)
    e = jnp.where(sub, it(emin - mbits), ef + it(emin - mbits - z))
    return neg, sig, e


def _divide(a_sig: jax.Array, a_exp: jax.Array, d_sig: jax.Array, d_exp: jax.Array, w: _Width) -> tuple:
    """``(q, E)``: ``q`` in ``[2**(W-3), 2**(W-2))`` with ``q * 2**(E - (W-3))`` the quotient
    ``(a_sig * 2**a_exp) / (d_sig * 2**d_exp)`` truncated to ``W - 2`` bits, last bit set when
    inexact (round to odd). ``a_sig, d_sig > 0`` (unsigned, below ``2**(W-2)``). ``W - 2`` bits, not
    more: :func:`encode_bits` needs significands below ``2**(W-2)``."""
    ut, it, W = w.utype, w.itype, w.bits
    P = W - 3
    la, ld = _msb(a_sig, w), _msb(d_sig, w)
    an = _shl(a_sig, P - la, w)
    dn = _shl(d_sig, P - ld, w)
    lt = an < dn
    an = jnp.where(lt, an << ut(1), an)
    E = a_exp + la - d_exp - ld - lt.astype(it)

    def step(_: int, c: tuple) -> tuple:
        q, rr = c
        bit = rr >= dn
        rr = jnp.where(bit, rr - dn, rr) << ut(1)
        return (q << ut(1)) | bit.astype(ut), rr

    q, rr = lax.fori_loop(0, W - 2, step, (jnp.zeros_like(an), an))
    q = q | (rr != 0).astype(ut)
    return q, E


def _encode_quotient(q, E, neg, p, mode, ovf, r, n, w: _Width) -> jax.Array:
    """Codes of ``(-1)**neg * q * 2**(E - (W-3))`` (``q`` from :func:`_divide`; ``q == 0`` is zero)."""
    wq = dataclasses.replace(w, in_m=w.bits - 3, in_bias=1, in_expmask=3)
    xb = q.astype(w.itype)
    xb = jnp.where(neg, xb | w.itype(-(1 << (w.bits - 1))), xb)
    pq = list(p)
    pq[1] = pq[1] - E
    pq[2] = pq[2] - E
    return encode_bits(xb, tuple(pq), mode, ovf, r, n, wq)


def block_work(
    xw: jax.Array, f: object, axes: tuple, mode: Rounding, r: jax.Array | None, n: int, w: _Width, out_w: int
) -> tuple[jax.Array, jax.Array]:
    """``(values, cap)`` of ``xw`` rounded to the block format ``f`` over ``axes``.

    ``cap`` is ``element_max * block scale (* tensor scale)`` per element (NaN for blocks with
    NaN/Inf), for the clipped estimator. ``r``: random integers of ``xw``'s shape (stochastic modes).
    ``out_w`` as in :func:`fixed_work`.
    """
    it, ut, W, m = w.itype, w.utype, w.bits, w.in_m
    ef, sf = f.element_format, f.scale  # type: ignore[attr-defined]
    xb, back = _to_blocks(xw, axes, f.block_shape)  # type: ignore[attr-defined]
    rb = None if r is None else _to_blocks(r, axes, f.block_shape)[0]  # type: ignore[attr-defined]
    bits = lax.bitcast_convert_type(xb, it)
    a = bits & it((1 << (W - 1)) - 1)
    amax = jnp.max(a, axis=-1)
    finite_lim = it(w.in_expmask << m)
    bad = amax >= finite_lim
    pe = params_of(ef, w)
    rmode = int(mode)
    ovf = int(Overflow.SATURATE)
    ps = params_of(sf, w)
    if f.pow2_scale:  # type: ignore[attr-defined]
        exf = amax >> m
        msb = _msb(amax, w)
        sig = jnp.where(exf == 0, _shl(amax, m - msb, w), (amax & it((1 << m) - 1)) | it(1 << m))
        E = jnp.where(exf == 0, msb + (1 - w.in_bias - m), exf - w.in_bias)
        one = 1 << m
        me = ef.mbits
        smax = (ef.max_mag & ((1 << me) - 1)) | (1 << me)
        rule = f.scale_rule  # type: ignore[attr-defined]
        if rule == "ceil":
            bump = sig != one
        elif rule == "even":
            bump = sig >= 2 * one - (1 << (m - me - 1)) if m >= me + 1 else jnp.zeros_like(bad)
        elif rule == "rceil":
            bump = sig > (smax << (m - me))
        else:
            bump = jnp.zeros_like(bad)
        e = jnp.clip(E + bump.astype(it) - ef.emax_, sf.emin_, sf.emax_)
        e = jnp.where(amax == 0, it(sf.emin_), e)[..., None]
        p = list(pe)
        p[1] = p[1] + e
        p[2] = p[2] + e
        p = tuple(p)
        code = encode_bits(bits, p, rmode, ovf, rb, n, w)
        if out_w == W:
            val = decode_bits(code, p, ef.mag_bits, w)
            cap = decode_bits(jnp.broadcast_to(it(ef.max_mag), code.shape), p, ef.mag_bits, w)
        else:  # float32 result of 64-bit work: elements x 2**e are exact in float64
            val = _f64_bits_to_f32(lax.bitcast_convert_type(decode_bits(code, p, ef.mag_bits, w), jnp.int64))
            capm = decode_bits(jnp.broadcast_to(it(ef.max_mag), code.shape), p, ef.mag_bits, w)
            cap = _f64_bits_to_f32(lax.bitcast_convert_type(capm, jnp.int64))
        if f.element_is_int:  # type: ignore[attr-defined]  # integer elements have no -0
            vb = lax.bitcast_convert_type(val, jnp.int32 if out_w == 32 else jnp.int64)
            val = jnp.where((vb & ((1 << (out_w - 1)) - 1)) == 0, jnp.zeros_like(val), val)
    else:
        # tensor scale g = RNE_f32(amax_t / (element_max * scale_max)), 1 when that amax is 0
        if f.tensor_scale:  # type: ignore[attr-defined]
            from ..formats._registry import FORMATS

            f32 = FORMATS["float32"]
            pf = params_of(f32, w)
            am_t = jnp.max(jnp.where(a < finite_lim, a, it(0)))
            _, _, sa, ea = _split(lax.bitcast_convert_type(am_t.astype(it), w.ftype)[None], w)
            dsig, dexp = _sig_exp_of(Fraction(f.element_max) * Fraction(sf.max_finite))  # type: ignore[attr-defined]
            q, E = _divide(jnp.maximum(sa, ut(1)), ea, jnp.full(sa.shape, dsig, ut), it(dexp), w)
            gc = _encode_quotient(
                q, E, jnp.zeros(q.shape, bool), pf, int(Rounding.NEAREST_EVEN), ovf, None, 0, w
            )
            gc = jnp.maximum(gc, it(1))
            _, g_sig, g_exp = _code_sig_exp(gc, pf, f32.mag_bits, w)
            zero_t = (am_t == 0)[None]
            g_sig = jnp.where(zero_t, ut(1), g_sig)[0]
            g_exp = jnp.where(zero_t, it(0), g_exp)[0]
        else:
            g_sig, g_exp = ut(1), it(0)
        # block scales: RNE_scale(amax / (element_max * g)), at least the smallest positive scale
        msig, mexp = _sig_exp_of(Fraction(f.element_max))  # type: ignore[attr-defined]
        _, _, sa, ea = _split(lax.bitcast_convert_type(amax, w.ftype), w)
        q, E = _divide(jnp.maximum(sa, ut(1)), ea, ut(msig) * g_sig, it(mexp) + g_exp, w)
        sc = _encode_quotient(q, E, jnp.zeros(q.shape, bool), ps, int(Rounding.NEAREST_EVEN), ovf, None, 0, w)
        min_code = it(1 if (ps[7] & F_ZERO) else 0)
        sc = jnp.where(((sc & it(~ps[6])) == 0) | (amax == 0), min_code, sc)
        _, s_sig, s_exp = _code_sig_exp(sc, ps, sf.mag_bits, w)
        d_sig = (s_sig * g_sig)[..., None]
        d_exp = (s_exp + g_exp)[..., None]
        neg, _, xs, xe = _split(xb, w)
        nz = a != 0
        q, E = _divide(jnp.where(nz, xs, ut(1)), xe, jnp.broadcast_to(d_sig, xs.shape),
                       jnp.broadcast_to(d_exp, xe.shape), w)  # fmt: skip
        q = jnp.where(nz, q, ut(0))
        code = _encode_quotient(q, E, neg, pe, rmode, ovf, rb, n, w)
        cneg, c_sig, c_exp = _code_sig_exp(code, pe, ef.mag_bits, w)
        if f.element_is_int:  # type: ignore[attr-defined]
            cneg = cneg & (c_sig != 0)
        # values: the exact product element x scale x g (at most 53 bits) rounded once to the output
        tm, tb = (23, 127) if out_w == 32 else (52, 1023)
        val = _bits_to(float_bits(c_sig * d_sig, c_exp + d_exp, cneg, w, tm, tb, out_w), out_w)
        cap_bits = float_bits(ut(msig) * d_sig, it(mexp) + d_exp, jnp.zeros(d_sig.shape, bool), w, tm, tb, out_w,
                              down=True)  # fmt: skip
        cap = jnp.broadcast_to(_bits_to(cap_bits, out_w), val.shape)
    nan = val.dtype.type(np.nan)
    val = jnp.where(bad[..., None], nan, val)
    cap = jnp.where(bad[..., None], nan, cap)
    return back(val), back(cap)


def width_of(dtype: object) -> _Width:
    return W64 if np.dtype(dtype) == np.float64 else W32
