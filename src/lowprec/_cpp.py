"""Loader and NumPy adapters of the compiled extensions ``lowprec._C`` (CPU) and ``lowprec._C_cuda``.

The extensions are optional: :func:`available` and :func:`cuda_available` say whether they can be
used (and why not), without raising. The adapters take a :class:`~lowprec.formats.FloatFormat` and
the rounding enums, flatten the format with :func:`lowprec._params.float_params`, and hand the
kernels C-contiguous float32/float64 arrays (copying only when needed). Results are bit-identical
to :func:`lowprec.reference.encode_reference`.

The element index of stochastic rounding is the flat C-order index of the logical array (plus
``start``), whatever the memory layout of the input.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from types import ModuleType

import numpy as np

from ._fixed_modes import FixedOverflow, FixedRounding, parse_fixed_overflow, parse_fixed_rounding
from ._params import float_params
from .formats._block import BlockFormat
from .formats._fixed import FixedFormat
from .formats._float import FloatFormat
from .rounding import Overflow, Rounding, parse_rounding, resolve_overflow

__all__ = [
    "available",
    "block_run_cpp",
    "cuda_available",
    "cuda_module",
    "decode_cpp",
    "encode_cpp",
    "fast_isa",
    "fast_isas",
    "fixed_decode_cpp",
    "fixed_encode_cpp",
    "fixed_params",
    "fixed_quantize_cpp",
    "module",
    "quantize_cpp",
    "random_bits_cpp",
]

_MASK64 = (1 << 64) - 1
_cache: dict[str, tuple[ModuleType | None, str]] = {}


def _import(name: str) -> tuple[ModuleType | None, str]:
    if name not in _cache:
        try:
            mod = importlib.import_module(f"lowprec.{name}")
        except ImportError as exc:  # not built, or built for another Python / platform
            _cache[name] = (
                None,
                f"lowprec.{name} is not built or cannot be loaded ({exc}); build it with "
                "tools/build_ext.sh or pip install .",
            )
        else:
            _cache[name] = (mod, "")
    return _cache[name]


def available() -> tuple[bool, str]:
    """Whether the CPU extension ``lowprec._C`` can be used.

    Returns
    -------
    (ok, reason)
        ``reason`` is empty when ``ok``, else says why the extension is unusable.
    """
    mod, reason = _import("_C")
    return mod is not None, reason


def cuda_available() -> tuple[bool, str]:
    """Whether the CUDA extension ``lowprec._C_cuda`` is built and a CUDA device is visible.

    Returns
    -------
    (ok, reason)
        ``reason`` is empty when ``ok``, else says why CUDA kernels cannot run.
    """
    mod, reason = _import("_C_cuda")
    if mod is None:
        return False, reason
    count, err = mod.device_count()
    if count == 0:
        return False, f"lowprec._C_cuda is built but no CUDA device is usable ({err or 'no device'})"
    return True, ""


def module() -> ModuleType:
    """The loaded ``lowprec._C`` module.

    Raises
    ------
    ImportError
        With the reason, when the extension is not available.
    """
    mod, reason = _import("_C")
    if mod is None:
        raise ImportError(reason)
    return mod


def cuda_module() -> ModuleType:
    """The loaded ``lowprec._C_cuda`` module (device pointers in, asynchronous launches).

    Raises
    ------
    ImportError
        With the reason, when the extension is not built.
    """
    mod, reason = _import("_C_cuda")
    if mod is None:
        raise ImportError(reason)
    return mod


def fast_isas() -> list[str]:
    """Instruction sets of the vectorised float loops of ``lowprec._C`` that this CPU runs, best first
    (``["avx512", "avx2", "baseline"]`` on an x86-64 CPU with AVX-512 F/DQ/VL/BW); the best is used by default."""
    return list(module().fast_isas())


@contextlib.contextmanager
def fast_isa(name: str) -> Iterator[None]:
    """Run the vectorised float loops of ``lowprec._C`` with instruction set ``name`` (one of
    :func:`fast_isas`) inside the block: for tests and benchmarks. The choice is process-wide, so
    other threads calling the C++ backend meanwhile use it too; their bits are the same either way."""
    mod = module()
    prev = mod.fast_isa()
    mod.set_fast_isa(name)
    try:
        yield
    finally:
        mod.set_fast_isa(prev)


# ---- helpers ---------------------------------------------------------------------------------------
def codes_dtype(fmt: FloatFormat) -> np.dtype:
    """The smallest unsigned dtype holding the codes of ``fmt`` (``fmt.codes_dtype``)."""
    return fmt.codes_dtype


def _work_dtype(dtype: np.dtype) -> np.dtype:
    """float32/float64 stay; float16 and ml_dtypes' small floats go to float32 (exact); the rest float64."""
    if dtype in (np.float32, np.float64):
        return dtype
    if dtype == np.float16 or (dtype.kind == "V" and dtype.name.startswith(("bfloat", "float"))):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _contig(a: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``a`` as a C-contiguous array of ``dtype``; no copy when it already is one (0-d stays 0-d)."""
    return a.astype(dtype, order="C", copy=False)


def _check_mode(
    fmt: FloatFormat, mode: Rounding | str, overflow: Overflow | str
) -> tuple[Rounding, Overflow]:
    return parse_rounding(mode), resolve_overflow(fmt, overflow)


def _random_args(
    mode: Rounding,
    shape: tuple[int, ...],
    seed: int | None,
    random_bits: np.ndarray | None,
    n: int,
    start: int,
) -> dict:
    """Keyword arguments of the stochastic modes for the kernels."""
    if not mode.is_stochastic:
        return {"seed": 0, "start": 0, "random_bits": None, "n": 0}
    if not 1 <= n <= 52:
        raise ValueError(f"stochastic rounding needs 1 <= n <= 52 random bits, got n={n}")
    if random_bits is not None:
        r = np.asarray(random_bits)
        if r.size != int(np.prod(shape)):
            raise ValueError(f"random_bits has {r.size} entries for {int(np.prod(shape))} elements")
        r = _contig(r, r.dtype if r.dtype in (np.uint32, np.uint64) else np.dtype(np.uint64)).reshape(-1)
        return {"seed": 0, "start": 0, "random_bits": r, "n": n}
    if seed is None:
        raise ValueError("stochastic rounding needs a seed or random_bits")
    return {"seed": int(seed) & _MASK64, "start": int(start) & _MASK64, "random_bits": None, "n": n}


def _target(out: np.ndarray | None, shape: tuple[int, ...], dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """(array the kernel writes, array returned): ``out`` itself when C-contiguous, else a temporary."""
    if out is None:
        res = np.empty(shape, dtype)
        return res, res
    if not isinstance(out, np.ndarray) or out.shape != shape:
        raise ValueError(f"out must be a NumPy array of shape {shape}")
    if out.flags.c_contiguous and out.flags.writeable and out.dtype == dtype:
        return out, out
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    return np.empty(shape, dtype), out


def _finish(tmp: np.ndarray, out: np.ndarray) -> np.ndarray:
    if tmp is not out:
        out[...] = tmp
    return out


# ---- adapters ------------------------------------------------------------------------------------------
def encode_cpp(
    x: np.ndarray,
    fmt: FloatFormat,
    mode: Rounding | str = Rounding.NEAREST_EVEN,
    overflow: Overflow | str = Overflow.SATURATE,
    seed: int | None = None,
    random_bits: np.ndarray | None = None,
    n: int = 32,
    out: np.ndarray | None = None,
    start: int = 0,
) -> np.ndarray:
    """Codes of ``x`` rounded to ``fmt`` with the C++ kernels (as ``encode_reference``).

    Parameters
    ----------
    x
        Array (or scalar) of any real dtype; float16/bfloat16 are widened to float32 (exact).
    fmt, mode, overflow
        Target format, rounding mode and overflow policy (checked against the format).
    seed, random_bits, n
        Stochastic modes: explicit ``random_bits`` (one per element, in flat C order) or the
        counter-based stream of ``seed`` from flat index ``start``; ``n`` bits each.
    out
        Optional array of ``x``'s shape for the codes (a copy is made when it is not C-contiguous
        or not of the codes dtype).

    Returns
    -------
    numpy.ndarray
        Codes shaped like ``x``, of the smallest unsigned dtype that holds them (or ``out``).

    Raises
    ------
    ValueError
        On a NaN for a format without NaN, or missing random bits for a stochastic mode.
    """
    mode, overflow = _check_mode(fmt, mode, overflow)
    x = np.asarray(x)
    xc = _contig(x, _work_dtype(x.dtype))
    dtype = out.dtype if out is not None and out.dtype.kind == "u" else codes_dtype(fmt)
    tmp, res = _target(out, x.shape, dtype)
    module().encode(
        xc.reshape(-1),
        tmp.reshape(-1),
        tuple(float_params(fmt)),
        int(mode),
        int(overflow),
        **_random_args(mode, x.shape, seed, random_bits, n, start),
    )
    return _finish(tmp, res)


def quantize_cpp(
    x: np.ndarray,
    fmt: FloatFormat,
    mode: Rounding | str = Rounding.NEAREST_EVEN,
    overflow: Overflow | str = Overflow.SATURATE,
    seed: int | None = None,
    random_bits: np.ndarray | None = None,
    n: int = 32,
    out: np.ndarray | None = None,
    start: int = 0,
) -> np.ndarray:
    """``x`` rounded to ``fmt``, as values of ``x``'s dtype (as ``quantize_reference``).

    NaN passes through (for formats without NaN too). float16/bfloat16 inputs are rounded in
    float32 and cast back (the result is a value of the format, so the cast is the same as from
    float64). Parameters as :func:`encode_cpp`.
    """
    mode, overflow = _check_mode(fmt, mode, overflow)
    x = np.asarray(x)
    work = _work_dtype(x.dtype)
    xc = _contig(x, work)
    rnd = _random_args(mode, x.shape, seed, random_bits, n, start)
    params = tuple(float_params(fmt))
    if work == x.dtype:
        tmp, res = _target(out, x.shape, x.dtype)
        module().quantize(xc.reshape(-1), tmp.reshape(-1), params, int(mode), int(overflow), **rnd)
        return _finish(tmp, res)
    vals = np.empty(x.shape, work)
    module().quantize(xc.reshape(-1), vals.reshape(-1), params, int(mode), int(overflow), **rnd)
    if out is None:
        return vals.astype(x.dtype)
    out[...] = vals
    return out


def decode_cpp(
    codes: np.ndarray, fmt: FloatFormat, out: np.ndarray | None = None, dtype: type = np.float64
) -> np.ndarray:
    """Values of ``codes`` of ``fmt`` (as ``decode_reference``; NaN keeps the code's sign bit).

    Parameters
    ----------
    codes
        Unsigned integer codes (other integer dtypes are converted).
    fmt
        Their format.
    out
        Optional float32/float64 array of ``codes``' shape.
    dtype
        Value dtype when ``out`` is not given: float64 (exact) or float32 (rounded once).
    """
    codes = np.asarray(codes)
    cdt = codes.dtype if codes.dtype.kind == "u" else codes_dtype(fmt)
    cc = _contig(codes, cdt)
    vdt = np.dtype(out.dtype if out is not None else dtype)
    if vdt not in (np.float32, np.float64):
        raise ValueError(f"decode writes float32 or float64, not {vdt}")
    tmp, res = _target(out, codes.shape, vdt)
    module().decode(cc.reshape(-1), tmp.reshape(-1), tuple(float_params(fmt)))
    return _finish(tmp, res)


def random_bits_cpp(seed: int, count: int, n: int = 32, start: int = 0) -> np.ndarray:
    """``count`` random integers in ``[0, 2**n)`` (uint64) of stream ``seed`` from flat index ``start``."""
    return module().random_bits(int(seed) & _MASK64, int(start) & _MASK64, int(count), int(n))


# ---- fixed point ----------------------------------------------------------------------------------------
def fixed_params(fmt: FixedFormat, sat_bits: int = 0) -> tuple[int, int, bool, int]:
    """The fixed-point format flattened for the kernels: ``(bits, frac_bits, signed, sat_bits)``."""
    return (fmt.bits, fmt.frac_bits, fmt.signed, int(sat_bits))


def _fixed_random(
    q: FixedRounding, size: int, seed: int | None, random_bits: np.ndarray | None, n: int, start: int
) -> dict:
    """Keyword arguments of the stochastic fixed-point modes for the kernels."""
    if not q.is_stochastic:
        return {"seed": 0, "start": 0, "random_bits": None, "n": 0}
    if not 1 <= n <= 62:
        raise ValueError(f"stochastic rounding needs 1 <= n <= 62 random bits, got n={n}")
    if random_bits is not None:
        r = np.asarray(random_bits)
        if r.size != size:
            raise ValueError(f"random_bits has {r.size} entries for {size} elements")
        r = _contig(r, r.dtype if r.dtype in (np.uint32, np.uint64) else np.dtype(np.uint64)).reshape(-1)
        return {"seed": 0, "start": 0, "random_bits": r, "n": n}
    if seed is None:
        raise ValueError("stochastic rounding needs a seed or random_bits")
    return {"seed": int(seed) & _MASK64, "start": int(start) & _MASK64, "random_bits": None, "n": n}


def fixed_encode_cpp(
    x: np.ndarray,
    fmt: FixedFormat,
    rounding: FixedRounding | str = FixedRounding.TRN,
    overflow: FixedOverflow | str = FixedOverflow.WRAP,
    sat_bits: int = 0,
    seed: int | None = None,
    random_bits: np.ndarray | None = None,
    n: int = 32,
    out: np.ndarray | None = None,
    start: int = 0,
) -> np.ndarray:
    """Fixed-point codes of ``x`` with the C++ kernels (as ``fixed_encode_reference``).

    Parameters
    ----------
    x
        float32/float64 array (float16 is widened to float32, exactly).
    fmt, rounding, overflow, sat_bits
        Target format, FixedRounding, FixedOverflow and HLS's N saturation bits.
    seed, random_bits, n
        Stochastic modes: explicit ``random_bits`` (one per element in flat C order, values in
        ``[0, 2**n)``) or the counter-based stream of ``seed`` from flat index ``start``.
    out
        Optional int64 (signed formats) / uint64 (unsigned) array of ``x``'s shape.

    Returns
    -------
    numpy.ndarray
        int64 codes for signed formats, uint64 for unsigned ones, shaped like ``x``.

    Raises
    ------
    ValueError
        On NaN, or an infinity under WRAP / WRAP_SM.
    """
    q, o = parse_fixed_rounding(rounding), parse_fixed_overflow(overflow)
    x = np.asarray(x)
    xc = _contig(x, _work_dtype(x.dtype))
    dtype = np.dtype(np.int64 if fmt.signed else np.uint64)
    tmp, res = _target(out, x.shape, dtype)
    module().fixed_encode(
        xc.reshape(-1),
        tmp.reshape(-1),
        fixed_params(fmt, sat_bits),
        int(q),
        int(o),
        **_fixed_random(q, x.size, seed, random_bits, n, start),
    )
    return _finish(tmp, res)


def fixed_quantize_cpp(
    x: np.ndarray,
    fmt: FixedFormat,
    rounding: FixedRounding | str = FixedRounding.TRN,
    overflow: FixedOverflow | str = FixedOverflow.WRAP,
    sat_bits: int = 0,
    seed: int | None = None,
    random_bits: np.ndarray | None = None,
    n: int = 32,
    out: np.ndarray | None = None,
    start: int = 0,
) -> np.ndarray:
    """``x`` rounded to the fixed-point ``fmt``, as values of ``x``'s dtype (as the reference).

    The value of a code is the float64 nearest to it, then cast to ``x``'s dtype (float16 inputs
    are rounded from float32 and the float64 values cast once to float16). NaN passes through;
    an infinity under WRAP / WRAP_SM gives NaN. Parameters as :func:`fixed_encode_cpp`.
    """
    q, o = parse_fixed_rounding(rounding), parse_fixed_overflow(overflow)
    x = np.asarray(x)
    work = _work_dtype(x.dtype)
    xc = _contig(x, work)
    args = (fixed_params(fmt, sat_bits), int(q), int(o))
    rnd = _fixed_random(q, x.size, seed, random_bits, n, start)
    if work == x.dtype:
        tmp, res = _target(out, x.shape, x.dtype)
        module().fixed_quantize(xc.reshape(-1), tmp.reshape(-1), *args, **rnd)
        return _finish(tmp, res)
    vals = np.empty(x.shape, np.float64)  # one rounding from float64, as the reference
    module().fixed_quantize(xc.reshape(-1), vals.reshape(-1), *args, **rnd)
    if out is None:
        return vals.astype(x.dtype)
    out[...] = vals
    return out


def fixed_decode_cpp(codes: np.ndarray, fmt: FixedFormat, dtype: type = np.float64) -> np.ndarray:
    """Values of int64/uint64 fixed-point codes: the float64 nearest to ``code * 2**-frac_bits``
    (as ``fixed_decode_reference``), then cast to ``dtype`` (float32 or float64).

    Codes are not range-checked here (the caller does).
    """
    c = np.asarray(codes)
    if c.dtype.kind not in "iu":
        raise TypeError(f"codes must be integers, got dtype {c.dtype}")
    cc = _contig(c, np.dtype(np.int64 if fmt.signed else np.uint64))
    vdt = np.dtype(dtype)
    kdt = vdt if vdt in (np.float32, np.float64) else np.dtype(np.float64)
    vals = np.empty(c.shape, kdt)
    module().fixed_decode(cc.reshape(-1), vals.reshape(-1), fixed_params(fmt))
    return vals if kdt == vdt else vals.astype(vdt)


# ---- block-scaled formats --------------------------------------------------------------------------------
_BLOCK_RULES = {"floor": 0, "ceil": 1, "even": 2, "rceil": 3, "amax": 4}


def _block_args(shape: tuple, xf: np.ndarray, fmt: BlockFormat, axis: object, mode: Rounding,
                g: float | None) -> tuple:  # fmt: skip
    """``((geometry, elem, scale, block, mode), tensor scale, scale shape)`` of a block_run call on ``xf``."""
    from .blocks import _tensor_scale
    from .formats._block import block_geometry

    dims, (b1, b2), sshape = block_geometry(shape, fmt, axis)
    ef, sf = fmt.element_format, fmt.scale
    if g is None:
        g = _tensor_scale(xf, fmt)
    block = (_BLOCK_RULES[fmt.scale_rule], fmt.element_is_int, ef.nbits, ef.mag_bits, float(g),
             float(fmt.element_max) * g)  # fmt: skip
    args = ((*dims, b1, b2), tuple(float_params(ef)), tuple(float_params(sf)), block, int(mode))
    return args, g, sshape


def block_fast_kind(x: np.ndarray, fmt: BlockFormat, axis: object, mode: Rounding, g: float) -> int:
    """The fast rule :func:`block_run_cpp` takes to quantize ``x`` (a C-contiguous float array).

    ``g`` is the tensor scale of ``x``. Returns 0 (the exact per-block loop), 1 (power-of-two
    scales), 2 (the amax rule with per-block step tables) or 3 (the amax rule with a division per
    element); see ``lowprec._C.block_fast_kind``.
    """
    args, _, _ = _block_args(x.shape, x.reshape(-1), fmt, axis, mode, g)
    return int(module().block_fast_kind(x.dtype.itemsize, *args))


def block_run_cpp(
    x: np.ndarray,
    fmt: BlockFormat,
    axis: object = None,
    mode: Rounding | str = Rounding.NEAREST_EVEN,
    seed: int = 0,
    random_bits: np.ndarray | None = None,
    n: int = 32,
    what: str = "quantize",
    out: np.ndarray | None = None,
    g: float | None = None,
) -> tuple[np.ndarray, np.ndarray | None, float, tuple[int, ...]]:
    """One pass of the C++ block kernel over ``x`` (as ``lowprec.blocks``' Numba pass).

    Parameters
    ----------
    x
        float16/bfloat16/float32/float64 array with at least one dimension (any layout; the kernel
        reads a C-contiguous float32/float64 copy only when ``x`` is not one already).
    fmt, axis
        The block format and its block axis (axes for 2-D blocks; ``None``: ``fmt.axis``).
    mode, seed, random_bits, n
        Element rounding; stochastic modes use ``random_bits`` (flat C order of ``x``) when given,
        else the counter-based stream of ``seed``.
    what
        ``"quantize"``: dequantized values of ``x``'s dtype (computed in float64 and cast once for
        dtypes other than float32/float64); ``"encode"``: element codes (uint8, uint16 for wider
        integer elements; integer elements in two's complement) of ``x``'s shape.
    out
        ``"quantize"`` only: an array the kernel writes the values into when it is C-contiguous, of
        the working dtype (float32/float64, as ``x``) and not overlapping ``x``; the values returned
        are then ``out`` itself. Otherwise ignored (the caller copies).
    g
        The tensor scale when the caller has it (``lowprec.blocks._tensor_scale`` of ``x``).

    Returns
    -------
    (values or codes, scale codes (encode only) of shape ``scale_shape``, tensor scale, scale_shape)
    """
    mode = parse_rounding(mode)
    x = np.asarray(x)
    wd = _work_dtype(x.dtype)
    xf = _contig(x, wd).reshape(-1)
    args, g, sshape = _block_args(x.shape, xf, fmt, axis, mode, g)
    ef = fmt.element_format
    kw = {"seed": 0, "random_bits": None, "n": 0}
    if mode.is_stochastic:
        kw["n"] = int(n)
        if random_bits is not None and np.size(random_bits):
            r = np.asarray(random_bits)
            kw["random_bits"] = _contig(
                r, r.dtype if r.dtype in (np.uint32, np.uint64) else np.uint64
            ).reshape(-1)
        else:
            kw["seed"] = int(seed) & _MASK64
    if what == "quantize":
        from ._api import _direct_out

        vdt = x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float64)
        vals = out if vdt == x.dtype and _direct_out(out, vdt, xf) else np.empty(x.shape, vdt)
        if x.size:
            module().block_run(xf, vals=vals.reshape(-1), geometry=args[0], elem=args[1], scale=args[2],
                               block=args[3], mode=args[4], **kw)  # fmt: skip
        return (vals if vdt == x.dtype else vals.astype(x.dtype)), None, g, sshape
    codes = np.empty(x.shape, np.uint8 if ef.nbits <= 8 else np.uint16)
    scales = np.empty(sshape, np.uint8)
    if x.size:
        module().block_run(xf, codes=codes.reshape(-1), scales=scales.reshape(-1), geometry=args[0],
                           elem=args[1], scale=args[2], block=args[3], mode=args[4], **kw)  # fmt: skip
    return codes, scales, g, sshape
