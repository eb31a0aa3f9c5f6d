"""Block-scaled formats (MX, NVFP4, block floating point) and the block Hadamard transform.

``quantize`` rounds an array to a block format and returns the dequantized values; ``encode``
returns the codes (packed elements, scale codes, and the tensor scale where the format has one);
``decode`` inverts it; ``hadamard`` is the orthonormal blockwise fast Walsh-Hadamard transform
with optional random signs. Conventions (zero, NaN and ragged blocks, scale rules, stochastic
rounding indices) are in ``docs/block_formats.md``.

Examples
--------
>>> import numpy as np
>>> from lowprec import blocks
>>> x = np.array([0.1, -0.7, 3.0, 5.5], dtype=np.float32)
>>> blocks.quantize(x, "mxfp4")
array([ 0. , -0.5,  3. ,  6. ], dtype=float32)
"""

from __future__ import annotations

import math

import numpy as np

from ._api import _as_float_array, _direct_out, _kparams, _lut, _random_args
from ._dispatch import resolve_backend
from ._narrow import narrow
from ._pack import pack, unpack
from .formats._block import BLOCK_FORMATS, SCALE_RULES, BlockFormat, bfp, block_geometry, get_block_format
from .formats._registry import FORMATS
from .rounding import Overflow, Rounding, parse_overflow, parse_rounding

__all__ = [
    "BLOCK_FORMATS",
    "SCALE_RULES",
    "BlockFormat",
    "bfp",
    "decode",
    "encode",
    "get_block_format",
    "hadamard",
    "quantize",
]


def _resolve(fmt: object) -> BlockFormat:
    if isinstance(fmt, BlockFormat):
        return fmt
    try:
        return get_block_format(fmt)
    except KeyError as exc:
        raise ValueError(str(exc.args[0])) from None


def _py_sig_exp(v: float) -> tuple[int, int]:
    m, e = math.frexp(v)
    sig, ex = int(m * 2**53), e - 53
    while sig and sig & 1 == 0:
        sig >>= 1
        ex += 1
    return sig, ex


def _tensor_scale(xf: np.ndarray, f: BlockFormat) -> float:
    """The float32 tensor scale RNE_f32(amax / (max_elem * max_scale)), 1 when unused or amax = 0."""
    if not f.tensor_scale or xf.size == 0:
        return 1.0
    if xf.dtype in (np.float32, np.float64) and xf.ndim == 1 and xf.flags.c_contiguous:
        from ._numba._block import finite_amax

        amax = finite_amax(xf)
    else:
        amax = float(np.max(np.abs(xf), where=np.isfinite(xf), initial=0.0))
    if amax == 0:
        return 1.0
    from ._numba._block import round_quotient

    f32 = FORMATS["float32"]
    den = float(f.element_max * f.scale.max_finite)  # type: ignore[union-attr]
    code = int(round_quotient(amax, den, _kparams(f32), int(Rounding.NEAREST_EVEN)))
    code = max(code, 1)  # underflow: the smallest float32
    return float(np.array(code, dtype=np.uint32).view(np.float32))


