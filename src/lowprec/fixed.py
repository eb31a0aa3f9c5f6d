"""Exact fixed-point arithmetic with HLS ``ap_fixed`` result types.

A :class:`FixedArray` holds int64 codes and a :class:`FixedFormat`. ``+``, ``-``, ``*``, ``sum`` and
``matmul`` are exact: the result format grows as HLS's does, and nothing is rounded until an
explicit :meth:`FixedArray.cast` (HLS rounds only on assignment to a declared type). Results whose
format would need more than 64 bits raise OverflowError instead of silently wrapping.

Growth rules (``Wi, Ii, Si`` of the operands, ``F = max(F1, F2)``):

- ``a + b``: ``I = max(I1 + (S2 and not S1), I2 + (S1 and not S2)) + 1``, ``W = I + F``, signed iff
  either is; ``a - b`` is the same but always signed.
- ``a * b``: ``W = W1 + W2``, ``I = I1 + I2``, signed iff either is.
- ``sum`` of ``n`` terms and the dot products of ``matmul`` (``n`` = the inner dimension): the
  element (or product) format with ``ceil(log2(n))`` more integer bits, the smallest type that
  holds any such sum (a balanced adder tree).

Examples
--------
>>> a = FixedArray.from_float([3.5], FixedFormat(8, 4))
>>> b = FixedArray.from_float([-1.25], FixedFormat(9, 3))
>>> (a + b).fmt, (a * b).fmt
(FixedFormat(bits=11, int_bits=5, signed=True), FixedFormat(bits=17, int_bits=7, signed=True))
>>> (a * b).to_float()
array([-4.375])
"""

from __future__ import annotations

import math

import numpy as np

from ._fixed_api import fixed_cast_codes, fixed_decode, fixed_encode
from ._fixed_modes import FixedOverflow, FixedRounding
from .formats._fixed import FixedFormat

__all__ = [
    "FixedArray",
    "FixedFormat",
    "add_format",
    "hls_accumulate",
    "mul_format",
    "sub_format",
    "sum_format",
]


def _fits(fmt: FixedFormat) -> bool:
    return fmt.bits <= 64 if fmt.signed else fmt.bits <= 63


def _make(bits: int, int_bits: int, signed: bool, what: str) -> FixedFormat:
    if (signed and bits > 64) or (not signed and bits > 63):
        raise OverflowError(
            f"the exact result of {what} needs ap_{'' if signed else 'u'}fixed<{bits},{int_bits}>, "
            "wider than the 64-bit accumulator; cast the operands to narrower formats first"
        )
    return FixedFormat(bits, int_bits, signed)


def add_format(a: FixedFormat, b: FixedFormat, subtract: bool = False) -> FixedFormat:
    """HLS's exact result format of ``a + b`` (``a - b`` with ``subtract``)."""
    f = max(a.frac_bits, b.frac_bits)
    i = max(a.int_bits + (b.signed and not a.signed), b.int_bits + (a.signed and not b.signed)) + 1
    return _make(i + f, i, a.signed or b.signed or subtract, "a subtraction" if subtract else "an addition")


def sub_format(a: FixedFormat, b: FixedFormat) -> FixedFormat:
    """HLS's exact result format of ``a - b`` (always signed)."""
    return add_format(a, b, subtract=True)


def mul_format(a: FixedFormat, b: FixedFormat) -> FixedFormat:
    """HLS's exact result format of ``a * b``."""
    return _make(a.bits + b.bits, a.int_bits + b.int_bits, a.signed or b.signed, "a product")


def sum_format(fmt: FixedFormat, n: int) -> FixedFormat:
    """Exact format of a sum of ``n`` values of ``fmt``: ``ceil(log2(n))`` more integer bits."""
    g = math.ceil(math.log2(n)) if n > 1 else 0
    return _make(fmt.bits + g, fmt.int_bits + g, fmt.signed, f"a sum of {n} terms")


def _align(codes: np.ndarray, src: FixedFormat, dst: FixedFormat) -> np.ndarray:
    """Codes of ``src`` re-expressed with ``dst.frac_bits`` (exact: dst has at least as many)."""
    return codes << (dst.frac_bits - src.frac_bits)


