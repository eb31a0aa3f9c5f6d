"""Branch-free float kernels that the compiler vectorises: the common path of ``_float.kernels``.

For a float32 (float64) input, every finite element is rounded by integer operations on its own
bits with no data-dependent branch, so LLVM turns the loop into SIMD code on 32-bit (64-bit)
lanes. One formula covers results in the target's normal *and* subnormal range: the element is
rounded at bit ``s = (in_m - mbits) + max(emin_b - e, 0)`` of its significand (``e`` its biased
exponent, ``emin_b`` the target's smallest normal exponent in the input's bias), a per-lane
variable shift. Overflow and the sign rules are selects between per-call constants.

What is left to the exact element rule of :mod:`lowprec._numba._float` (``encode_slow``), redone
per chunk only where it occurs: NaN and Inf inputs, negative inputs of unsigned formats, and
results below the smallest normal of formats without subnormals. Formats this path does not fit
(no zero, more mantissa bits than the input, a range beyond the input's) use the generic kernels.

The random bits of the stochastic modes are the contract's SplitMix64 counter hash
(:func:`lowprec._numba._random.sr_bits`), computed once per element inside the loop.
"""

from __future__ import annotations

import functools

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from ._float import (
    F_NEGZERO,
    F_SIGNED,
    F_SUB,
    F_ZERO,
    RNA,
    RNE,
    RNZ,
    RTN,
    RTO,
    RTP,
    RTZ,
    SR,
    _slow_at,
    decode_one,
    encode_slow,
)
from ._random import GOLDEN, splitmix64, sr_bits
from ._threads import CHUNK

_NJ = {"cache": True, "nogil": True}

SPEC_MIN = 1 << 20  # arrays of at least this many elements get a kernel compiled for their format


# index of each per-call constant in the tuple ``c`` the kernels take
(
    C_MB,  # target mantissa bits
    C_SH,  # in_m - mbits: the rounding position of a normal result
    C_EMINB,  # target emin in the input's biased exponent
    C_SUB,  # 1: the target has subnormals
    C_SIGNED,  # 1: the target has a sign bit
    C_NEGZERO,  # 1: the target has -0
    C_MAXB,  # input-dtype bits of the largest finite value
    C_QMINB,  # input-dtype bits of the smallest subnormal 2**(emin - mbits)
    C_SIGNMASK,  # sign bit of a code
    C_OVCODEP,  # code of an overflowing positive value (policy and mode applied)
    C_OVCODEN,  # ... negative value
    C_OVBITSP,  # input-dtype bits of the decoded overflow result, positive
    C_OVBITSN,  # ... negative
) = range(13)


def _in_consts(width: int) -> tuple[int, int, int]:
    """(mantissa bits, bias, all-ones exponent field) of the float32 / float64 input."""
    return (23, 127, 0xFF) if width == 32 else (52, 1023, 0x7FF)


@numba.njit(inline="always", **_NJ)
def _in_consts_nb(width):
    """:func:`_in_consts` inside kernels."""
    if width == 32:
        return np.int64(23), np.int64(127), np.int64(0xFF)
    return np.int64(52), np.int64(1023), np.int64(0x7FF)


def _bits_of(value: float, width: int) -> int:
    """The bit pattern of ``value`` in the input dtype, as a signed int of that width."""
    dt = np.float32 if width == 32 else np.float64
    with np.errstate(over="ignore"):
        v = np.array([value], dtype=np.float64).astype(dt)
    return int(v.view(np.int32 if width == 32 else np.int64)[0])


def _decoded(code: int, p: tuple) -> float:
    """Value of a code that is 0, a finite value, Inf or NaN (the magnitude mask only has to keep
    such codes whole)."""
    _mbits, _emin, _emax, max_mag, inf_mag, nan_code, sign_mask, _flags = p
    if sign_mask > 0:
        mag_bits = int(sign_mask).bit_length() - 1
    else:
        mag_bits = max(int(max_mag), int(inf_mag), int(nan_code)).bit_length()
    out = np.empty(1, np.float64)
    _decode_one_array(np.array([code], np.int64), out, p, np.int64(mag_bits))
    return float(out[0])


@numba.njit(**_NJ)
def _decode_one_array(codes, out, p, mag_bits):
    mbits, emin, _emax, max_mag, inf_mag, nan_code, sign_mask, flags = p
    for i in range(codes.size):
        out[i] = decode_one(codes[i], mbits, emin, max_mag, inf_mag, nan_code, sign_mask, flags, mag_bits)