def _run(x: np.ndarray, f: BlockFormat, axis: object, mode: Rounding, seed: int, rbits: np.ndarray, n: int,
         what: int, out: np.ndarray | None = None, g: float | None = None) -> tuple:  # fmt: skip
    """Run the Numba kernel; returns (values or codes, scale codes, tensor scale, scale shape).

    ``out`` (quantize): written directly when it is C-contiguous, of the working dtype and not
    overlapping the input (``_api._direct_out``); the values returned are then its flat view.
    ``g``: the tensor scale of ``x`` when the caller has it.
    """
    from ._numba._block import RULES, block_kernel

    dims, bdims, sshape = block_geometry(x.shape, f, axis)
    wd = np.dtype(np.float64) if x.dtype == np.float64 else np.dtype(np.float32)
    xf = np.ascontiguousarray(x, dtype=wd).reshape(-1)  # zero-copy for contiguous float32/float64
    if wd == np.float32:
        xbits, in_m, in_bias, in_expmask, width = xf.view(np.int32), 23, 127, 0xFF, 32
    else:
        xbits, in_m, in_bias, in_expmask, width = xf.view(np.int64), 52, 1023, 0x7FF, 64
    ef = f.element_format
    sf = f.scale
    if g is None:
        g = _tensor_scale(xf, f)
    d_sig, d_exp = _py_sig_exp(float(f.element_max) * g)
    smax = (ef.max_mag & ((1 << ef.mbits) - 1)) | (1 << ef.mbits)
    e_info = (ef.emax_, ef.mbits, smax)
    nsc = int(np.prod(sshape, dtype=np.int64))
    from ._numba._random import sr_key

    wide = what == 1 and ef.nbits > 8  # 16-bit codes as little-endian byte pairs (_numba._block.store_code)
    if what == 0:
        direct = _direct_out(out, wd, xf)
        vals = out.reshape(-1) if direct else np.empty(xf.size, wd)  # type: ignore[union-attr]
        codes, scales = np.empty(0, np.uint8), np.empty(0, np.uint8)
    else:
        vals, codes, scales = (
            np.empty(0, wd),
            np.empty(xf.size * (2 if wide else 1), np.uint8),
            np.empty(nsc, np.uint8),
        )
    if xf.size:
        block_kernel(
            xbits, dims, bdims, in_m, in_bias, in_expmask, width,
            _kparams(ef), ef.mag_bits, f.element_is_int, e_info, _kparams(sf), sf.mag_bits,  # type: ignore[union-attr]
            RULES[f.scale_rule], g, d_sig, d_exp, int(mode), sr_key(seed), rbits, n, what, vals, codes, scales,
        )  # fmt: skip
    if wide:
        codes = codes.view("<u2").astype(np.uint16, copy=False)
    return (vals if what == 0 else codes), scales, g, sshape


def _values_fit_float32(f: BlockFormat) -> bool:
    """Whether every dequantized value (element x scale) is a float32 when it is in float32's range:
    no tensor scale, and element and scale significands of at most 24 bits together."""
    return not f.tensor_scale and f.element_format.mbits + f.scale.mbits + 2 <= 24  # type: ignore[union-attr]


def _auto_quantize_backend(x: np.ndarray, f: BlockFormat, axis: object, mode: Rounding, n: int) -> tuple:
    """``backend="auto"`` for a quantize call: ``(backend, tensor scale or None)``.

    Numba, unless ``x`` is C-contiguous float32 and the C++ kernels take one of their two fastest
    rules for it (``lowprec._cpp.block_fast_kind`` 1 or 2: power-of-two scales, or the amax rule of
    NVFP4 with step tables), where they run 1.1-1.5x faster than Numba's (benchmarks/RESULTS.md);
    stochastic modes with ``n <= 32`` random bits when the kind is 1 (random words in int32 lanes,
    about 1.5x faster than Numba's) or 3 (the amax rule's ``block_elem_div_word``: 1.3-1.9x faster
    than Numba's). The tensor scale computed to decide is handed on, so the array is not read twice
    for it.
    """
    if x.dtype != np.float32 or x.size == 0 or not x.flags.c_contiguous:
        return "numba", None
    if mode.is_stochastic and n > 32:
        return "numba", None
    from ._dispatch import _cpp_status

    if not _cpp_status()[0]:
        return "numba", None
    from ._cpp import block_fast_kind

    g = _tensor_scale(x.reshape(-1), f)
    kinds = (1, 3) if mode.is_stochastic else (1, 2)
    return ("cpp" if block_fast_kind(x, f, axis, mode, g) in kinds else "numba"), g


def _check_overflow(overflow: object) -> None:
    if overflow is not None and parse_overflow(overflow) != Overflow.SATURATE:  # type: ignore[arg-type]
        raise ValueError(
            "block formats always saturate elements (OCP MX); overflow must be 'saturate' or None"
        )


def _prepare(x, fmt, rounding, seed, random_bits, n_random_bits):
    arr, _ = _as_float_array(x)
    if arr.ndim == 0:
        raise ValueError("block formats need an array with at least one dimension")
    f = _resolve(fmt)
    mode = parse_rounding(rounding)
    seed_, rbits, n = _random_args(mode, arr.size, arr.shape, seed, random_bits, n_random_bits)
    _check_sr_bits(f, mode, n)
    return arr, f, mode, seed_, rbits, n


def _check_sr_bits(f: BlockFormat, mode: Rounding, n: int) -> None:
    """Stochastic rounding under a non-power-of-two scale takes at most ``51 - element mbits`` bits."""
    if mode.is_stochastic and not f.pow2_scale and n > 51 - f.element_format.mbits:
        raise ValueError(
            f"with a non-power-of-two scale, n_random_bits is at most {51 - f.element_format.mbits}"
        )