class FixedArray:
    """An array of fixed-point numbers: int64 codes and their :class:`FixedFormat`.

    Parameters
    ----------
    codes
        Integer codes (value = code * 2**-frac_bits), checked against the format's range.
    fmt
        The format; its codes must fit int64 (signed up to 64 bits, unsigned up to 63).

    Notes
    -----
    Arithmetic is exact with HLS result types (see the module docstring). Only :meth:`cast`
    rounds. ``np.asarray(fixed_array)`` gives the float64 values.
    """

    __array_priority__ = 20

    def __init__(self, codes: object, fmt: FixedFormat) -> None:
        if not isinstance(fmt, FixedFormat):
            raise TypeError(f"fmt must be a FixedFormat, not {type(fmt).__name__}")
        if not _fits(fmt):
            raise ValueError(f"{fmt} codes do not fit int64 (unsigned formats up to 63 bits)")
        c = np.asarray(codes)
        if c.dtype.kind not in "iu":
            raise TypeError(
                f"codes must be integers, got dtype {c.dtype}; use FixedArray.from_float for values"
            )
        if c.size and (int(c.min()) < fmt.min_code or int(c.max()) > fmt.max_code):
            raise ValueError(f"codes outside [{fmt.min_code}, {fmt.max_code}] of {fmt}")
        self.codes: np.ndarray = c.astype(np.int64)
        self.fmt: FixedFormat = fmt

    @classmethod
    def _raw(cls, codes: np.ndarray, fmt: FixedFormat) -> FixedArray:
        obj = cls.__new__(cls)
        obj.codes, obj.fmt = codes, fmt
        return obj

    @classmethod
    def from_float(
        cls,
        x: object,
        fmt: FixedFormat,
        rounding: str | FixedRounding = "TRN",
        overflow: str | FixedOverflow = "WRAP",
        sat_bits: int = 0,
        seed: int | None = None,
    ) -> FixedArray:
        """Convert floats exactly, then round and overflow (HLS defaults TRN, WRAP)."""
        if not _fits(fmt):
            raise ValueError(f"{fmt} codes do not fit int64 (unsigned formats up to 63 bits)")
        x = np.asarray(x, dtype=np.float64) if np.asarray(x).dtype.kind in "iu" else x
        codes = np.asarray(fixed_encode(x, fmt, rounding, overflow, sat_bits, seed=seed))
        return cls._raw(codes.astype(np.int64), fmt)

    # ---- views ----------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the array."""
        return self.codes.shape

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self.codes.ndim

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, key: object) -> FixedArray:
        return FixedArray._raw(np.asarray(self.codes[key]), self.fmt)

    def to_float(self) -> np.ndarray:
        """float64 values (exact while codes have at most 53 significant bits)."""
        return fixed_decode(self.codes, self.fmt)

    def __array__(self, dtype: object = None, copy: object = None) -> np.ndarray:
        v = self.to_float()
        return v if dtype is None else v.astype(dtype)

    def to_bits(self) -> np.ndarray:
        """Unsigned bit patterns (uint64, the low ``bits`` bits of each code)."""
        return self.codes.view(np.uint64) & np.uint64((1 << self.fmt.bits) - 1)

    def __repr__(self) -> str:
        return f"FixedArray({self.to_float()!r}, {self.fmt})"

    # ---- arithmetic -----------------------------------------------------------------------------
    def _other(self, other: object) -> FixedArray:
        if not isinstance(other, FixedArray):
            raise TypeError(f"fixed-point arithmetic needs FixedArray operands, not {type(other).__name__}")
        return other

    def __add__(self, other: object) -> FixedArray:
        if not isinstance(other, FixedArray):
            return NotImplemented
        fmt = add_format(self.fmt, other.fmt)
        return FixedArray._raw(_align(self.codes, self.fmt, fmt) + _align(other.codes, other.fmt, fmt), fmt)

    def __sub__(self, other: object) -> FixedArray:
        if not isinstance(other, FixedArray):
            return NotImplemented
        fmt = sub_format(self.fmt, other.fmt)
        return FixedArray._raw(_align(self.codes, self.fmt, fmt) - _align(other.codes, other.fmt, fmt), fmt)

    def __mul__(self, other: object) -> FixedArray:
        if not isinstance(other, FixedArray):
            return NotImplemented
        return FixedArray._raw(self.codes * other.codes, mul_format(self.fmt, other.fmt))

    def __neg__(self) -> FixedArray:
        fmt = _make(self.fmt.bits + 1, self.fmt.int_bits + 1, True, "a negation")
        return FixedArray._raw(-self.codes, fmt)

    def sum(self, axis: int | None = None) -> FixedArray:
        """Exact sum (over all elements, or one axis); see :func:`sum_format` for the format."""
        n = self.codes.size if axis is None else self.codes.shape[axis]
        fmt = sum_format(self.fmt, max(n, 1))
        return FixedArray._raw(np.asarray(self.codes.sum(axis=axis)), fmt)

    def __matmul__(self, other: object) -> FixedArray:
        if not isinstance(other, FixedArray):
            return NotImplemented
        k = self.codes.shape[-1]
        fmt = sum_format(mul_format(self.fmt, other.fmt), max(k, 1))
        return FixedArray._raw(np.asarray(np.matmul(self.codes, other.codes)), fmt)

    def matmul(self, other: FixedArray) -> FixedArray:
        """Exact matrix product (``self @ other``)."""
        return self @ self._other(other)

    def cast(
        self,
        fmt: FixedFormat,
        rounding: str | FixedRounding = "TRN",
        overflow: str | FixedOverflow = "WRAP",
        sat_bits: int = 0,
        seed: int | None = None,
        random_bits: object = None,
        n_random_bits: int | None = None,
    ) -> FixedArray:
        """Round to ``fmt`` (once, from the exact value), then apply the overflow mode: an HLS
        assignment to ``ap_fixed<W, I, Q, O, N>``."""
        if not _fits(fmt):
            raise ValueError(f"{fmt} codes do not fit int64 (unsigned formats up to 63 bits)")
        codes = fixed_cast_codes(self.codes, self.fmt, fmt, rounding, overflow, sat_bits, seed, random_bits,
                                 n_random_bits)  # fmt: skip
        return FixedArray._raw(codes.astype(np.int64), fmt)

    def __eq__(self, other: object) -> bool:  # type: ignore[override]
        return (
            isinstance(other, FixedArray)
            and self.fmt == other.fmt
            and np.array_equal(self.codes, other.codes)
        )

    __hash__ = None  # type: ignore[assignment]