@functools.lru_cache(maxsize=1024)
def fast_consts(p: tuple, width: int, mode: int, ovf: int) -> tuple | None:
    """The per-call constants of the vectorised path, or ``None`` when the format does not fit it.

    ``p`` is the format's :class:`~lowprec._params.FloatParams` as int64 bit patterns, ``width``
    the input's bits (32 or 64).
    """
    mbits, emin, emax, max_mag, _inf_mag, _nan_code, sign_mask, flags = p
    in_m, in_bias, _ = _in_consts(width)
    if not (flags & F_ZERO) or mbits > in_m or emin < 1 - in_bias or emax > in_bias:
        return None
    if sign_mask < 0 or max_mag >= 1 << 62:  # 64-bit codes: leave them to the generic kernel
        return None
    # the overflow result, from the exact element rule on a value far beyond any format's range
    huge = np.int64(2046) << np.int64(52)  # exponent 2046 with bias 0: beyond emax + 1
    fmt_args = [np.int64(v) for v in p]
    rule = (np.int64(mode), np.int64(ovf), np.int64(0), np.int64(1))
    in_f64 = (np.int64(52), np.int64(0), np.int64(0x7FF))  # a float64 input with bias 0
    ov = [int(encode_slow(huge, neg, *in_f64, *fmt_args, *rule)) for neg in (False, True)]
    ovbits = [_bits_of(_decoded(c, p), width) for c in ov]
    return (
        mbits,
        in_m - mbits,
        emin + in_bias,
        int((flags & F_SUB) != 0),
        int((flags & F_SIGNED) != 0),
        int((flags & F_NEGZERO) != 0),
        _bits_of(_decoded(max_mag, p), width),
        _bits_of(2.0 ** (emin - mbits), width),
        sign_mask,
        ov[0],
        ov[1],
        ovbits[0],
        ovbits[1],
    )


@numba.njit(inline="always", **_NJ)
def _is_slow(a, neg, c, in_m, expf):
    """Whether an element (magnitude bits ``a``) needs the exact element rule."""
    exf = a >> in_m
    e_eff = max(exf, np.int64(1))
    return (exf == expf) | (neg & (c[C_SIGNED] == 0)) | ((c[C_SUB] == 0) & (e_eff < c[C_EMINB]) & (a != 0))


@intrinsic
def _w(typingctx, v, lane):
    """``v`` converted (truncated) to the integer type of ``lane``, emitted in place: for float32
    inputs ``lane`` is an int32 and the truncation tells the compiler that the value fits 32-bit
    lanes (8 per AVX2 register instead of 4). An intrinsic, so that it costs no inlining pass."""
    sig = lane(v, lane)

    def codegen(context, builder, signature, args):
        return context.cast(builder, args[0], signature.args[0], signature.return_type)

    return sig, codegen


def _lane_shift_codegen(op: str, lane_bits: int, a_type, s_type):  # type: ignore[no-untyped-def]
    """Code of ``a op s`` on integers of ``lane_bits`` bits (see :func:`_shl`)."""

    def fit(builder, v, t):  # type: ignore[no-untyped-def]
        w = ir.IntType(lane_bits)
        if t.bitwidth > lane_bits:
            return builder.trunc(v, w)
        if t.bitwidth < lane_bits:
            return builder.sext(v, w) if t.signed else builder.zext(v, w)
        return v

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return getattr(builder, op)(fit(builder, args[0], a_type), fit(builder, args[1], s_type))

    return codegen


@intrinsic
def _shl(typingctx, a, s, lane):  # type: ignore[no-untyped-def]
    """``a << s`` computed in the integer type of ``lane`` (``0 <= s <`` its width). Numba widens
    shifts to int64, and LLVM does not narrow a variable shift back: without this, every
    per-lane shift of a float32 input runs on 4 lanes per AVX2 register instead of 8."""
    if not all(isinstance(t, types.Integer) for t in (a, s, lane)):
        return None
    return lane(a, s, lane), _lane_shift_codegen("shl", lane.bitwidth, a, s)