def _reference_bits(mode: Rounding, seed: int, rbits: np.ndarray, n: int, shape: tuple) -> np.ndarray | None:
    if not mode.is_stochastic:
        return None
    if rbits.size == 0:
        from ._numba._random import random_bits_numba

        rbits = random_bits_numba(seed, int(np.prod(shape, dtype=np.int64)), n)
    return rbits.reshape(shape)


def quantize(
    x: object,
    fmt: object,
    axis: int | tuple[int, int] | None = None,
    rounding: str | Rounding = "nearest_even",
    *,
    seed: int | None = None,
    random_bits: object = None,
    n_random_bits: int | None = None,
    out: np.ndarray | None = None,
    backend: str = "auto",
) -> np.ndarray:
    """Round ``x`` to a block format and return the dequantized values (same shape and dtype).

    Parameters
    ----------
    x
        float16, bfloat16, float32 or float64 array with at least one dimension. Contiguous
        float32/float64 arrays are read without a copy (e.g. ``torch_tensor.numpy()``).
    fmt
        A :class:`BlockFormat` or a name (``"mxfp4"``, ``"mxfp8_e4m3"``, ``"nvfp4"``, ``"bfp8"``,
        ``"mxfp4_b64_rceil"``...).
    axis
        Block axis (a pair for 2-D blocks); ``None`` uses ``fmt.axis`` (``-1``, or ``(-2, -1)``).
    rounding
        Element rounding mode, any of lowprec's (stochastic ones too). Scales are always computed
        by the format's scale rule; elements always saturate.
    seed, random_bits, n_random_bits
        Stochastic rounding: element ``i`` (flat C-order index in ``x``) uses random integer ``i``
        of the seeded stream (:func:`lowprec.random_bits`) or ``random_bits.flat[i]``.
    out
        Optional output array (shape and dtype of ``x``).
    backend
        ``"auto"`` (the C++ kernels of ``lowprec._C`` for C-contiguous float32 arrays in a
        deterministic mode where they take their fastest rules: power-of-two scales, or NVFP4's
        amax rule in the nearest modes and ``toward_zero``; Numba otherwise), ``"numba"``,
        ``"cpp"`` or ``"reference"`` (exact oracle, slow). All give the same bits.

    Returns
    -------
    numpy.ndarray
        ``element x scale (x tensor scale)`` per element, rounded once to ``x``'s dtype (nearest,
        ties to even; exact for float32 and float64 outputs of the preset formats). Blocks that
        contain NaN or Inf are all NaN.
    """
    arr, f, mode, seed_, rbits, n = _prepare(x, fmt, rounding, seed, random_bits, n_random_bits)
    if out is not None and (
        not isinstance(out, np.ndarray) or out.shape != arr.shape or out.dtype != arr.dtype
    ):
        raise ValueError(f"out must be an array of shape {arr.shape} and dtype {arr.dtype}")
    b = resolve_backend(backend)
    if arr.dtype not in (np.float32, np.float64) and not _values_fit_float32(f):
        # float16/bfloat16 input, values wider than float32 (a tensor scale): the kernels would
        # round them to float32 and then to the dtype; round the float64 values once instead
        rnd = {"seed": seed, "random_bits": random_bits, "n_random_bits": n_random_bits}
        v64 = quantize(arr.astype(np.float64), f, axis, mode, backend=backend, **rnd)  # type: ignore[arg-type]
        res = narrow(v64, arr.dtype)
        if out is not None:
            out[...] = res
            return out
        return res
    g = None
    if b == "numba" and backend.lower() == "auto":
        b, g = _auto_quantize_backend(arr, f, axis, mode, n)
    if b == "reference":
        from .reference._block import quantize_block_reference

        res = quantize_block_reference(
            arr, f, axis, mode, _reference_bits(mode, seed_, rbits, n, arr.shape), n
        )
    elif b == "cpp":
        from ._cpp import block_run_cpp

        res = block_run_cpp(arr, f, axis, mode, seed_, rbits, n, "quantize", out, g)[0]
        if res is out:
            return out  # the kernel wrote it
    else:
        res = _run(arr, f, axis, mode, seed_, rbits, n, 0, out, g)[0].reshape(arr.shape)
        if out is not None and np.may_share_memory(res, out):
            return out  # the kernel wrote it
    res = res.astype(arr.dtype, copy=False)
    if out is not None:
        out[...] = res
        return out
    return res


