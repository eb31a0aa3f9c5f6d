"""Scale-based integer quantization (the int8/int4 scheme of inference runtimes), stateless.

``q = clip(round(x / scale) + zero_point, qmin, qmax)`` and ``x' = (q - zero_point) * scale``.
Symmetric schemes have ``zero_point = 0``; asymmetric ones pick the zero point so that the
calibrated range ``[lo, hi]`` (widened to include 0, which is then exact) maps onto
``[qmin, qmax]``. Parameters are per tensor (``axis=None``) or per channel along ``axis`` (one
scale and zero point per index of that axis, reduced over all other axes).

Calibration functions return ``(scale, zero_point)``: float64 and int64 arrays, 0-d per tensor or
1-d per channel. Arithmetic is float64 (``x / scale`` is rounded once, as in most runtimes).

Examples
--------
>>> import numpy as np
>>> x = np.array([-1.0, 0.0, 0.5, 2.0])
>>> scale, zp = calibrate_minmax(x, IntFormat(8), symmetric=False)
>>> q = quantize(x, scale, zp, IntFormat(8))
>>> q
array([-128,  -43,    0,  127])
>>> np.abs(dequantize(q, scale, zp) - x).max() <= scale / 2
np.True_
"""

from __future__ import annotations

import numpy as np

from .formats._int import IntFormat

__all__ = [
    "IntFormat",
    "calibrate_minmax",
    "calibrate_mse",
    "calibrate_percentile",
    "dequantize",
    "fake_quantize",
    "params_from_range",
    "quantize",
]

_ROUNDINGS = ("nearest_even", "nearest_away", "toward_zero", "toward_negative", "toward_positive")


def _check_fmt(fmt: object) -> IntFormat:
    if not isinstance(fmt, IntFormat):
        raise TypeError(f"fmt must be an IntFormat, not {type(fmt).__name__}")
    return fmt


def _float(x: object, what: str = "x") -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype.kind not in "f":
        if arr.dtype.kind in "iub":
            return arr.astype(np.float64)
        raise TypeError(f"{what} must be real numbers, got dtype {arr.dtype}")
    return arr.astype(np.float64, copy=False)


def _reduce_axes(ndim: int, axis: int | None) -> tuple[int, ...] | None:
    if axis is None:
        return None
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of bounds for an array of {ndim} dimensions")
    axis %= ndim
    return tuple(i for i in range(ndim) if i != axis)


def _bcast(p: np.ndarray, ndim: int, axis: int | None) -> np.ndarray:
    p = np.asarray(p)
    if axis is None or p.ndim == 0:
        return p
    shape = [1] * ndim
    shape[axis % ndim] = -1
    return p.reshape(shape)


