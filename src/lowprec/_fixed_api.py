"""NumPy frontend of fixed-point conversion: ``fixed_quantize``, ``fixed_encode``, ``fixed_decode``.

The main ``lowprec.quantize`` / ``encode`` / ``decode`` route format objects with
``__lowprec_format__ == "fixed"`` (and ``"int"``) here through :func:`family_handler`.
"""

from __future__ import annotations

import secrets

import numpy as np

from ._api import _direct_out
from ._dispatch import _cpp_status
from ._fixed_modes import FixedOverflow, FixedRounding, parse_fixed_overflow, parse_fixed_rounding
from .formats._fixed import FixedFormat, _check_overflow

__all__ = ["family_handler", "fixed_cast_codes", "fixed_decode", "fixed_encode", "fixed_quantize"]


def _as_fixed_format(fmt: object) -> FixedFormat:
    if isinstance(fmt, FixedFormat):
        return fmt
    as_fixed = getattr(fmt, "as_fixed", None)
    if callable(as_fixed):  # IntFormat
        return as_fixed()
    if isinstance(fmt, str) and fmt.strip().lower().startswith("ap_"):
        return FixedFormat.from_hls(fmt)[0]
    raise TypeError(f"expected a FixedFormat (or IntFormat / HLS type string), not {type(fmt).__name__}")


def _float_array(x: object) -> tuple[np.ndarray, bool]:
    """The input as a float array (never a copy we write to) and whether it was a scalar."""
    scalar = np.ndim(x) == 0 and not isinstance(x, np.ndarray)
    arr = np.asarray(x)
    if arr.dtype.kind == "c":
        raise TypeError("complex input is not supported; quantize the real and imaginary parts separately")
    if arr.dtype.kind in "iub":
        raise TypeError(
            f"fixed-point conversion takes floating-point input, got dtype {arr.dtype}; "
            "for integer codes use FixedArray(codes, fmt) or convert with .astype(np.float64)"
        )
    if arr.dtype.kind != "f":
        raise TypeError(f"unsupported input dtype {arr.dtype}; pass float16, float32 or float64")
    return arr, scalar


def _random_args(
    q: FixedRounding, shape: tuple, seed: int | None, random_bits: object, n_random_bits: int | None
) -> tuple[int, int, np.uint64, np.ndarray, int]:
    """(rmode, seed, key, bits, n): rmode 0 none, 1 counter-based from a seed, 2 explicit bits."""
    empty = np.zeros(1, dtype=np.uint64)
    if not q.is_stochastic:
        if random_bits is not None:
            raise ValueError(f"random_bits only apply to stochastic rounding, not {q.name}")
        return 0, 0, np.uint64(0), empty, 32
    n = 32 if n_random_bits is None else n_random_bits
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= 62:
        raise ValueError(f"n_random_bits must be an integer in 1..62, got {n_random_bits!r}")
    n = int(n)
    if random_bits is not None:
        rb = np.asarray(random_bits)
        if rb.dtype.kind not in "iu":
            raise TypeError(f"random_bits must be integers, got dtype {rb.dtype}")
        if rb.shape != shape:
            raise ValueError(f"random_bits must have the shape of x {shape}, got {rb.shape}")
        if rb.size and (int(rb.min()) < 0 or int(rb.max()) >= (1 << n)):
            raise ValueError(f"random_bits must lie in [0, 2**{n})")
        return 2, 0, np.uint64(0), np.ascontiguousarray(rb.reshape(-1)).astype(np.uint64), n
    if seed is None:
        seed = secrets.randbits(64)
    from .reference._random import splitmix64

    seed = int(seed) & ((1 << 64) - 1)
    return 1, seed, np.uint64(splitmix64(seed)), empty, n


def _prepare(fmt, rounding, overflow, sat_bits):
    f = _as_fixed_format(fmt)
    q = parse_fixed_rounding(rounding)
    o = parse_fixed_overflow(overflow)
    _check_overflow(f, o, sat_bits)
    return f, q, o


def _check_out(out: object, shape: tuple, dtype: np.dtype) -> None:
    if not isinstance(out, np.ndarray):
        raise TypeError("out must be a NumPy array")
    if out.shape != shape or out.dtype != dtype:
        raise ValueError(f"out must have shape {shape} and dtype {dtype}, got {out.shape} and {out.dtype}")


def _flat(arr: np.ndarray) -> np.ndarray:
    work = np.float64 if arr.dtype == np.float64 else np.float32  # float16 widens exactly
    return np.ascontiguousarray(arr.reshape(-1), dtype=work)


