"""The NumPy frontend: quantize, encode and decode arrays to any float format."""

from __future__ import annotations

import functools
import secrets

import ml_dtypes
import numpy as np

from ._dispatch import resolve_backend
from ._params import float_params
from .formats._float import FloatFormat
from .formats._registry import get_format
from .rounding import Overflow, Rounding, parse_rounding, resolve_overflow

__all__ = ["codes_dtype", "decode", "encode", "quantize"]

_FLOAT_DTYPES = (
    np.dtype(np.float16),
    np.dtype(ml_dtypes.bfloat16),
    np.dtype(np.float32),
    np.dtype(np.float64),
)
DEFAULT_SR_BITS = 32


def codes_dtype(fmt: FloatFormat) -> np.dtype:
    """The unsigned integer dtype that holds a format's codes (``fmt.codes_dtype``)."""
    return fmt.codes_dtype


def _as_float_array(x: object, name: str = "x") -> tuple[np.ndarray, bool]:
    """Validate the input; return (array, was_python_scalar)."""
    if isinstance(x, bool):
        raise TypeError(f"{name} must be floating point, got bool")
    if isinstance(x, (int, float)):
        return np.array(float(x), dtype=np.float64), True
    if isinstance(x, np.generic) and not isinstance(x, np.ndarray):
        x = np.asarray(x)
    if not isinstance(x, np.ndarray):
        if hasattr(x, "__array__") or isinstance(x, (list, tuple)):
            x = np.asarray(x)
        else:
            raise TypeError(f"{name} must be a NumPy array or a Python float, not {type(x).__name__}")
    if x.dtype not in _FLOAT_DTYPES:
        kind = "complex" if x.dtype.kind == "c" else "integer" if x.dtype.kind in "iub" else str(x.dtype)
        raise TypeError(
            f"{name} has dtype {x.dtype} ({kind}); lowprec rounds float16, bfloat16, float32 and float64 "
            "arrays: convert explicitly, e.g. x.astype(np.float64)"
        )
    return x, False


def _resolve_float_format(fmt: object, subnormals: bool | None) -> FloatFormat:
    f = get_format(fmt)
    if not isinstance(f, FloatFormat):
        raise TypeError(f"{f} is not a floating-point format")
    if subnormals is not None and bool(subnormals) != f.subnormals:
        f = f.replace(subnormals=bool(subnormals))
    return f


def _random_args(
    mode: Rounding, size: int, shape: tuple, seed: int | None, random_bits: object, n: int | None
) -> tuple[int, np.ndarray, int]:
    """(seed, explicit bits or empty, n) for a call; validates the stochastic options."""
    if not mode.is_stochastic:
        if random_bits is not None or seed is not None:
            raise ValueError(f"seed/random_bits only apply to stochastic rounding, not {mode.name.lower()}")
        return 0, np.empty(0, np.uint64), 0
    n = DEFAULT_SR_BITS if n is None else int(n)
    if not 1 <= n <= 52:
        raise ValueError(f"n_random_bits must be in [1, 52], got {n}")
    if random_bits is not None:
        if seed is not None:
            raise ValueError("give seed or random_bits, not both")
        r = np.asarray(random_bits)
        if r.dtype.kind not in "iu":
            raise TypeError(f"random_bits must be unsigned integers, got dtype {r.dtype}")
        if r.shape != shape:
            raise ValueError(f"random_bits has shape {r.shape}, expected {shape}")
        if r.size and (r.min() < 0 or int(r.max()) >= (1 << n)):
            raise ValueError(f"random_bits must lie in [0, 2**{n})")
        return 0, np.ascontiguousarray(r.reshape(-1)).astype(np.uint64, copy=False), n
    if seed is None:
        seed = secrets.randbits(64)
    if not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, not {type(seed).__name__}")
    return int(seed), np.empty(0, np.uint64), n


def _kparams(fmt: FloatFormat) -> tuple:
    """FloatParams as int64 bit patterns (a 64-bit format's sign bit wraps to the int64 sign)."""
    return tuple(v - (1 << 64) if v >= (1 << 63) else v for v in float_params(fmt))


@functools.lru_cache(maxsize=256)
def _lut(fmt: FloatFormat, dtype: np.dtype) -> np.ndarray:
    from ._numba._float import decode_kernel

    codes = np.arange(1 << fmt.nbits, dtype=np.int64)
    vals = np.empty(codes.size, dtype=np.float64)
    decode_kernel(codes, vals, _kparams(fmt), np.int64(fmt.mag_bits))
    with np.errstate(over="ignore"):
        return vals.astype(dtype)