@intrinsic
def _shr(typingctx, a, s, lane):  # type: ignore[no-untyped-def]
    """Logical ``a >> s`` in the integer type of ``lane``, as :func:`_shl` (``a >= 0``)."""
    if not all(isinstance(t, types.Integer) for t in (a, s, lane)):
        return None
    return lane(a, s, lane), _lane_shift_codegen("lshr", lane.bitwidth, a, s)


@intrinsic
def _as_float(typingctx, b, lane):  # type: ignore[no-untyped-def]
    """The float of ``lane``'s width (float32 for int32 lanes, float64 for int64) whose bits are ``b``
    (truncated or sign-extended to the lane first), emitted in place."""
    if not isinstance(b, types.Integer) or not isinstance(lane, types.Integer):
        return None
    width = lane.bitwidth
    ft = types.float32 if width == 32 else types.float64

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        v, w = args[0], ir.IntType(width)
        if b.bitwidth > width:
            v = builder.trunc(v, w)
        elif b.bitwidth < width:
            v = builder.sext(v, w)
        return builder.bitcast(v, ir.FloatType() if width == 32 else ir.DoubleType())

    return ft(b, lane), codegen


@intrinsic
def _float_bits(typingctx, v):  # type: ignore[no-untyped-def]
    """The bits of a float32 (as int32) or float64 (as int64), emitted in place."""
    if not isinstance(v, types.Float):
        return None
    it = types.int32 if v.bitwidth == 32 else types.int64

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.IntType(v.bitwidth))

    return it(v), codegen


@numba.njit(inline="always", **_NJ)
def _position(a, c, in_m, lane):
    """``(e_eff, sig, s, s_c, bit)`` of the magnitude bits ``a`` (already in ``lane``'s type): the
    exponent field (at least 1), the significand with its implicit bit, and the rounding position:
    bit ``s = (in_m - M) + max(emin_b - e_eff, 0)`` of the significand, clamped to ``s_c <= in_m + 2``
    (beyond ``in_m + 1`` every bit goes, as at ``in_m + 2``), ``bit = 2**s_c``."""
    one = np.int64(1)
    zero = np.int64(0)
    smask = np.int64(31) if in_m == 23 else np.int64(63)  # shift counts are < the lane width
    eminb = _w(c[C_EMINB], lane)
    sh = _w(c[C_SH], lane)
    exf = _w(a >> in_m, lane)
    e_eff = _w(max(exf, one), lane)
    sig = _w(_w(a & ((one << in_m) - 1), lane) | _w((one << in_m) if exf != 0 else zero, lane), lane)
    s = _w(sh + _w(max(_w(eminb - e_eff, lane), zero), lane), lane)  # binades below emin add
    s_c = _w(_w(min(s, in_m + 2), lane) & smask, lane)
    return e_eff, sig, s, s_c, _shl(one, s_c, lane)


def use_words(mode: int, width: int, n: int) -> bool:
    """Whether the kernels of a call take their random bits as words (``simd_kernels``'s ``words``):
    a stochastic mode, float32 input, ``n <= 32``."""
    return mode >= SR and int(width) == 32 and int(n) <= 32


def fpu_rne_ok(consts: tuple, width: int) -> bool:
    """Whether :func:`_fpu_rne_bits` covers the format of :func:`fast_consts` tuple ``consts``: at
    least one mantissa bit (with none, the even neighbour of a tie is not the even code), the
    rounding constant ``C`` finite up to one binade above the format's largest value, and the
    format's smallest step at least twice the input's smallest normal, so that no subnormal value
    takes part (a thread that flushes subnormals, FTZ/DAZ, then gets the same bits: its subnormal
    inputs round to 0 either way)."""
    in_m, _, expf = _in_consts(width)
    top = (int(consts[C_MAXB]) >> in_m) + 1
    no_sub = (int(consts[C_QMINB]) >> in_m) >= 2
    return int(consts[C_MB]) >= 1 and top + int(consts[C_SH]) <= expf - 1 and no_sub


@numba.njit(inline="always", **_NJ)
def _signed_bits(qb, neg, c, signbit, lane):
    """The result's input-dtype bits from the rounded magnitude bits ``qb`` of a rule that forms no
    code (:func:`_fpu_rne_bits`, :func:`_fast_bits`, :func:`_word_bits`): the sign where kept (a zero
    keeps it only in formats with -0), the overflow result beyond the largest finite value."""
    zero = np.int64(0)
    over = qb > _w(c[C_MAXB], lane)
    keep_sign = neg & ((qb != zero) | (c[C_NEGZERO] != 0))
    bits = _w(qb | (_w(signbit, lane) if keep_sign else zero), lane)
    return _w((_w(c[C_OVBITSN], lane) if neg else _w(c[C_OVBITSP], lane)) if over else bits, lane)