def _reject_nonfinite(has_nan: bool, has_inf: bool, o: FixedOverflow) -> None:
    if has_nan:
        raise ValueError("NaN cannot be converted to fixed point")
    if has_inf and o in (FixedOverflow.WRAP, FixedOverflow.WRAP_SM):
        raise ValueError(f"an infinity cannot be wrapped ({o.name}); use a saturating overflow mode")


def _check_backend(backend: str) -> str:
    if backend not in ("auto", "numba", "cpp", "reference"):
        raise ValueError(
            f"fixed point supports backend 'auto', 'numba', 'cpp' or 'reference', not {backend!r}"
        )
    if backend == "cpp":
        from ._dispatch import resolve_backend

        resolve_backend(backend)  # RuntimeError with the reason when lowprec._C is not built
    return backend


def fixed_encode(
    x: object,
    fmt: FixedFormat,
    rounding: str | FixedRounding = "TRN",
    overflow: str | FixedOverflow | None = "WRAP",
    sat_bits: int = 0,
    seed: int | None = None,
    random_bits: object = None,
    n_random_bits: int | None = None,
    out: np.ndarray | None = None,
    backend: str = "auto",
) -> np.ndarray:
    """Round floats to ``fmt`` and return the integer codes (value = code * 2**-frac_bits).

    Parameters
    ----------
    x
        float16/32/64 array or Python float; converted exactly (a double is never rounded through
        float32). Never modified.
    fmt
        :class:`FixedFormat` (an ``IntFormat`` or an HLS type string is converted).
    rounding
        :class:`FixedRounding` or a name: HLS ``TRN`` (default), ``TRN_ZERO``, ``RND``, ``RND_ZERO``,
        ``RND_MIN_INF``, ``RND_INF``, ``RND_CONV`` (with or without ``AP_``), or ``TO_ODD``,
        ``STOCHASTIC``, ``STOCHASTIC_EQUAL``, ``TRN_INF``; generic lowprec names where they coincide.
    overflow
        :class:`FixedOverflow` or a name: ``WRAP`` (default), ``SAT``, ``SAT_ZERO``, ``SAT_SYM``,
        ``WRAP_SM``; ``None`` means WRAP.
    sat_bits
        HLS's N, the saturation bits of ``WRAP`` / ``WRAP_SM`` (0..bits).
    seed, random_bits, n_random_bits
        Stochastic modes: a seed for the counter-based generator (same bits as every lowprec
        backend), or explicit integers in ``[0, 2**n)`` of ``x``'s shape; ``n`` defaults to 32
        (1..62). Without either, a fresh OS seed is drawn.
    out
        Optional output array (int64 or uint64, shape of ``x``).
    backend
        ``"auto"`` / ``"numba"`` (compiled kernels), ``"cpp"`` (the C++ kernels of ``lowprec._C``)
        or ``"reference"`` (the exact NumPy twin).

    Returns
    -------
    numpy.ndarray
        int64 codes for signed formats, uint64 for unsigned ones.

    Raises
    ------
    TypeError
        Integer, boolean or complex input.
    ValueError
        NaN input, an infinity under a wrapping mode, bad modes or ``sat_bits``.
    """
    f, q, o = _prepare(fmt, rounding, overflow, sat_bits)
    arr, scalar = _float_array(x)
    rmode, seed_, key, rbits, n = _random_args(q, arr.shape, seed, random_bits, n_random_bits)
    dt = np.dtype(np.int64 if f.signed else np.uint64)
    if out is not None:
        _check_out(out, arr.shape, dt)
    flat = _flat(arr)
    if _check_backend(backend) not in ("auto", "numba"):  # the Numba kernel counts them itself
        _reject_nonfinite(np.isnan(flat).any(), np.isinf(flat).any(), o)
    if backend == "reference":
        from .reference._fixed import fixed_encode_reference
        from .reference._random import random_bits_reference

        rb = None
        if rmode == 1:
            rb = random_bits_reference(seed_, flat.size, n)
        elif rmode == 2:
            rb = rbits
        res = fixed_encode_reference(flat, f, q, o, sat_bits, rb, n).reshape(arr.shape)
    elif backend == "cpp":
        from ._cpp import fixed_encode_cpp

        res = fixed_encode_cpp(flat, f, q, o, sat_bits, seed_ if rmode == 1 else None,
                               rbits if rmode == 2 else None, n).reshape(arr.shape)  # fmt: skip
    else:
        from ._numba._fixed import encode_float_kernel

        codes = np.empty(flat.size, dtype=np.uint64)  # not out=: out stays untouched on error
        if flat.size:
            nans, infs = encode_float_kernel(flat, codes, f.bits, f.frac_bits, f.signed, int(q), int(o),
                                             sat_bits, key, rmode, rbits, n)  # fmt: skip
            _reject_nonfinite(nans > 0, infs > 0, o)
        res = codes.view(dt).reshape(arr.shape)
    if out is not None:
        out[...] = res
        return out
    return res[()] if scalar else res


