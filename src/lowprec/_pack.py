"""Sub-byte packing of codes and conversion to and from ml_dtypes arrays."""

from __future__ import annotations

import ml_dtypes
import numpy as np

from .formats._float import FloatFormat
from .formats._registry import get_format

__all__ = ["from_ml_dtypes", "pack", "to_ml_dtypes", "unpack"]

_ML_NAMES = (
    "bfloat16 float8_e5m2 float8_e5m2fnuz float8_e4m3 float8_e4m3fn float8_e4m3fnuz float8_e4m3b11fnuz "
    "float8_e3m4 float8_e8m0fnu float6_e2m3fn float6_e3m2fn float4_e2m1fn"
).split()


def pack(codes: np.ndarray, fmt: object) -> np.ndarray:
    """Pack the codes of a sub-byte format densely into bytes, least significant bits first.

    Two FP4 codes share a byte (element 0 in the low nibble); FP6 packs four codes into three
    bytes. The array is flattened in C order; formats of 8 bits or more are returned unchanged
    as bytes of their code dtype.

    Examples
    --------
    >>> import numpy as np, lowprec
    >>> lowprec.pack(np.array([0x1, 0x2, 0xF], dtype=np.uint8), "float4_e2m1fn")
    array([33, 15], dtype=uint8)
    """
    f = get_format(fmt)
    nbits = f.nbits
    c = np.asarray(codes)
    if c.dtype.kind not in "iu":
        raise TypeError(f"codes must be integers, got dtype {c.dtype}")
    c = c.reshape(-1)
    if c.size and (int(c.min()) < 0 or int(c.max()) >= (1 << nbits)):
        raise ValueError(f"codes out of range for the {nbits}-bit format {f}")
    if nbits >= 8:
        from ._api import codes_dtype

        return np.ascontiguousarray(c.astype(codes_dtype(f))).view(np.uint8)
    bits = np.unpackbits(c.astype(np.uint8)[:, None], axis=1, bitorder="little")[:, :nbits]
    return np.packbits(bits.reshape(-1), bitorder="little")


def unpack(
    packed: np.ndarray, fmt: object, count: int | None = None, shape: tuple | None = None
) -> np.ndarray:
    """Inverse of :func:`pack`: ``count`` codes (or ``shape``) from packed bytes."""
    f = get_format(fmt)
    p = np.asarray(packed)
    if p.dtype != np.uint8:
        raise TypeError(f"packed data must be uint8, got {p.dtype}")
    p = p.reshape(-1)
    if shape is not None:
        count = int(np.prod(shape))
    nbits = f.nbits
    if nbits >= 8:
        from ._api import codes_dtype

        out = p.view(codes_dtype(f))
        out = out if count is None else out[:count]
    else:
        avail = p.size * 8 // nbits
        count = avail if count is None else count
        if count > avail:
            raise ValueError(f"{p.size} bytes hold only {avail} codes of {nbits} bits, asked for {count}")
        bits = np.unpackbits(p, bitorder="little")[: count * nbits].reshape(count, nbits)
        out = (bits.astype(np.uint8) << np.arange(nbits, dtype=np.uint8)).sum(axis=1).astype(np.uint8)
    return out.reshape(shape) if shape is not None else out


def to_ml_dtypes(codes: np.ndarray, fmt: object) -> np.ndarray:
    """View codes as the ml_dtypes array of the same format (one element per byte for FP4/FP6)."""
    f = get_format(fmt)
    if not isinstance(f, FloatFormat) or f.name not in _ML_NAMES:
        raise ValueError(f"ml_dtypes has no type for {f}")
    dt = np.dtype(getattr(ml_dtypes, f.name))
    c = np.asarray(codes)
    return np.ascontiguousarray(c.astype(np.uint8 if dt.itemsize == 1 else np.uint16)).view(dt)


def from_ml_dtypes(arr: np.ndarray) -> tuple[np.ndarray, FloatFormat]:
    """The codes and format of an ml_dtypes array (bfloat16, float8_*, float6_*, float4_*)."""
    a = np.asarray(arr)
    name = a.dtype.name
    if name not in _ML_NAMES:
        raise TypeError(f"{a.dtype} is not an ml_dtypes float type lowprec knows")
    f = get_format(name)
    return np.ascontiguousarray(a).view(np.uint8 if a.dtype.itemsize == 1 else np.uint16).copy(), f  # type: ignore[return-value]