def hls_accumulate(
    a: FixedArray,
    b: FixedArray,
    acc_fmt: FixedFormat,
    rounding: str | FixedRounding = "TRN",
    overflow: str | FixedOverflow = "WRAP",
    sat_bits: int = 0,
) -> FixedArray:
    """Dot products along the last axis, as the HLS loop ``acc = acc + a[k] * b[k]`` with ``acc``
    declared as ``acc_fmt``.

    Each step forms the exact product and the exact sum ``acc + a*b`` and casts that sum once to
    ``acc_fmt`` (``rounding``, ``overflow``, ``sat_bits``), exactly what ``acc += a[k]*b[k]`` does
    in HLS C++. (APyTypes' accumulator context rounds the product before the add instead, which
    differs for most modes.) The accumulator starts at 0.

    Parameters
    ----------
    a, b
        FixedArrays of the same shape ``(..., K)``.
    acc_fmt
        The accumulator's declared format.

    Returns
    -------
    FixedArray
        Shape ``(...)``, format ``acc_fmt``.
    """
    if not isinstance(a, FixedArray) or not isinstance(b, FixedArray):
        raise TypeError("hls_accumulate takes FixedArray operands")
    if a.shape != b.shape or a.ndim == 0:
        raise ValueError(f"a and b must have the same shape (..., K), got {a.shape} and {b.shape}")
    acc = FixedArray._raw(np.zeros(a.shape[:-1], dtype=np.int64), acc_fmt)
    for k in range(a.shape[-1]):
        acc = (acc + a[..., k] * b[..., k]).cast(acc_fmt, rounding, overflow, sat_bits)
    return acc