def fixed_quantize(
    x: object,
    fmt: FixedFormat,
    rounding: str | FixedRounding = "TRN",
    overflow: str | FixedOverflow | None = "WRAP",
    sat_bits: int = 0,
    seed: int | None = None,
    random_bits: object = None,
    n_random_bits: int | None = None,
    out: np.ndarray | None = None,
    backend: str = "auto",
) -> np.ndarray:
    """Round floats to ``fmt`` and return the values in ``x``'s dtype.

    Takes the arguments of :func:`fixed_encode`; ``backend="auto"`` takes the C++ kernels for
    float32/float64 input when ``lowprec._C`` is built (Numba otherwise). NaN passes through; an
    infinity saturates under ``SAT``/``SAT_SYM``, gives 0 under ``SAT_ZERO`` and NaN under the
    wrapping modes. Values are exact in float64 while codes have at most 53 significant bits;
    otherwise (and for float32 output) they are the nearest value of the output dtype.

    Examples
    --------
    >>> import numpy as np
    >>> fixed_quantize(np.array([1.25, -1.25, 1.75]), FixedFormat(3, 2), "RND", "SAT")
    array([ 1.5, -1. ,  1.5])
    """
    f, q, o = _prepare(fmt, rounding, overflow, sat_bits)
    arr, scalar = _float_array(x)
    rmode, seed_, key, rbits, n = _random_args(q, arr.shape, seed, random_bits, n_random_bits)
    if out is not None:
        _check_out(out, arr.shape, arr.dtype)
    flat = _flat(arr)
    if _check_backend(backend) == "auto" and arr.dtype in (np.float32, np.float64) and _cpp_status()[0]:
        backend = "cpp"  # its float32 lanes and compile-time overflow kinds: 0.6-0.9x the copy
    if backend == "reference":
        from .reference._fixed import fixed_decode_reference, fixed_encode_reference
        from .reference._random import random_bits_reference

        bad = np.isnan(flat) | (np.isinf(flat) & (o in (FixedOverflow.WRAP, FixedOverflow.WRAP_SM)))
        rb = None
        if rmode == 1:
            rb = random_bits_reference(seed_, flat.size, n)[~bad]
        elif rmode == 2:
            rb = rbits[~bad]
        vals = np.full(flat.size, np.nan)
        codes = fixed_encode_reference(flat[~bad], f, q, o, sat_bits, rb, n)
        vals[~bad] = fixed_decode_reference(codes, f)
        res = vals.astype(arr.dtype).reshape(arr.shape)
    elif backend == "cpp":
        from ._cpp import fixed_quantize_cpp

        direct = out is not None and not np.may_share_memory(out, arr)  # else through a temporary
        res = fixed_quantize_cpp(arr, f, q, o, sat_bits, seed_ if rmode == 1 else None,
                                 rbits if rmode == 2 else None, n, out=out if direct else None)  # fmt: skip
        if direct:
            return out
    else:
        from ._numba._fixed import quantize_float_kernel

        direct = _direct_out(out, flat.dtype, arr)
        vals = out.reshape(-1) if direct else np.empty(flat.size, dtype=flat.dtype)
        if flat.size:
            quantize_float_kernel(flat, vals, f.bits, f.frac_bits, f.signed, int(q), int(o), sat_bits,
                                  key, rmode, rbits, n)  # fmt: skip
        if direct:
            return out
        res = vals.reshape(arr.shape).astype(arr.dtype, copy=False)
    if out is not None:
        out[...] = res
        return out
    return res[()] if scalar else res