@numba.njit(inline="always", **_NJ)
def _fpu_rne_bits(a, neg, c, in_m, expf, signbit, lane):
    """``(slow, bits)`` of :func:`_fast_bits` for RNE, by the FPU (formats of :func:`fpu_rne_ok`).

    With ``C = 2**(e - M + in_m)`` for ``e`` the exponent of ``|x|`` clamped to the format's range
    (its ulp is the format's step at ``|x|``, and ``|x| < C``), ``(|x| + C) - C`` is ``|x|`` rounded
    to the format's grid with ties to even in one addition: ``C``'s significand is 1.0, so a tie's
    even sum is the even code. Values beyond the largest binade are overflow either way.
    """
    eminb = _w(c[C_EMINB], lane)
    sh = _w(c[C_SH], lane)
    topb = _w((c[C_MAXB] >> in_m) + np.int64(1), lane)
    a = _w(a, lane)
    exf = _w(a >> in_m, lane)
    slow = _is_slow(a, neg, c, in_m, expf)
    ec = _w(min(max(exf, eminb), topb), lane)
    big_c = _as_float(_shl(_w(ec + sh, lane), in_m, lane), lane)
    v = (_as_float(a, lane) + big_c) - big_c
    qb = _w(_float_bits(v), lane)
    return slow, _signed_bits(qb, neg, c, signbit, lane)


@numba.njit(inline="always", **_NJ)
def _fast_elem(a, neg, r, n, c, mode, in_m, expf, signbit, lane, words):
    """``(slow, code, bits)`` of one element: the code with its sign, and the rounded value's bits
    in the input dtype with its sign. Meaningless where ``slow``. No data-dependent branches.

    Every intermediate goes through :func:`_w`, so that for float32 inputs the compiler keeps the
    whole computation on 32-bit lanes (the stochastic comparison excepted, unless ``words``: a
    compile-time flag saying that ``r`` is a random word of :func:`_fill_words`, float32 only).
    """
    one = np.int64(1)
    zero = np.int64(0)
    smask = np.int64(31) if in_m == 23 else np.int64(63)  # shift counts are < the lane width
    mb = _w(c[C_MB] & smask, lane)
    eminb = _w(c[C_EMINB], lane)
    maxb = _w(c[C_MAXB], lane)
    qminb = _w(c[C_QMINB], lane)
    signmask = _w(c[C_SIGNMASK], lane)
    ovcodep, ovcoden = _w(c[C_OVCODEP], lane), _w(c[C_OVCODEN], lane)
    negzero = c[C_NEGZERO] != 0
    a = _w(a, lane)
    slow = _is_slow(a, neg, c, in_m, expf)
    e_eff, sig, s, s_c, bit = _position(a, c, in_m, lane)
    rem = _w(sig & _w(bit - one, lane), lane)
    half = _w(bit >> one, lane)
    above = _w(max(_w(e_eff - eminb, lane), zero), lane)  # binades above the target's emin
    lo = _w(_shr(sig, s_c, lane) + _shl(above, mb, lane), lane)  # truncated code (magnitude)
    inexact = rem != zero
    odd = _w(lo & one, lane) != zero
    if mode == RNE:
        up = (rem > half) | ((rem == half) & odd & inexact)  # s == 0: half == rem == 0, exact
    elif mode == RNA:
        up = (rem >= half) & inexact
    elif mode == RNZ:
        up = rem > half
    elif mode == RTZ:
        up = False
    elif mode == RTP:
        up = inexact & (not neg)
    elif mode == RTN:
        up = inexact & neg
    elif mode == RTO:
        up = inexact & (not odd)
    elif mode == SR and words:
        # the rule below at 32-bit alignment: frac = floor(rem / 2**s * 2**32) cut to n bits, and
        # up iff frac + r carries out of 32 bits, i.e. frac > ~r unsigned: a signed comparison of
        # both with their top bit flipped (rem < 2**24, so s > 32 + 23 leaves 0)
        lsh = _w(min(max(_w(32 - s, lane), zero), np.int64(31)), lane)
        rsh = _w(min(max(_w(s - 32, lane), zero), np.int64(31)), lane)
        frac = _w(_shl(rem, lsh, lane) if s <= 32 else _shr(rem, rsh, lane), lane)
        frac = _w(frac & _w(((one << n) - one) << (32 - n), lane), lane)
        up = _w(frac ^ _TOP32, lane) > _w(~r ^ _TOP32, lane)
    elif mode == SR:
        d = np.int64(s) - n
        rem64 = np.int64(rem)
        frac = (rem64 >> min(d, np.int64(63))) if d >= 0 else (rem64 << min(-d, np.int64(63)))
        up = frac + r >= (one << n)
    elif words:
        up = inexact & (_w(r, lane) < zero)  # the top bit of the word
    else:
        up = inexact & (r >= (one << (n - 1)))
    inc = _w(one if up else zero, lane)
    mag = _w(lo + inc, lane)
    # the rounded magnitude in the input's bits: the carry runs into the exponent; beyond the
    # significand the result is 0 or the smallest subnormal
    sm = _w(_w(min(s, in_m), lane) & smask, lane)
    keep = _w(~_w(_shl(one, sm, lane) - one, lane), lane)
    qb = _w(_w(a & keep, lane) + _shl(inc, sm, lane), lane)
    qb = qb if s <= in_m else (qminb if up else zero)
    qb = _w(qb, lane)
    over = qb > maxb
    keep_sign = neg & ((mag != zero) | negzero)
    code = _w(mag | (signmask if keep_sign else zero), lane)
    code = _w((ovcoden if neg else ovcodep) if over else code, lane)
    bits = _w(qb | (_w(signbit, lane) if keep_sign else zero), lane)
    return slow, code, _w((_w(c[C_OVBITSN], lane) if neg else _w(c[C_OVBITSP], lane)) if over else bits, lane)