def encode(
    x: object,
    fmt: object,
    axis: int | tuple[int, int] | None = None,
    rounding: str | Rounding = "nearest_even",
    *,
    seed: int | None = None,
    random_bits: object = None,
    n_random_bits: int | None = None,
    backend: str = "auto",
) -> tuple:
    """Codes of ``x`` in a block format.

    Returns
    -------
    elements
        Element codes: for elements narrower than 8 bits, packed densely in flat C order of ``x``
        (:func:`lowprec.pack`: two FP4 codes per byte, low nibble first; four FP6 codes in three
        bytes); otherwise a uint8 (uint16 for wider integer elements) array of ``x``'s shape.
        Integer elements are two's complement.
    scales
        uint8 scale codes, of ``x``'s shape with each block axis of length ``L`` replaced by
        ``ceil(L / block)``.
    tensor_scale
        Only for formats with ``tensor_scale=True``: the float32 per-tensor scale.
    """
    arr, f, mode, seed_, rbits, n = _prepare(x, fmt, rounding, seed, random_bits, n_random_bits)
    b = resolve_backend(backend)
    if b == "reference":
        from .reference._block import encode_block_reference

        codes, scales, g = encode_block_reference(
            arr, f, axis, mode, _reference_bits(mode, seed_, rbits, n, arr.shape), n
        )
    elif b == "cpp":
        from ._cpp import block_run_cpp

        codes, scales, g, _ = block_run_cpp(arr, f, axis, mode, seed_, rbits, n, "encode")
    else:
        codes, scales, g, sshape = _run(arr, f, axis, mode, seed_, rbits, n, 1)
        scales = scales.reshape(sshape)
    ef = f.element_format
    codes = pack(codes, ef) if ef.nbits < 8 else codes.reshape(arr.shape)
    if f.tensor_scale:
        return codes, scales, np.float32(g)
    return codes, scales