def fixed_decode(
    codes: object, fmt: FixedFormat, dtype: object = np.float64, backend: str = "auto"
) -> np.ndarray:
    """Values of integer codes (``code * 2**-frac_bits``) as ``dtype`` (default float64).

    Exact while codes have at most 53 significant bits and the value is a normal float64;
    otherwise the nearest float64. Raises ValueError for codes outside the format's range and
    TypeError for non-integer input. ``backend``: ``"auto"`` / ``"numba"``, ``"cpp"`` or
    ``"reference"``.
    """
    f = _as_fixed_format(fmt)
    c = np.asarray(codes)
    if c.dtype.kind not in "iu":
        raise TypeError(f"codes must be integers, got dtype {c.dtype}")
    if c.size:
        lo, hi = int(c.min()), int(c.max())
        if lo < f.min_code or hi > f.max_code:
            raise ValueError(f"codes outside [{f.min_code}, {f.max_code}] of {f}")
    if _check_backend(backend) == "cpp":
        from ._cpp import fixed_decode_cpp

        return fixed_decode_cpp(c, f, dtype)
    if backend == "reference":
        from .reference._fixed import fixed_decode_reference

        return fixed_decode_reference(c, f).astype(dtype, copy=False)
    from ._numba._fixed import decode_kernel

    flat = np.ascontiguousarray(c.reshape(-1))
    odt = np.dtype(dtype)
    vals = np.empty(flat.size, dtype=odt if odt in (np.float32, np.float64) else np.float64)
    if flat.size:
        decode_kernel(flat, vals, f.frac_bits, f.signed)  # codes of any integer dtype, no copy
    return vals.reshape(c.shape).astype(dtype, copy=False)


def fixed_cast_codes(
    codes: np.ndarray,
    src: FixedFormat,
    dst: FixedFormat,
    rounding: str | FixedRounding = "TRN",
    overflow: str | FixedOverflow | None = "WRAP",
    sat_bits: int = 0,
    seed: int | None = None,
    random_bits: object = None,
    n_random_bits: int | None = None,
) -> np.ndarray:
    """Cast int64 codes of ``src`` to ``dst`` (one rounding, then overflow, as an HLS assignment).

    Returns int64 codes for a signed ``dst``, uint64 for an unsigned one.
    """
    f, q, o = _prepare(dst, rounding, overflow, sat_bits)
    c = np.asarray(codes)
    if c.dtype.kind not in "iu":
        raise TypeError(f"codes must be integers, got dtype {c.dtype}")
    if c.dtype == np.uint64 and c.size and int(c.max()) >= 1 << 63:
        raise OverflowError("codes >= 2**63 cannot be cast (int64 codes)")
    rmode, _seed, key, rbits, n = _random_args(q, c.shape, seed, random_bits, n_random_bits)
    from ._numba._fixed import cast_codes_kernel

    flat = np.ascontiguousarray(c.reshape(-1)).astype(np.int64)
    res = np.empty(flat.size, dtype=np.uint64)
    if flat.size:
        cast_codes_kernel(flat, res, f.frac_bits - src.frac_bits, f.bits, f.signed, int(q), int(o), sat_bits,
                          key, rmode, rbits, n)  # fmt: skip
    return res.view(np.int64 if f.signed else np.uint64).reshape(c.shape)


def family_handler(
    what: str, x: object, fmt: object, rounding: object = "TRN", **kwargs: object
) -> np.ndarray:
    """Entry point for ``lowprec.quantize / encode / decode`` with a fixed-point or integer format.

    ``what`` is ``"quantize"``, ``"encode"`` or ``"decode"`` (then ``x`` holds the codes). The
    generic keywords map one to one (``overflow=None`` is HLS's WRAP; ``"saturate"`` is SAT); the
    extra keyword ``sat_bits`` is accepted. Generic rounding names map to the HLS modes
    (``nearest_even`` = RND_CONV, ``toward_negative`` = TRN, ...).
    """
    if what == "decode":
        return fixed_decode(
            x, _as_fixed_format(fmt), **{k: v for k, v in kwargs.items() if k in ("dtype", "backend")}
        )
    allowed = {"overflow", "sat_bits", "seed", "random_bits", "n_random_bits", "out", "backend"}
    unknown = set(kwargs) - allowed
    if unknown:
        raise TypeError(f"unexpected arguments {sorted(unknown)} for fixed-point format {fmt}")
    fn = {"quantize": fixed_quantize, "encode": fixed_encode}.get(what)
    if fn is None:
        raise ValueError(f"fixed-point formats support quantize, encode and decode, not {what!r}")
    return fn(x, _as_fixed_format(fmt), rounding, **kwargs)  # type: ignore[arg-type]