@numba.njit(inline="always", **_NJ)
def _fast_bits(a, neg, c, mode, in_m, expf, signbit, lane):
    """``(slow, bits)`` of one element for the modes that round by adding a constant below the
    rounding position (RNE, RNA, RNZ, RTZ, RTP, RTN): the same bits as :func:`_fast_elem`, with
    fewer operations because no code is formed.

    With ``bit = 2**s`` and ``addend < bit``, rounding the magnitude bits ``a`` up or down at
    position ``s <= in_m`` is ``(a + addend) & ~(bit - 1)``: the carry out of the dropped bits is
    the increment and runs into the exponent by itself. RNE's ``addend`` is ``bit/2 - 1`` plus the
    kept part's last bit, RNA's ``bit/2``, RNZ's ``bit/2 - 1``, and the directed modes' ``0`` or
    ``bit - 1``. Past the significand (``s > in_m``) the result is 0 or the smallest subnormal,
    by the same carry test on the significand.
    """
    one = np.int64(1)
    zero = np.int64(0)
    mb0 = c[C_MB] == 0
    eminb = _w(c[C_EMINB], lane)
    qminb = _w(c[C_QMINB], lane)
    a = _w(a, lane)
    slow = _is_slow(a, neg, c, in_m, expf)
    e_eff, sig, s, s_c, bit = _position(a, c, in_m, lane)
    mask = _w(bit - one, lane)
    half = _w(bit >> one, lane)
    if mode == RNE:
        # the kept part's last bit; with no mantissa bits it also counts the binades above emin
        kept = _w(
            _shr(sig, s_c, lane) + (_w(max(_w(e_eff - eminb, lane), zero), lane) if mb0 else zero), lane
        )
        addend = _w(_w(half - one + _w(kept & one, lane), lane) & mask, lane)
    elif mode == RNA:
        addend = half
    elif mode == RNZ:
        addend = _w(_w(half - one, lane) & mask, lane)
    elif mode == RTP:
        addend = zero if neg else mask
    elif mode == RTN:
        addend = mask if neg else zero
    else:
        addend = zero
    addend = _w(addend, lane)
    qb = _w(_w(a + addend, lane) & _w(~mask, lane), lane)
    tiny = _w(qminb if _w(sig + addend, lane) >= bit else zero, lane)
    qb = _w(qb if s <= in_m else tiny, lane)
    return slow, _signed_bits(qb, neg, c, signbit, lane)


_TOP32 = np.int64(1 << 31)