def _numba_call(xf: np.ndarray, fmt, mode, ovf, seed, rbits, n, out, what: str) -> int:
    """Run the Numba kernel on contiguous 1-d float32/float64 ``xf`` into 1-d ``out``."""
    from ._numba._float import kernels
    from ._numba._random import sr_key

    if xf.dtype == np.float32:
        xbits, in_m, in_bias, width = xf.view(np.int32), 23, 127, 32
        in_expmask = 0xFF
    else:
        xbits, in_m, in_bias, width = xf.view(np.int64), 52, 1023, 64
        in_expmask = 0x7FF
    p = _kparams(fmt)
    key = sr_key(seed)
    encode_kernel, quantize_kernel = kernels(int(mode))
    args = (in_m, in_bias, in_expmask, width, p)
    if what == "encode":
        return encode_kernel(xbits, out, *args, int(ovf), key, rbits, n, 0)
    lut = _lut(fmt, out.dtype) if fmt.nbits <= 16 else np.empty(0, out.dtype)
    obits = out.view(xbits.dtype)
    quantize_kernel(xbits, xf, out, obits, *args, np.int64(fmt.mag_bits), int(ovf), key, rbits, n, 0, lut)
    return 0


def _prepare(x, fmt, rounding, overflow, subnormals, seed, random_bits, n_random_bits):
    arr, scalar = _as_float_array(x)
    f = _resolve_float_format(fmt, subnormals)
    mode = parse_rounding(rounding)
    ovf = resolve_overflow(f, overflow)
    seed_, rbits, n = _random_args(mode, arr.size, arr.shape, seed, random_bits, n_random_bits)
    return arr, scalar, f, mode, ovf, seed_, rbits, n


def _work_dtype(arr: np.ndarray) -> np.dtype:
    return np.dtype(np.float64) if arr.dtype == np.float64 else np.dtype(np.float32)


def quantize(
    x: object,
    fmt: object,
    rounding: str | Rounding = "nearest_even",
    *,
    overflow: str | Overflow | None = None,
    subnormals: bool | None = None,
    seed: int | None = None,
    random_bits: object = None,
    n_random_bits: int | None = None,
    out: np.ndarray | None = None,
    backend: str = "auto",
    **kwargs: object,
) -> np.ndarray:
    """Round every element of ``x`` to ``fmt`` and return the values in ``x``'s own dtype.

    Parameters
    ----------
    x
        float16, bfloat16 (ml_dtypes), float32 or float64 array, or a Python float. Each element is
        rounded once, from its own precision (float64 never passes through float32). A dask array
        gives a lazy dask array with the same bits.
    fmt
        Format name (``"float8_e4m3fn"``, ``"bfloat16"``, ``"p3109_k8p3se"``...) or format object.
    rounding
        ``nearest_even`` (default), ``nearest_away``, ``nearest_zero``, ``toward_zero``,
        ``toward_positive``, ``toward_negative``, ``to_odd``, ``stochastic``, ``stochastic_equal``.
    overflow
        ``saturate``, ``infinity`` or ``nan``; ``None`` takes the format's own non-saturating
        default (Inf for IEEE-style, NaN for fn/fnuz, saturate for FP6/FP4).
    subnormals
        Override the format's gradual underflow (``False``: flush to 0 or the smallest normal).
    seed, random_bits, n_random_bits
        Stochastic rounding only. ``seed`` keys a counter-based generator (same bits for any
        thread count and on GPU); ``random_bits`` gives the integers explicitly (shape of ``x``,
        values in ``[0, 2**n_random_bits)``; P3109 StochasticA). ``n_random_bits`` defaults to 32.
        Without either, a fresh seed is drawn from the OS (not reproducible).
    out
        Optional output array of the same shape and dtype (may be ``x`` itself to round in place).
    backend
        ``"auto"`` (Numba), ``"numba"``, ``"cpp"`` or ``"reference"``.

    Returns
    -------
    numpy.ndarray
        The rounded values (a NumPy scalar for a Python-float input). Formats without NaN pass
        NaN inputs through unchanged.

    Examples
    --------
    >>> import numpy as np, lowprec
    >>> lowprec.quantize(np.array([0.1, 300.0, 1e6], dtype=np.float32), "float8_e4m3fn")
    array([1.015625e-01, 2.880000e+02,          nan], dtype=float32)
    """
    if type(x).__module__.startswith("dask"):
        from ._dask import quantize_dask  # lazily, block by block, with the same bits

        return quantize_dask(x, fmt, rounding, overflow=overflow, subnormals=subnormals, seed=seed,
                             random_bits=random_bits, n_random_bits=n_random_bits, **kwargs)  # fmt: skip
    if kwargs:
        return _other_family("quantize", x, fmt, rounding, overflow=overflow, seed=seed, random_bits=random_bits,
                             n_random_bits=n_random_bits, out=out, backend=backend, **kwargs)  # fmt: skip
    if not isinstance(get_format(fmt), FloatFormat):
        return _other_family("quantize", x, fmt, rounding, overflow=overflow, seed=seed, random_bits=random_bits,
                             n_random_bits=n_random_bits, out=out, backend=backend)  # fmt: skip
    arr, scalar, f, mode, ovf, seed_, rbits, n = _prepare(
        x, fmt, rounding, overflow, subnormals, seed, random_bits, n_random_bits
    )
    if out is not None:
        _check_out(out, arr.shape, arr.dtype)
    b = resolve_backend(backend)
    res = _quantize_impl(arr, f, mode, ovf, seed_, rbits, n, b, out)
    if out is not None:
        if res is not out:
            out[...] = res
        return out
    return res[()] if scalar else res