def decode(
    elements: object,
    scales: object,
    fmt: object,
    shape: tuple[int, ...],
    axis: int | tuple[int, int] | None = None,
    tensor_scale: float | None = None,
    dtype: object = np.float32,
) -> np.ndarray:
    """Values of block-format codes (the inverse of :func:`encode`).

    Parameters
    ----------
    elements, scales
        As returned by :func:`encode` (packed or not; integer element codes are two's complement).
    fmt, shape, axis
        The format, the array's shape and the block axis used to encode.
    tensor_scale
        The per-tensor scale for formats that have one (``None``: 1).
    dtype
        Output dtype: float32 (default; one rounding of the exact product) or float64 (exact).
    """
    f = _resolve(fmt)
    shape = tuple(int(s) for s in shape)
    dims, (b1, b2), sshape = block_geometry(shape, f, axis)
    ef = f.element_format
    e = np.asarray(elements)
    count = int(np.prod(shape, dtype=np.int64))
    if ef.nbits < 8:
        e = unpack(np.ascontiguousarray(e).reshape(-1), ef, count=count)
    e = e.reshape(-1)
    if e.size != count:
        raise ValueError(f"{e.size} element codes for shape {shape}")
    if f.element_is_int:
        nb = ef.nbits
        k = np.arange(1 << nb, dtype=np.int64)
        elut = np.ldexp(np.where(k >= 1 << (nb - 1), k - (1 << nb), k).astype(np.float64), -(nb - 2))
    else:
        elut = _lut(ef, np.dtype(np.float64))
    s = np.asarray(scales)
    if s.shape != sshape:
        raise ValueError(f"scales have shape {s.shape}, expected {sshape}")
    sv = _lut(f.scale, np.dtype(np.float64))[s.astype(np.intp)]  # type: ignore[arg-type]
    sv = sv.reshape(dims[0], -(-dims[1] // b1), dims[2], -(-dims[3] // b2), dims[4])
    sv = np.repeat(np.repeat(sv, b1, axis=1)[:, : dims[1]], b2, axis=3)[:, :, :, : dims[3]]
    g = 1.0 if tensor_scale is None else float(tensor_scale)
    vals = elut[e.astype(np.intp)].reshape(dims) * sv * g
    with np.errstate(over="ignore"):
        return vals.reshape(shape).astype(dtype)


# ---- Hadamard ------------------------------------------------------------------------------------


def _signs(signs: object, block: int) -> np.ndarray | None:
    if signs is None:
        return None
    if isinstance(signs, (int, np.integer)) and not isinstance(signs, bool):
        from ._numba._random import random_bits_numba

        return 1.0 - 2.0 * random_bits_numba(int(signs), block, 1).astype(np.float64)
    d = np.asarray(signs, dtype=np.float64).reshape(-1)
    if d.size != block or not np.all(np.abs(d) == 1):
        raise ValueError(f"signs must be a seed or {block} values of +-1")
    return d


def hadamard(
    x: object, block: int = 32, axis: int = -1, signs: object = None, inverse: bool = False
) -> np.ndarray:
    """Orthonormal blockwise Walsh-Hadamard transform, optionally with random signs.

    Every run of ``block`` consecutive elements along ``axis`` (a power of two that divides the
    axis length) becomes ``H @ (d * v) / sqrt(block)``, ``H`` the Sylvester Hadamard matrix and
    ``d`` the sign vector (signs are applied before the rotation). ``inverse=True`` computes
    ``d * (H @ v) / sqrt(block)``, the exact inverse.

    Parameters
    ----------
    x
        Float array; float16/bfloat16 are computed in float32; the result has ``x``'s dtype.
    block, axis
        Block length (power of two) and axis.
    signs
        ``None`` (no signs), an integer seed (sign ``j`` is ``-1`` iff the 1-bit counter-based random
        integer ``j`` of the seed is 1, see :func:`lowprec.random_bits`), or ``block`` values of +-1.
    inverse
        Apply the inverse transform.
    """
    arr, _ = _as_float_array(x)
    if block < 1 or block & (block - 1):
        raise ValueError(f"block must be a power of two, got {block}")
    if arr.ndim == 0 or arr.shape[axis] % block:
        raise ValueError(f"the axis length must be a multiple of block={block}")
    wd = np.float64 if arr.dtype == np.float64 else np.float32
    v = np.moveaxis(arr.astype(wd), axis, -1)
    shp = v.shape
    v = v.reshape(-1, block)
    d = _signs(signs, block)
    if d is not None and not inverse:
        v = v * d.astype(wd)
    h = 1
    while h < block:
        w = v.reshape(-1, block // (2 * h), 2, h)
        v = np.stack((w[:, :, 0] + w[:, :, 1], w[:, :, 0] - w[:, :, 1]), axis=2).reshape(-1, block)
        h *= 2
    v = v * wd(1.0 / math.sqrt(block))
    if d is not None and inverse:
        v = v * d.astype(wd)
    return np.moveaxis(v.reshape(shp), -1, axis).astype(arr.dtype)


# ---- lowprec.quantize / encode / decode routing ---------------------------------------------------


def _handle(
    what: str, x: object, fmt: object, rounding: str | Rounding = "nearest_even", **kw: object
) -> object:
    """Handler for ``lowprec._api._FAMILY_HANDLERS["block"]``.

    ``lowprec.quantize(x, "mxfp4", axis=-1)`` and ``lowprec.encode`` route here;
    ``lowprec.decode((elements, scales[, tensor_scale]), fmt, shape=..., axis=...)`` too.
    """
    _check_overflow(kw.pop("overflow", None))
    if kw.pop("subnormals", None) is not None:
        raise ValueError("subnormals cannot be overridden for block formats")
    backend = str(kw.pop("backend", "auto"))
    axis = kw.pop("axis", None)
    if what == "decode":
        parts = tuple(x) if isinstance(x, (tuple, list)) else (x, kw.pop("scales"))
        ts = parts[2] if len(parts) > 2 else kw.pop("tensor_scale", None)
        shape = kw.pop("shape")
        if kw:
            raise TypeError(f"unexpected arguments {sorted(kw)} for a block format")
        return decode(parts[0], parts[1], fmt, shape, axis, ts)  # type: ignore[arg-type]
    opts = {k: kw.pop(k) for k in ("seed", "random_bits", "n_random_bits") if k in kw}
    out = kw.pop("out", None)
    if kw:
        raise TypeError(f"unexpected arguments {sorted(kw)} for a block format")
    if what == "quantize":
        return quantize(x, fmt, axis, rounding, out=out, backend=backend, **opts)  # type: ignore[arg-type]
    if out is not None:
        raise ValueError("encode to a block format does not take out=")
    return encode(x, fmt, axis, rounding, backend=backend, **opts)  # type: ignore[arg-type]