@numba.njit(inline="always", **_NJ)
def _word_bits(a, neg, r, c, mode, in_m, expf, signbit, lane):
    """``(slow, bits)`` of :func:`_fast_elem` for the stochastic modes of float32 with a random word
    ``r`` (``words``), in :func:`_fast_bits`' addend form: the same bits with fewer operations.

    SR: ``floor(rem * 2**n / 2**s) + r >= 2**n`` iff ``rem + floor(word / 2**(32 - s)) >= 2**s`` (for
    ``s >= n`` the addend is ``r * 2**(s - n)``; for ``s < n`` it drops bits of ``r`` that cannot move
    the carry past an integer ``rem``), so the addend ``(word >> 1) >> (31 - s)`` carries into bit ``s``
    exactly when the rule rounds up. Past the significand (``s > in_m``) the result is 0 or the
    smallest subnormal: up iff ``f + word`` carries out of 32 bits, ``f = floor(sig * 2**32 / 2**s)``
    (``word`` is a multiple of ``2**(32 - n)``, so cutting ``f`` to ``n`` bits changes nothing).
    SR-equal: the addend is ``bit - 1`` where the word's top bit is set.
    """
    one = np.int64(1)
    zero = np.int64(0)
    a = _w(a, lane)
    r = _w(r, lane)
    slow = _is_slow(a, neg, c, in_m, expf)
    _, sig, s, _, bit = _position(a, c, in_m, lane)
    mask = _w(bit - one, lane)
    if mode == SR:
        sa = _w(min(s, np.int64(31)), lane)  # s <= in_m where the addend counts; s == 0 gives 0
        addend = _w(_shr(_shr(r, one, lane), _w(np.int64(31) - sa, lane), lane), lane)
        u = _w(max(_w(s - (in_m + one), lane), zero), lane)  # s - 24 in the tiny lanes
        f = _shr(_shl(sig, np.int64(8), lane), _w(min(u, np.int64(31)), lane), lane)
        f = _w(f if u < np.int64(32) else zero, lane)
        up = _w(f ^ _TOP32, lane) > _w(~r ^ _TOP32, lane)  # f + word carries: f > ~word unsigned
    else:
        addend = _w(mask if r < zero else zero, lane)
        up = _w(sig + addend, lane) >= bit
    qb = _w(_w(a + addend, lane) & _w(~mask, lane), lane)
    qb = _w(qb if s <= in_m else (_w(c[C_QMINB], lane) if up else zero), lane)
    return slow, _signed_bits(qb, neg, c, signbit, lane)


@numba.njit(inline="always", **_NJ)
def _fill_words(w, key, first, count, n):
    """``w[i]`` = the ``n <= 32`` random bits of element ``first + i`` of the stream of ``key``, at the
    top of a 32-bit word: the counter hash in a loop of its own, which the compiler vectorises, so
    that the rounding loop stays on 32-bit lanes (see ``_fast_elem``'s ``words``)."""
    keep = np.uint64(((1 << n) - 1) << (32 - n))
    z = np.uint64(key) + np.uint64(first + 1) * GOLDEN
    for i in range(count):
        w[i] = np.uint32((splitmix64(z) >> np.uint64(32)) & keep)
        z += GOLDEN


@numba.njit(inline="always", **_NJ)
def _explicit_words(w, rbits, count, n):
    """``w[i]`` = the explicit random integer ``rbits[i]`` (``n <= 32`` bits) at the top of a word."""
    up = np.uint64(32 - n)
    for i in range(count):
        w[i] = np.uint32(np.uint64(rbits[i]) << up)


@numba.njit(inline="always", **_NJ)
def _chunk_words(w, explicit, rbits, key, first, count, n):
    """``w[:count]``: the words of elements ``first ..`` of a chunk, from its explicit integers
    ``rbits`` (``explicit``, a compile-time constant) or from the stream of ``key``."""
    if explicit:
        _explicit_words(w, rbits, count, n)
    else:
        _fill_words(w, key, first, count, n)


@numba.njit(inline="always", **_NJ)
def _random(stoch, explicit, key, rbits, idx, n):
    """Element ``idx``'s random integer (``stoch``, ``explicit``: compile-time constants)."""
    if not stoch:
        return np.int64(0)
    if explicit:
        return np.int64(rbits[idx])
    return sr_bits(key, idx, n)