def _quantize_impl(arr, f, mode, ovf, seed, rbits, n, backend, out=None) -> np.ndarray:
    """The rounded values, written straight into ``out`` when it is a contiguous array of the working
    dtype that does not overlap the input (the kernels re-read rare inputs after writing)."""
    if backend == "reference":
        from .reference import quantize_reference
        from .reference._random import random_bits_reference

        if mode.is_stochastic and rbits.size == 0:
            rbits = random_bits_reference(seed, arr.size, n)
        return quantize_reference(arr, f, mode, ovf, rbits.reshape(arr.shape) if rbits.size else None, n)
    wd = _work_dtype(arr)
    xf = np.ascontiguousarray(arr.reshape(-1) if arr.flags.c_contiguous else arr.ravel(), dtype=wd)
    direct = _direct_out(out, wd, arr)
    res = out.reshape(-1) if direct else np.empty(xf.size, dtype=wd)
    if xf.size:
        if backend == "cpp":
            from ._cpp import quantize_cpp

            quantize_cpp(
                xf, f, mode, ovf, seed if rbits.size == 0 else None, rbits if rbits.size else None, n, res
            )
        else:
            _numba_call(xf, f, mode, ovf, seed, rbits, n, res, "quantize")
    if direct:
        return out
    res = res.reshape(arr.shape)
    return res if res.dtype == arr.dtype else res.astype(arr.dtype)


def _direct_out(out: np.ndarray | None, work_dtype: np.dtype, src: np.ndarray) -> bool:
    """Whether a kernel may write into ``out`` itself: of the working dtype, C-contiguous and not
    overlapping the input ``src`` (kernels re-read inputs after writing a chunk's outputs)."""
    return (
        out is not None and out.dtype == work_dtype and out.flags.c_contiguous
        and not np.may_share_memory(out, src)
    )  # fmt: skip


def _check_out(out: object, shape: tuple, dtype: np.dtype) -> None:
    if not isinstance(out, np.ndarray):
        raise TypeError("out must be a NumPy array")
    if out.shape != shape or out.dtype != dtype:
        raise ValueError(f"out must have shape {shape} and dtype {dtype}, got {out.shape} and {out.dtype}")


