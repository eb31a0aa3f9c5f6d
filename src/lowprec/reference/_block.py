"""Exact reference for block-scaled formats, written from the spec with Fractions and loops.

One Python loop over blocks; scales are computed with exact rational arithmetic, elements with
:func:`encode_reference` (power-of-two scales: ``x * 2**-e`` is exact in float64) or the scalar
Fraction definition :func:`round_to_code` (non-power-of-two scales: ``x / s`` exactly, never
``x * (1/s)``). The conventions are those of ``docs/block_formats.md``.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ..formats._block import BlockFormat, block_geometry
from ..formats._float import FloatFormat
from ..formats._registry import FORMATS
from ..rounding import Overflow, Rounding
from ._float import _floor_log2, decode_code, round_to_code
from ._vector import decode_reference, encode_reference

__all__ = [
    "decode_block_reference",
    "encode_block_reference",
    "quantize_block_reference",
    "tensor_scale_reference",
]

_F32: FloatFormat = FORMATS["float32"]


def _udtype(nbits: int) -> type:
    return np.uint8 if nbits <= 8 else np.uint16


def _ceil_log2(t: Fraction) -> int:
    e = _floor_log2(t)
    return e if Fraction(2) ** e == t else e + 1


def tensor_scale_reference(x: np.ndarray, fmt: BlockFormat) -> float:
    """The float32 per-tensor scale ``RNE_f32(amax / (max_elem * max_scale))`` (1 when unused or amax = 0)."""
    if not fmt.tensor_scale:
        return 1.0
    a = np.abs(np.asarray(x, dtype=np.float64))
    a = a[np.isfinite(a)]
    amax = float(a.max()) if a.size else 0.0
    if amax == 0:
        return 1.0
    q = Fraction(amax) / (fmt.element_max * fmt.scale.max_finite)  # type: ignore[union-attr]
    g = decode_code(round_to_code(q, _F32, Rounding.NEAREST_EVEN, Overflow.SATURATE), _F32)
    return g if g > 0 else float(_F32.min_subnormal)


def _pow2_exponent(amax: float, fmt: BlockFormat) -> int:
    """Scale exponent of a block with finite ``amax`` under a power-of-two rule (before clamping)."""
    s: FloatFormat = fmt.scale  # type: ignore[assignment]
    if amax == 0:
        return s.emin_
    a = Fraction(amax)
    big_e = _floor_log2(a)
    emax = fmt.element_emax
    rule = fmt.scale_rule
    if rule == "floor":
        return big_e - emax
    if rule == "ceil":
        return _ceil_log2(a) - emax
    if rule == "even":
        m_bits = fmt.element_format.mbits
        sig = a / Fraction(2) ** big_e  # in [1, 2)
        rounded = math.floor(sig * 2**m_bits + Fraction(1, 2))  # ties away, as torchao
        return big_e + (1 if rounded >= 2 ** (m_bits + 1) else 0) - emax
    if rule == "rceil":
        return _ceil_log2(a / fmt.element_max)
    raise AssertionError(rule)


def _block_scale(v: np.ndarray, fmt: BlockFormat, g: float) -> tuple[int, Fraction | None, int | None]:
    """(scale code, scale value or None for NaN, exponent for power-of-two scales)."""
    s: FloatFormat = fmt.scale  # type: ignore[assignment]
    if not np.all(np.isfinite(v)):
        return s.nan_code, None, None
    amax = float(np.max(np.abs(v))) if v.size else 0.0
    if fmt.pow2_scale:
        e = min(max(_pow2_exponent(amax, fmt), s.emin_), s.emax_)
        return round_to_code(Fraction(2) ** e, s), Fraction(2) ** e, e
    if amax == 0:
        code = round_to_code(s.min_subnormal, s)
    else:
        code = round_to_code(Fraction(amax) / (fmt.element_max * Fraction(g)), s)
        if code & ~s.sign_mask == 0:
            code = round_to_code(s.min_subnormal, s)
    return code, Fraction(decode_code(code, s)), None


def _to_twos(codes: np.ndarray, fmt: BlockFormat) -> np.ndarray:
    ef = fmt.element_format
    c = codes.astype(np.int64)
    mag = c & ((1 << ef.mag_bits) - 1)
    val = np.where(c & ef.sign_mask, -mag, mag)
    return (val & ((1 << ef.nbits) - 1)).astype(_udtype(ef.nbits))


def encode_block_reference(
    x: np.ndarray,
    fmt: BlockFormat,
    axis: object = None,
    mode: Rounding = Rounding.NEAREST_EVEN,
    random_bits: np.ndarray | None = None,
    n_random_bits: int = 0,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Element codes (shape of ``x``, unpacked), scale codes and the tensor scale of ``x``.

    Parameters
    ----------
    x
        Float array (any float dtype; widened to float64 exactly).
    fmt
        The block format.
    axis
        Block axis (axes for 2-D blocks); ``None`` takes ``fmt.axis``.
    mode, random_bits, n_random_bits
        Element rounding; stochastic modes need explicit ``random_bits`` of ``x``'s shape
        (element ``i`` in flat C order of ``x`` uses ``random_bits.flat[i]``).

    Returns
    -------
    codes, scales, tensor_scale
        Integer element codes (two's complement for integer elements), scale codes of shape
        :func:`~lowprec.formats._block.block_geometry`'s ``scale_shape``, and the float tensor scale.
    """
    x64 = np.asarray(x).astype(np.float64)
    dims, (b1, b2), sshape = block_geometry(x64.shape, fmt, axis)
    ef = fmt.element_format
    s: FloatFormat = fmt.scale  # type: ignore[assignment]
    g = tensor_scale_reference(x64, fmt)
    xv = x64.reshape(dims)
    rv = None
    if mode.is_stochastic:
        if random_bits is None:
            raise ValueError("stochastic rounding needs random_bits")
        rv = np.asarray(random_bits).astype(np.int64).reshape(dims)
    codes = np.zeros(dims, dtype=np.int64)
    scales = np.zeros(
        (dims[0], -(-dims[1] // b1), dims[2], -(-dims[3] // b2), dims[4]), dtype=_udtype(s.nbits)
    )
    for p, j1, q, j2, r in np.ndindex(*scales.shape):
        sl = (p, slice(j1 * b1, (j1 + 1) * b1), q, slice(j2 * b2, (j2 + 1) * b2), r)
        v = xv[sl]
        scode, sval, e = _block_scale(v, fmt, g)
        scales[p, j1, q, j2, r] = scode
        if sval is None:
            codes[sl] = 0  # NaN block: the scale says it all
            continue
        rb = None if rv is None else rv[sl]
        if e is not None and np.all((v == 0) | (np.abs(v) * 2.0**-e >= 2.0**-1000)):
            c = encode_reference(np.ldexp(v, -e), ef, mode, Overflow.SATURATE, rb, n_random_bits)  # exact
        else:
            div = sval * Fraction(g)
            c = np.empty(v.shape, dtype=np.int64)
            for idx in np.ndindex(*v.shape):
                xi = float(v[idx])
                val = xi if xi == 0 else Fraction(xi) / div
                ri = 0 if rb is None else int(rb[idx])
                c[idx] = round_to_code(val, ef, mode, Overflow.SATURATE, ri, n_random_bits)
        codes[sl] = c
    codes = codes.reshape(x64.shape).astype(_udtype(ef.nbits))
    if fmt.element_is_int:
        codes = _to_twos(codes, fmt)
    return codes, scales.reshape(sshape), g


def decode_block_reference(
    codes: np.ndarray, scales: np.ndarray, fmt: BlockFormat, axis: object = None, tensor_scale: float = 1.0
) -> np.ndarray:
    """Float64 values of unpacked element codes (shape of the array) and scale codes (exact)."""
    codes = np.asarray(codes)
    dims, (b1, b2), _ = block_geometry(codes.shape, fmt, axis)
    ef = fmt.element_format
    s: FloatFormat = fmt.scale  # type: ignore[assignment]
    if fmt.element_is_int:
        n = ef.nbits
        k = codes.astype(np.int64)
        k = np.where(k >= 1 << (n - 1), k - (1 << n), k)
        ev = np.ldexp(k.astype(np.float64), -(n - 2))
    else:
        ev = decode_reference(codes, ef)
    sv = decode_reference(np.asarray(scales), s).reshape(dims[0], -1, dims[2], -(-dims[3] // b2), dims[4])
    sv = np.repeat(np.repeat(sv, b1, axis=1)[:, : dims[1]], b2, axis=3)[:, :, :, : dims[3]]
    out = ev.reshape(dims) * sv * tensor_scale  # exact: the format keeps the product within 53 bits
    return out.reshape(codes.shape)


def quantize_block_reference(
    x: np.ndarray,
    fmt: BlockFormat,
    axis: object = None,
    mode: Rounding = Rounding.NEAREST_EVEN,
    random_bits: np.ndarray | None = None,
    n_random_bits: int = 0,
) -> np.ndarray:
    """Dequantized values of ``x`` (float64): ``decode(encode(x))``; blocks with NaN/Inf are all NaN."""
    codes, scales, g = encode_block_reference(x, fmt, axis, mode, random_bits, n_random_bits)
    return decode_block_reference(codes, scales, fmt, axis, g)