@numba.njit(inline="always", **_NJ)
def _fix_random(mode, explicit, key, rbits, start, i, n):
    """Element ``i``'s random integer in the fix-up loops (run-time flags: a rare path)."""
    if mode < SR:
        return np.int64(0)
    return np.int64(rbits[i]) if explicit else sr_bits(key, start + i, n)


@numba.njit(inline="always", **_NJ)
def _fix_elem(xbits, i, p, c, mode, ovf, key, rbits, n, start, explicit, width):
    """``(slow, code, NaN input the format cannot encode)`` of element ``i`` in the fix-up loops:
    ``slow`` when it needs the exact element rule, and then its code by that rule."""
    in_m, in_bias, expf = _in_consts_nb(width)
    signbit = np.int64(-1) << (width - 1)
    xb = np.int64(xbits[i])
    if not _is_slow(xb & ~signbit, xb < 0, c, in_m, expf):
        return False, np.int64(0), False
    r = _fix_random(mode, explicit, key, rbits, start, i, n)
    code, nan_in = _slow_at(xbits, i, width, in_m, in_bias, expf, p, mode, ovf, r, n)
    return True, code, nan_in


@numba.njit(**_NJ)
def _fix_encode(lo, hi, xbits, out, p, c, mode, ovf, key, rbits, n, start, explicit, width):
    """Codes of the elements of ``xbits[lo:hi]`` that need the exact element rule, into ``out``;
    returns the number of NaN inputs the format cannot encode.

    Shared by all the vectorised kernels and not inlined into them: compiled once per process,
    not once per kernel."""
    bad = 0
    for i in range(lo, hi):
        slow, code, nan_in = _fix_elem(xbits, i, p, c, mode, ovf, key, rbits, n, start, explicit, width)
        if slow:
            bad += 1 if nan_in else 0
            out[i] = 0 if nan_in else code
    return bad


@numba.njit(**_NJ)
def _fix_quantize(
    lo, hi, xbits, x, out, p, c, mode, ovf, key, rbits, n, start, explicit, width, lut, mag_bits
):
    """Rounded values of the elements of ``x[lo:hi]`` that need the exact element rule, into
    ``out``. NaN passes through formats without NaN. Shared like :func:`_fix_encode`."""
    mbits, emin, _emax, max_mag, inf_mag, nan_code, sign_mask, flags = p
    for i in range(lo, hi):
        slow, code, nan_in = _fix_elem(xbits, i, p, c, mode, ovf, key, rbits, n, start, explicit, width)
        if not slow:
            continue
        if nan_in:
            out[i] = x[i]
        elif lut.size > 0:
            out[i] = lut[code]
        else:
            out[i] = decode_one(code, mbits, emin, max_mag, inf_mag, nan_code, sign_mask, flags, mag_bits)
    return 0