def encode(
    x: object,
    fmt: object,
    rounding: str | Rounding = "nearest_even",
    *,
    overflow: str | Overflow | None = None,
    subnormals: bool | None = None,
    seed: int | None = None,
    random_bits: object = None,
    n_random_bits: int | None = None,
    out: np.ndarray | None = None,
    backend: str = "auto",
    **kwargs: object,
) -> np.ndarray:
    """Round ``x`` to ``fmt`` and return the codes (uint8 up to 8 bits, then uint16/32/64).

    Takes the same options as :func:`quantize`. NaN inputs of a format without NaN raise.

    Examples
    --------
    >>> import lowprec
    >>> hex(int(lowprec.encode(300.0, "float8_e4m3fn", "toward_zero")))
    '0x79'
    """
    if kwargs or not isinstance(get_format(fmt), FloatFormat):
        return _other_family("encode", x, fmt, rounding, overflow=overflow, seed=seed, random_bits=random_bits,
                             n_random_bits=n_random_bits, out=out, backend=backend, **kwargs)  # fmt: skip
    arr, scalar, f, mode, ovf, seed_, rbits, n = _prepare(
        x, fmt, rounding, overflow, subnormals, seed, random_bits, n_random_bits
    )
    cdt = codes_dtype(f)
    if out is not None:
        _check_out(out, arr.shape, cdt)
    b = resolve_backend(backend)
    if b == "reference":
        from .reference import encode_reference
        from .reference._random import random_bits_reference

        if mode.is_stochastic and rbits.size == 0:
            rbits = random_bits_reference(seed_, arr.size, n)
        codes = encode_reference(arr, f, mode, ovf, rbits.reshape(arr.shape) if rbits.size else None, n)
    else:
        xf = np.ascontiguousarray(
            arr.reshape(-1) if arr.flags.c_contiguous else arr.ravel(), dtype=_work_dtype(arr)
        )
        codes = np.empty(xf.size, dtype=cdt)
        bad = 0
        if xf.size:
            if b == "cpp":
                from ._cpp import encode_cpp

                codes = encode_cpp(
                    xf,
                    f,
                    mode,
                    ovf,
                    seed_ if rbits.size == 0 else None,
                    rbits if rbits.size else None,
                    n,
                    codes,
                )  # raises on NaN itself
            else:
                bad = _numba_call(xf, f, mode, ovf, seed_, rbits, n, codes, "encode")
        if bad:
            raise ValueError(f"{f} has no NaN encoding, so NaN cannot be encoded ({bad} NaN inputs)")
        codes = codes.reshape(arr.shape)
    if out is not None:
        out[...] = codes
        return out
    return codes[()] if scalar else codes


def _decode_dtype(fmt: FloatFormat) -> np.dtype:
    fits32 = fmt.mbits <= 23 and fmt.emax_ <= 127 and fmt.emin_ - (fmt.mbits if fmt.subnormals else 0) >= -149
    return np.dtype(np.float32) if fits32 else np.dtype(np.float64)


def decode(codes: object, fmt: object, *, backend: str = "auto", **kwargs: object) -> np.ndarray:
    """Values of codes: float32 when every value of the format is a float32, else float64.

    NaN codes decode to NaN with the code's sign bit, as ml_dtypes does.
    """
    if kwargs or not isinstance(get_format(fmt), FloatFormat):
        return _other_family("decode", codes, fmt, backend=backend, **kwargs)
    f = _resolve_float_format(fmt, None)
    c = np.asarray(codes)
    if c.dtype.kind not in "iu":
        raise TypeError(f"codes must be integers, got dtype {c.dtype}")
    if c.size and (int(c.min()) < 0 or int(c.max()) >= (1 << f.nbits)):
        raise ValueError(f"codes out of range for the {f.nbits}-bit format {f}")
    dt = _decode_dtype(f)
    b = resolve_backend(backend)
    if b == "reference":
        from .reference import decode_reference

        return decode_reference(c, f).astype(dt)
    if f.nbits <= 16:
        return _lut(f, dt)[c.astype(np.intp, copy=False)]
    from ._numba._float import decode_kernel

    flat = np.ascontiguousarray(c.reshape(-1)).astype(np.int64, copy=False)
    vals = np.empty(flat.size, dtype=np.float64)
    if flat.size:
        decode_kernel(flat, vals, _kparams(f), np.int64(f.mag_bits))
    return vals.reshape(c.shape).astype(dt, copy=False)


def _other_family(what: str, *args: object, **kwargs: object) -> np.ndarray:
    """Dispatch to the fixed-point or block-scaled families."""
    fmt = get_format(args[1])
    family = getattr(fmt, "__lowprec_format__", None)
    handler = _FAMILY_HANDLERS.get(family)
    if handler is None:
        raise TypeError(f"unexpected arguments {sorted(kwargs)} for format {fmt}")
    return handler(what, *args, **kwargs)


#: Family name -> callable(what, *args, **kwargs); filled by the family modules at import.
_FAMILY_HANDLERS: dict[str, object] = {}