def params_from_range(
    lo: object, hi: object, fmt: IntFormat, symmetric: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """``(scale, zero_point)`` mapping the range ``[lo, hi]`` onto ``fmt``.

    Symmetric: ``scale = max(|lo|, |hi|) / qmax`` and zero point 0 (unsigned formats: ``hi / qmax``).
    Asymmetric: ``scale = (hi - lo) / (qmax - qmin)`` after widening the range to include 0, and
    ``zero_point = qmin - round(lo / scale)``. An empty range gives scale 1.
    """
    fmt = _check_fmt(fmt)
    lo = np.minimum(np.asarray(lo, dtype=np.float64), 0.0)
    hi = np.maximum(np.asarray(hi, dtype=np.float64), 0.0)
    if symmetric:
        amax = np.maximum(-lo, hi) if fmt.signed else hi
        scale = amax / fmt.qmax
        zp = np.zeros(scale.shape, dtype=np.int64)
        scale = np.where(scale > 0, scale, 1.0)
    else:
        scale = (hi - lo) / (float(fmt.qmax) - float(fmt.qmin))
        scale = np.where(scale > 0, scale, 1.0)
        zp = np.clip(fmt.qmin - np.rint(lo / scale), fmt.qmin, fmt.qmax).astype(np.int64)
    return np.asarray(scale, dtype=np.float64), zp


def calibrate_minmax(
    x: object, fmt: IntFormat, symmetric: bool = True, axis: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(scale, zero_point)`` covering the full range of ``x`` (per tensor or per channel)."""
    arr = _float(x)
    red = _reduce_axes(arr.ndim, axis)
    return params_from_range(arr.min(axis=red), arr.max(axis=red), fmt, symmetric)


def calibrate_percentile(
    x: object, fmt: IntFormat, percentile: float = 99.99, symmetric: bool = True, axis: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(scale, zero_point)`` covering the central ``percentile`` % of ``x`` (outliers clip).

    Symmetric: the ``percentile`` of ``|x|``; asymmetric: the ``100 - percentile`` and
    ``percentile`` percentiles of ``x``.
    """
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {percentile}")
    arr = _float(x)
    red = _reduce_axes(arr.ndim, axis)
    if symmetric:
        amax = np.percentile(np.abs(arr), percentile, axis=red)
        return params_from_range(-amax, amax, fmt, True)
    lo = np.percentile(arr, 100 - percentile, axis=red)
    hi = np.percentile(arr, percentile, axis=red)
    return params_from_range(lo, hi, fmt, False)


def calibrate_mse(
    x: object, fmt: IntFormat, symmetric: bool = True, axis: int | None = None, num_candidates: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """``(scale, zero_point)`` minimising the mean squared quantization error of ``x``.

    Searches ``num_candidates`` clipping ratios ``k / num_candidates`` (k = 1..num_candidates) of
    the min/max range and keeps, per tensor or per channel, the one with the smallest error (the
    first on ties). The min/max parameters are among the candidates, so the result is never worse.
    """
    if num_candidates < 1:
        raise ValueError("num_candidates must be >= 1")
    arr = _float(x)
    red = _reduce_axes(arr.ndim, axis)
    lo, hi = arr.min(axis=red), arr.max(axis=red)
    best_err = best_scale = best_zp = None
    for k in range(1, num_candidates + 1):
        a = k / num_candidates
        scale, zp = params_from_range(lo * a, hi * a, fmt, symmetric)
        err = np.mean((fake_quantize(arr, scale, zp, fmt, axis) - arr) ** 2, axis=red)
        if best_err is None:
            best_err, best_scale, best_zp = err, scale, zp
        else:
            better = err < best_err
            best_err = np.where(better, err, best_err)
            best_scale = np.where(better, scale, best_scale)
            best_zp = np.where(better, zp, best_zp)
    return np.asarray(best_scale, dtype=np.float64), np.asarray(best_zp, dtype=np.int64)


def _round(v: np.ndarray, rounding: str) -> np.ndarray:
    if rounding == "nearest_even":
        return np.rint(v)
    if rounding == "nearest_away":
        return np.copysign(np.floor(np.abs(v) + 0.5), v)
    if rounding == "toward_zero":
        return np.trunc(v)
    if rounding == "toward_negative":
        return np.floor(v)
    if rounding == "toward_positive":
        return np.ceil(v)
    raise ValueError(f"unknown rounding {rounding!r}; choose one of {', '.join(_ROUNDINGS)}")


def quantize(
    x: object,
    scale: object,
    zero_point: object,
    fmt: IntFormat,
    axis: int | None = None,
    rounding: str = "nearest_even",
) -> np.ndarray:
    """Integer codes ``clip(round(x / scale) + zero_point, qmin, qmax)`` (int64; uint64 for uint64).

    ``scale`` / ``zero_point`` are scalars (per tensor) or 1-d arrays along ``axis`` (per channel).
    NaN inputs raise ValueError; infinities clip.
    """
    fmt = _check_fmt(fmt)
    arr = _float(x)
    if np.isnan(arr).any():
        raise ValueError("NaN cannot be quantized to an integer format")
    s = _bcast(np.asarray(scale, dtype=np.float64), arr.ndim, axis)
    if np.any(~(s > 0)):
        raise ValueError("scale must be positive")
    z = _bcast(np.asarray(zero_point, dtype=np.float64), arr.ndim, axis)
    q = np.clip(_round(arr / s, rounding) + z, float(fmt.qmin), float(fmt.qmax))
    if not fmt.signed and fmt.bits == 64:
        return q.astype(np.uint64)
    if fmt.bits == 64:  # float(2**63 - 1) is 2**63, which int64 cannot hold
        q = np.minimum(q, np.nextafter(2.0**63, 0.0))
    return q.astype(np.int64)


def dequantize(q: object, scale: object, zero_point: object, axis: int | None = None) -> np.ndarray:
    """Float64 values ``(q - zero_point) * scale``."""
    qa = np.asarray(q)
    if qa.dtype.kind not in "iu":
        raise TypeError(f"codes must be integers, got dtype {qa.dtype}")
    s = _bcast(np.asarray(scale, dtype=np.float64), qa.ndim, axis)
    z = _bcast(np.asarray(zero_point, dtype=np.float64), qa.ndim, axis)
    return (qa.astype(np.float64) - z) * s


def fake_quantize(
    x: object,
    scale: object,
    zero_point: object,
    fmt: IntFormat,
    axis: int | None = None,
    rounding: str = "nearest_even",
) -> np.ndarray:
    """``dequantize(quantize(x))`` in ``x``'s float dtype (float64 for integer input)."""
    arr = np.asarray(x)
    out = dequantize(quantize(arr, scale, zero_point, fmt, axis, rounding), scale, zero_point, axis)
    return out.astype(arr.dtype) if arr.dtype.kind == "f" else out