@functools.lru_cache(maxsize=256)
def simd_kernels(
    mode: int, width: int, explicit_bits: bool = False, consts: tuple | None = None, words: bool = False
) -> tuple:
    """``(encode_kernel, quantize_kernel)`` of the vectorised path for one mode and input width;
    ``explicit_bits``: the stochastic modes read the random integers from ``rbits`` instead of the
    counter generator (a compile-time choice, so that the loop has no branch on it). ``words``
    (float32, ``n <= 32``): each chunk's random bits are first made (:func:`_fill_words`) or
    shifted (:func:`_explicit_words`) into 32-bit words, which the rounding loop reads.

    ``consts``: the :func:`fast_consts` tuple of one format and overflow policy, to compile a pair
    for that format alone. Its values are then compile-time constants that the compiler folds into
    the loop, which runs 1.5-6x faster (the format's shift counts become immediates, and the
    subnormal arithmetic vanishes for formats whose range covers the input's); the kernels ignore
    their ``c`` argument. Each such pair costs about a second of compilation per process without
    a disk cache, so :func:`~lowprec._numba._float.kernels` uses it for large arrays only
    (:data:`SPEC_MIN`).

    The closures capture numbers only: Numba keys its disk cache on their values, and a captured
    function would make every process miss the cache.
    """
    SPEC = consts is not None
    C = tuple(np.int64(v) for v in consts) if SPEC else (np.int64(0),) * 13
    MODE = np.int64(mode)
    STOCH = mode >= SR
    ADDEND = mode in (RNE, RNA, RNZ, RTZ, RTP, RTN)  # quantize through _fast_bits
    FPU = SPEC and mode == RNE and fpu_rne_ok(consts, width)  # ... or through _fpu_rne_bits
    EXPLICIT = bool(explicit_bits) and STOCH
    WORDS = bool(words) and STOCH and width == 32
    IN_M, _, EXPF = (np.int64(v) for v in _in_consts(width))
    WIDTH = np.int64(width)
    SIGNBIT = np.int64(-(1 << (width - 1)))
    LANE = np.int32(0) if width == 32 else np.int64(0)  # the lane type of _w

    @numba.njit(**_NJ)
    def encode_kernel(lo0, hi0, xbits, out, p, c, ovf, key, rbits, n, start):
        """Codes of ``xbits[lo0:hi0]`` into ``out``; returns the number of NaN inputs the format
        cannot encode."""
        if SPEC:
            c = C
        bad = 0
        wb = np.empty(CHUNK if WORDS else 0, np.uint32)
        for lo in range(lo0, hi0, CHUNK):
            hi = min(lo + CHUNK, hi0)
            xs = xbits[lo:hi]  # slices: indices from 0, which the vectoriser handles best
            os_ = out[lo:hi]
            rs = rbits[lo:hi] if EXPLICIT else rbits
            base = start + lo
            if WORDS:
                _chunk_words(wb, EXPLICIT, rs, key, base, hi - lo, n)
            anyslow = False
            for j in range(xs.size):
                xb = np.int64(xs[j])
                if WORDS:
                    r = np.int64(wb[j])
                else:
                    r = _random(STOCH, EXPLICIT, key, rs, base + j if not EXPLICIT else j, n)
                slow, code, _ = _fast_elem(
                    xb & ~SIGNBIT, xb < 0, r, n, c, MODE, IN_M, EXPF, SIGNBIT, LANE, WORDS
                )
                os_[j] = code
                anyslow |= slow
            if anyslow:
                bad += _fix_encode(lo, hi, xbits, out, p, c, MODE, ovf, key, rbits, n, start, EXPLICIT, WIDTH)
        return bad

    @numba.njit(**_NJ)
    def quantize_kernel(lo0, hi0, xbits, x, out, obits, p, c, mag_bits, ovf, key, rbits, n, start, lut):
        """Rounded values of ``x[lo0:hi0]`` into ``out`` (``obits`` its integer view). NaN passes through
        formats without NaN."""
        if SPEC:
            c = C
        wb = np.empty(CHUNK if WORDS else 0, np.uint32)
        for lo in range(lo0, hi0, CHUNK):
            hi = min(lo + CHUNK, hi0)
            xs = xbits[lo:hi]
            os_ = obits[lo:hi]
            rs = rbits[lo:hi] if EXPLICIT else rbits
            base = start + lo
            if WORDS:
                _chunk_words(wb, EXPLICIT, rs, key, base, hi - lo, n)
            anyslow = False
            for j in range(xs.size):
                xb = np.int64(xs[j])
                if WORDS:
                    r = np.int64(wb[j])
                else:
                    r = _random(STOCH, EXPLICIT, key, rs, base + j if not EXPLICIT else j, n)
                if FPU:
                    slow, bits = _fpu_rne_bits(xb & ~SIGNBIT, xb < 0, c, IN_M, EXPF, SIGNBIT, LANE)
                elif ADDEND:
                    slow, bits = _fast_bits(xb & ~SIGNBIT, xb < 0, c, MODE, IN_M, EXPF, SIGNBIT, LANE)
                elif WORDS:
                    slow, bits = _word_bits(xb & ~SIGNBIT, xb < 0, r, c, MODE, IN_M, EXPF, SIGNBIT, LANE)
                else:
                    slow, _, bits = _fast_elem(
                        xb & ~SIGNBIT, xb < 0, r, n, c, MODE, IN_M, EXPF, SIGNBIT, LANE, WORDS
                    )
                os_[j] = bits
                anyslow |= slow
            if anyslow:
                _fix_quantize(
                    lo,
                    hi,
                    xbits,
                    x,
                    out,
                    p,
                    c,
                    MODE,
                    ovf,
                    key,
                    rbits,
                    n,
                    start,
                    EXPLICIT,
                    WIDTH,
                    lut,
                    mag_bits,
                )
        return 0

    return encode_kernel, quantize_kernel
