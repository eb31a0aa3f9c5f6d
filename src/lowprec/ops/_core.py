"""Numba scalar cores of ``lowprec.ops``: exact operations on float64 values, rounded once.

How one rounding of an exact result is obtained without double rounding
-----------------------------------------------------------------------
Every operation first produces a pair ``(s, t)`` and a power of two ``2**E`` such that the exact
result is ``x = sign * (s + t) * 2**E`` where ``s > 0`` is a *normal* float64 and ``x`` lies strictly
between ``s`` and its float64 neighbour on the side of ``t`` (or ``t == 0`` and ``x = s`` exactly).
Only the sign of ``t`` is used. The operands are scaled by powers of two (``frexp``) first, so no
float64 overflow or underflow can occur, whatever the magnitudes; ``E`` is kept as an integer.

From ``(s, t)`` the float64 *round-to-odd* value ``RO53(x)`` is one bit operation: ``s`` if ``t == 0``
or ``s`` is odd, else the neighbour of ``s`` toward ``x`` (which is odd). Round-to-odd at ``k`` bits
followed by any round-to-nearest or directed rounding at ``p <= k - 2`` bits equals that rounding of
``x`` itself (Boldo & Melquiond, IEEE TC 57(4), 2008): the odd last bit is a sticky bit that sits
strictly below the round bit of the p-bit format, so ties, the side of every rounding boundary and
inexactness are all preserved. With k = 53 this covers every target of at most 51 significant bits
(float32, tf32, bfloat16, float16, fp8, ...), and also the format's subnormal range, which has
fewer bits. ``RO53(x)`` is then handed, as a bit pattern with the exponent bias shifted by ``E``,
to the same ``encode_one`` every other Numba kernel uses, so the rounding contract is shared.

Error-free transformations: TwoSum (Knuth) for sums, Dekker's TwoProduct with Veltkamp splitting
for products (numba has no ``math.fma``); all applied to scaled operands where they are exact.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .._numba._float import RTN, _msb, decode_one, encode_one

_NJ = {"cache": True, "nogil": True, "error_model": "numpy"}
_MAG = np.int64(0x7FFFFFFFFFFFFFFF)
_SPLIT = 134217729.0  # 2**27 + 1
_FAR = 900  # exponent gap beyond which the smaller operand only contributes its sign (sticky)

OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_FMA, OP_SQRT = 0, 1, 2, 3, 4, 5


@numba.njit(inline="always", **_NJ)
def two_sum(a: float, b: float) -> tuple:
    """``s = fl(a + b)`` and the exact error ``t = a + b - s`` (Knuth)."""
    s = a + b
    bb = s - a
    t = (a - (s - bb)) + (b - bb)
    return s, t


@numba.njit(inline="always", **_NJ)
def two_prod(a: float, b: float) -> tuple:
    """``p = fl(a * b)`` and the exact error (Dekker); exact for |a|, |b| in [2**-900, 2**900]."""
    p = a * b
    c = _SPLIT * a
    ah = c - (c - a)
    al = a - ah
    c = _SPLIT * b
    bh = c - (c - b)
    bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, e


@numba.njit(**_NJ)
def round_value(
    x: float, mbits, emin, emax, max_mag, inf_mag, nan_code, sign_mask, flags, mag_bits, mode, ovf
) -> float:
    """Round a float64 value (any, NaN/Inf/±0 included) to the format; return the decoded value."""
    if x != x:
        return x
    b = np.float64(x).view(np.int64)
    neg = b < 0
    a = b & _MAG
    code = encode_one(
        a, neg, 52, 1023, 0x7FF, mbits, emin, emax, max_mag, inf_mag, nan_code, sign_mask, flags,
        mode, ovf, 0, 0,
    )  # fmt: skip
    return decode_one(code, mbits, emin, max_mag, inf_mag, nan_code, sign_mask, flags, mag_bits)


@numba.njit(**_NJ)
def round_scaled(
    s: float, t: float, e: np.int64, neg: bool,
    mbits, emin, emax, max_mag, inf_mag, nan_code, sign_mask, flags, mag_bits, mode, ovf,
) -> float:  # fmt: skip
    """Round ``(-1)**neg * (s + t) * 2**e`` (``s > 0`` normal, only sign(t) used; see module doc)."""
    a = np.float64(s).view(np.int64)
    if t != 0.0 and (a & 1) == 0:
        a = a + 1 if t > 0.0 else a - 1  # round to odd at 53 bits
    code = encode_one(
        a, neg, 52, 1023 - e, 0x7FF, mbits, emin, emax, max_mag, inf_mag, nan_code, sign_mask, flags,
        mode, ovf, 0, 0,
    )  # fmt: skip
    return decode_one(code, mbits, emin, max_mag, inf_mag, nan_code, sign_mask, flags, mag_bits)


@numba.njit(inline="always", **_NJ)
def _zero_sum_sign(a: float, b: float, mode) -> float:
    """IEEE 754 sign of an exact zero sum: the common sign, else +0 (-0 toward negative)."""
    if math.copysign(1.0, a) == math.copysign(1.0, b):
        return math.copysign(0.0, a)
    return -0.0 if mode == RTN else 0.0


@numba.njit(**_NJ)
def exact_add(a: float, b: float, mode) -> tuple:
    """(special, value, s, t, e, neg) for a + b; ``special``: ``value`` is the exact result."""
    if not (math.isfinite(a) and math.isfinite(b)):
        return True, a + b, 1.0, 0.0, 0, False
    if a == 0.0 and b == 0.0:
        return True, _zero_sum_sign(a, b, mode), 1.0, 0.0, 0, False
    if a == 0.0:
        return True, b, 1.0, 0.0, 0, False
    if b == 0.0:
        return True, a, 1.0, 0.0, 0, False
    ma, ea = math.frexp(a)
    mb, eb = math.frexp(b)
    e = max(ea, eb)
    if ea < e - _FAR:  # a is far below one ulp of b: only its sign matters
        s, t = mb, ma
    elif eb < e - _FAR:
        s, t = ma, mb
    else:
        s, t = two_sum(math.ldexp(a, -e), math.ldexp(b, -e))  # both scalings exact
        if s == 0.0:
            return True, (-0.0 if mode == RTN else 0.0), 1.0, 0.0, 0, False
    neg = s < 0.0
    if neg:
        s, t = -s, -t
    return False, 0.0, s, t, e, neg


@numba.njit(**_NJ)
def exact_mul(a: float, b: float) -> tuple:
    """(special, value, s, t, e, neg) for a * b."""
    if not (math.isfinite(a) and math.isfinite(b)) or a == 0.0 or b == 0.0:
        return True, a * b, 1.0, 0.0, 0, False
    ma, ea = math.frexp(abs(a))
    mb, eb = math.frexp(abs(b))
    p, t = two_prod(ma, mb)
    return False, 0.0, p, t, ea + eb, (a < 0.0) != (b < 0.0)


@numba.njit(**_NJ)
def exact_div(a: float, b: float) -> tuple:
    """(special, value, s, t, e, neg) for a / b; the residual a - q*b is computed exactly."""
    if not (math.isfinite(a) and math.isfinite(b)) or a == 0.0 or b == 0.0:
        return True, a / b, 1.0, 0.0, 0, False  # IEEE specials (error_model="numpy")
    ma, ea = math.frexp(abs(a))
    mb, eb = math.frexp(abs(b))
    q = ma / mb
    ph, pl = two_prod(q, mb)
    r = (ma - ph) - pl  # ma - ph is exact (Sterbenz); the sign of the rounded r is exact
    return False, 0.0, q, r, ea - eb, (a < 0.0) != (b < 0.0)


@numba.njit(**_NJ)
def exact_sqrt(a: float) -> tuple:
    """(special, value, s, t, e, neg) for sqrt(a)."""
    if not math.isfinite(a) or a <= 0.0:
        if a < 0.0:
            return True, math.nan, 1.0, 0.0, 0, False
        return True, a, 1.0, 0.0, 0, False  # +-0, +Inf, NaN
    m, e = math.frexp(a)
    if e & 1:
        m *= 2.0
        e -= 1
    s = math.sqrt(m)
    ph, pl = two_prod(s, s)
    r = (m - ph) - pl
    return False, 0.0, s, r, e // 2, False


@numba.njit(**_NJ)
def exact_fma(a: float, b: float, c: float, mode) -> tuple:
    """(special, value, s, t, e, neg) for a * b + c with a single rounding.

    With ``(ph, pl) = TwoProduct`` the exact value is ``ph + pl + c``; three TwoSums give
    ``x = h + g + w`` with ``h = fl(s1 + u)`` faithful, and sign(x - h) = sign(fl(g + w)).
    """
    if not (math.isfinite(a) and math.isfinite(b) and math.isfinite(c)):
        if math.isfinite(a) and math.isfinite(b):
            return True, c, 1.0, 0.0, 0, False  # finite product + Inf/NaN (a*b may overflow float64)
        return True, a * b + c, 1.0, 0.0, 0, False
    if a == 0.0 or b == 0.0:
        return exact_add(a * b, c, mode)
    if c == 0.0:
        return exact_mul(a, b)
    ma, ea = math.frexp(a)
    mb, eb = math.frexp(b)
    mc, ec = math.frexp(c)
    ph, pl = two_prod(ma, mb)
    ep = ea + eb
    e = max(ep, ec)
    if ep < e - _FAR:
        s, t = mc, ph
    elif ec < e - _FAR:
        s, t = ph, (pl if pl != 0.0 else mc)
    else:
        p1 = math.ldexp(ph, ep - e)
        p2 = math.ldexp(pl, ep - e)
        c1 = math.ldexp(mc, ec - e)
        s1, t1 = two_sum(p1, c1)
        u, w = two_sum(t1, p2)
        h, g = two_sum(s1, u)
        if h == 0.0:
            if w == 0.0:
                return True, (-0.0 if mode == RTN else 0.0), 1.0, 0.0, 0, False
            s, t = w, 0.0
        else:
            s, t = h, g + w
    neg = s < 0.0
    if neg:
        s, t = -s, -t
    return False, 0.0, s, t, e, neg


@numba.njit(inline="always", **_NJ)
def apply_op(op, x: float, y: float, z: float, mode) -> tuple:
    if op == OP_ADD:
        return exact_add(x, y, mode)
    if op == OP_SUB:
        return exact_add(x, -y, mode)
    if op == OP_MUL:
        return exact_mul(x, y)
    if op == OP_DIV:
        return exact_div(x, y)
    if op == OP_FMA:
        return exact_fma(x, y, z, mode)
    return exact_sqrt(x)


@numba.njit(**_NJ)
def op_round(op, x: float, y: float, z: float, p, mode, ovf) -> float:
    """One rounded operation; ``p`` = FloatParams fields + mag_bits."""
    mbits, emin, emax, max_mag, inf_mag, nan_code, sign_mask, flags, mag_bits = p
    special, v, s, t, e, neg = apply_op(op, x, y, z, mode)
    if special:
        return round_value(v, mbits, emin, emax, max_mag, inf_mag, nan_code, sign_mask, flags, mag_bits,
                           mode, ovf)  # fmt: skip
    return round_scaled(s, t, e, neg, mbits, emin, emax, max_mag, inf_mag, nan_code, sign_mask, flags,
                        mag_bits, mode, ovf)  # fmt: skip


@numba.njit(**_NJ)
def elementwise_kernel(lo, hi, op, x, y, z, out, p, mode, ovf):
    """``out[i] = round(op(x[i], y[i], z[i]))`` for ``lo <= i < hi`` over 1-d contiguous float64
    arrays (run on threads by :func:`lowprec._numba._threads.run_parts`)."""
    for i in range(lo, hi):
        out[i] = op_round(op, x[i], y[i], z[i], p, mode, ovf)
    return 0


# ---- a long (Kulisch) accumulator for exact sums of float64 values --------------------------------
# limbs of 32 bits in int64 (31 bits of headroom for carries); bit 0 of limb 0 weighs 2**SA_EB.
SA_NL = 72
SA_EB = -1152


@numba.njit(inline="always", **_NJ)
def sa_add(limbs, v: float) -> None:
    """Add the finite float64 ``v`` exactly."""
    if v == 0.0:
        return
    b = np.float64(v).view(np.int64)
    a = b & _MAG
    field = a >> 52
    sig = a & ((np.int64(1) << 52) - 1)
    if field == 0:
        field = np.int64(1)
    else:
        sig |= np.int64(1) << 52
    pos = field - 1075 - SA_EB
    li = pos >> 5
    off = pos & 31
    lo = (sig & 0xFFFFFFFF) << off
    hi = (sig >> 32) << off
    w0 = lo & 0xFFFFFFFF
    w1 = (lo >> 32) + (hi & 0xFFFFFFFF)
    w2 = hi >> 32
    if b < 0:
        limbs[li] -= w0
        limbs[li + 1] -= w1
        limbs[li + 2] -= w2
    else:
        limbs[li] += w0
        limbs[li + 1] += w1
        limbs[li + 2] += w2


@numba.njit(inline="always", **_NJ)
def _sa_norm(limbs) -> np.int64:
    carry = np.int64(0)
    for i in range(SA_NL):
        v = limbs[i] + carry
        limbs[i] = v & 0xFFFFFFFF
        carry = v >> 32
    return carry


@numba.njit(**_NJ)
def sa_round(limbs, p, mode, ovf) -> float:
    """Round the exact accumulated sum to the format (exact zero gives +0, -0 toward negative)."""
    mbits, emin, emax, max_mag, inf_mag, nan_code, sign_mask, flags, mag_bits = p
    neg = _sa_norm(limbs) < 0
    if neg:
        for i in range(SA_NL):
            limbs[i] = -limbs[i]
        _sa_norm(limbs)
    top = -1
    for i in range(SA_NL - 1, -1, -1):
        if limbs[i] != 0:
            top = i
            break
    if top < 0:
        return -0.0 if mode == RTN else 0.0
    pbit = 32 * top + _msb(limbs[top])
    low = pbit - 52
    mant = np.int64(0)
    sticky = False
    for i in range(top, -1, -1):
        v = limbs[i]
        if v == 0:
            continue
        base = 32 * i
        if base >= low:
            mant += v << (base - low)
        elif base + 32 > low:
            sh = low - base
            mant += v >> sh
            if v & ((np.int64(1) << sh) - 1):
                sticky = True
        else:
            sticky = True
            break
    s = np.float64(mant)  # exact: mant < 2**53
    return round_scaled(s, 1.0 if sticky else 0.0, low + SA_EB, neg, mbits, emin, emax, max_mag, inf_mag,
                        nan_code, sign_mask, flags, mag_bits, mode, ovf)  # fmt: skip
