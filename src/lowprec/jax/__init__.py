"""JAX frontend: :func:`quantize` as pure ``jax.numpy`` bit operations (jit, vmap, grad, sharding).

The rounding is the integer algorithm of the NumPy API, so results are bit-identical to
:func:`lowprec.quantize` for the same random bits. There is no hidden random state: stochastic
rounding takes an explicit ``jax.random`` key or explicit ``random_bits``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .._api import _resolve_float_format
from ..ops._jax import matmul as matmul
from ..rounding import Overflow, Rounding, parse_rounding, resolve_overflow
from ._impl import W32, W64, quantize_work

__all__ = ["matmul", "quantize"]

_ESTIMATORS = ("ste", "clipped")
_SMALL = (jnp.float16, jnp.bfloat16)


def _x64() -> bool:
    return bool(jax.config.jax_enable_x64)


@functools.lru_cache(maxsize=512)
def _make(fmt, mode: Rounding, ovf: Overflow, n: int, estimator: str, dtype: np.dtype):
    """A ``custom_vjp`` function ``(x, r) -> y`` for one static configuration."""
    w = W64 if dtype == np.float64 else W32
    max_finite = float(fmt.max_finite)

    def forward(x: jax.Array, r: jax.Array) -> jax.Array:
        xw = x.astype(w.ftype)
        y = quantize_work(xw, fmt, mode, ovf, r if mode.is_stochastic else None, n, w)
        return y.astype(x.dtype)

    @jax.custom_vjp
    def f(x: jax.Array, r: jax.Array) -> jax.Array:
        return forward(x, r)

    def fwd(x: jax.Array, r: jax.Array) -> tuple:
        y = forward(x, r)
        if estimator == "clipped":
            keep = jnp.isfinite(y) & (jnp.abs(x.astype(w.ftype)) <= max_finite)
            return y, (keep, r)
        return y, (None, r)

    def bwd(res: tuple, g: jax.Array) -> tuple:
        keep, r = res
        if keep is not None:
            g = jnp.where(keep, g, jnp.zeros_like(g))
        r_ct = np.zeros(r.shape, dtype=jax.dtypes.float0)
        return g, r_ct

    f.defvjp(fwd, bwd)
    return f


def quantize(
    x: jax.Array,
    fmt: object,
    rounding: str | Rounding = "nearest_even",
    *,
    overflow: str | Overflow | None = None,
    subnormals: bool | None = None,
    key: jax.Array | None = None,
    random_bits: jax.Array | None = None,
    n_random_bits: int | None = None,
    estimator: str = "ste",
    **kwargs: object,
) -> jax.Array:
    """Round every element of ``x`` to ``fmt``, returning values in ``x``'s dtype.

    Parameters
    ----------
    x
        float16, bfloat16 or float32 array (float64 needs ``jax_enable_x64``).
    fmt, rounding, overflow, subnormals
        As :func:`lowprec.quantize` (static: a new format or mode compiles a new kernel).
    key
        ``jax.random`` key for stochastic rounding; element ``i`` uses ``jax.random.bits(key,
        x.shape, dtype)`` (``uint32``, or ``uint64`` when ``n_random_bits > 32``) shifted right to
        ``n_random_bits`` bits, for every family. They differ from the NumPy API's seeded stream.
    random_bits
        Explicit unsigned integers in ``[0, 2**n_random_bits)`` of ``x``'s shape (not range-checked
        under tracing). The same array as the NumPy API's ``random_bits`` gives the same result.
    n_random_bits
        Bits per random integer, default 32; above 32 needs ``jax_enable_x64`` (float formats:
        at most 52 and float64 input; fixed point: at most 62; blocks: as the NumPy API).
    estimator
        Gradient: ``"ste"`` (straight-through, identity) or ``"clipped"`` (zero where ``|x|`` is
        above the largest finite value or the result is not finite).
    **kwargs
        ``axis=`` for block formats (an int, or a pair for 2-D blocks), ``sat_bits=`` for fixed point.

    Notes
    -----
    Every ``FixedFormat``/``IntFormat`` option (HLS rounding names, stochastic modes, ``overflow=None``
    = ``WRAP``, ``WRAP_SM``, ``sat_bits``) and every block format (MX, NVFP4 with or without tensor
    scale, ``bfpN``, every scale rule, 1-D and 2-D blocks) is emulated exactly in ``jax.numpy``
    integer operations. 32-bit integers suffice for float16/bfloat16/float32 input with fixed-point
    formats of at most 32 bits and ``n_random_bits <= 32``, and for block formats (``amax``-rule
    stochastic rounding: ``n_random_bits <= 28 - element mantissa bits``, 27 for NVFP4); beyond
    that, or for float64 input, ``jax_enable_x64`` is needed (a ``ValueError`` says so).
    ``"clipped"`` zeroes the gradient outside ``[fmt.min, fmt.max]`` (fixed) or where
    ``|x| > element_max * block scale (* tensor scale)`` (blocks).

    Returns
    -------
    jax.Array
        The rounded values. Formats without NaN pass NaN inputs through.

    Examples
    --------
    >>> import jax.numpy as jnp, lowprec.jax
    >>> lowprec.jax.quantize(jnp.array([0.1, 300.0], jnp.float32), "float8_e4m3fn")
    Array([1.015625e-01, 2.880000e+02], dtype=float32)
    """
    dt = getattr(x, "dtype", None)
    if dt is not None and np.dtype(dt) == np.float64 and not _x64():
        raise TypeError(
            "float64 input needs 64-bit JAX: jax.config.update('jax_enable_x64', True) (or cast to float32)"
        )
    x = jnp.asarray(x)
    if x.dtype not in (jnp.float16, jnp.bfloat16, jnp.float32, jnp.float64):
        raise TypeError(
            f"x has dtype {x.dtype}; lowprec rounds float16, bfloat16, float32 and float64 arrays"
        )
    if estimator not in _ESTIMATORS:
        raise ValueError(f"estimator must be one of {_ESTIMATORS}, got {estimator!r}")
    fam = _family(fmt)
    if fam is not None:
        if subnormals is not None:
            raise ValueError("subnormals cannot be overridden for fixed-point and block formats")
        return _quantize_family(x, fam[0], fam[1], rounding, overflow, estimator, key, random_bits,
                                n_random_bits, kwargs)  # fmt: skip
    if kwargs:
        raise TypeError(f"unexpected arguments {sorted(kwargs)} for float format {fmt}")
    f = _resolve_float_format(fmt, subnormals)
    mode = parse_rounding(rounding)
    ovf = resolve_overflow(f, overflow)
    wide = x.dtype == jnp.float64
    if mode.is_stochastic:
        n = 32 if n_random_bits is None else int(n_random_bits)
        if not 1 <= n <= 52:
            raise ValueError(f"n_random_bits must be in [1, 52], got {n}")
        big = wide or n > 32
        if big and not _x64():
            raise ValueError("n_random_bits > 32 needs jax_enable_x64")
        ut = jnp.uint64 if wide else jnp.uint32
        if (key is None) == (random_bits is None):
            raise ValueError("stochastic rounding needs exactly one of key= or random_bits=")
        if not wide and n > 32:
            raise ValueError("float32 inputs take at most 32 random bits in lowprec.jax (pass float64)")
        if key is not None:
            raw = jax.random.bits(key, x.shape, dtype=jnp.uint64 if n > 32 else jnp.uint32)
            r = (raw >> (64 - n if n > 32 else 32 - n)).astype(ut)
        else:
            rb = jnp.asarray(random_bits)
            if rb.shape != x.shape:
                raise ValueError(f"random_bits has shape {rb.shape}, expected {x.shape}")
            if not jnp.issubdtype(rb.dtype, jnp.integer):
                raise TypeError(f"random_bits must be unsigned integers, got dtype {rb.dtype}")
            r = rb.astype(ut)
    else:
        if key is not None or random_bits is not None:
            raise ValueError(f"key/random_bits only apply to stochastic rounding, not {mode.name.lower()}")
        n = 0
        r = jnp.zeros((), jnp.uint32)
    fn = _make(f, mode, ovf, n, estimator, np.dtype(np.float64 if wide else np.float32))
    return fn(x, r)


def _family(fmt: object) -> tuple[str, object] | None:
    """``(family, format)`` for fixed-point, integer and block formats, else ``None``."""
    from ..formats._registry import get_format

    try:
        f = get_format(fmt)
    except (KeyError, ValueError, TypeError):
        if not isinstance(fmt, str):
            raise
        from ..formats._block import get_block_format

        f = get_block_format(fmt)
    fam = getattr(f, "__lowprec_format__", None)
    return (fam, f) if fam in ("fixed", "int", "block") else None


@functools.lru_cache(maxsize=256)
def _make_family(family: str, f, q, o, nsat: int, axes, n: int, estimator: str, wbits: int, out_w: int):
    """A ``custom_vjp`` function ``(x, r) -> y`` for one static family configuration."""
    from ._families import block_work, fixed_keep, fixed_work

    w = W64 if wbits == 64 else W32
    stochastic = q.is_stochastic

    def forward(x: jax.Array, r: jax.Array) -> tuple:
        xw = x.astype(w.ftype)
        rr = r.astype(w.utype) if stochastic else None
        if family == "block":
            y, cap = block_work(xw, f, axes, q, rr, n, w, out_w)
            keep = jnp.abs(xw) <= cap
        else:
            y = fixed_work(xw, f, q, o, nsat, rr, n, w, out_w)
            keep = fixed_keep(xw, f)
        return y.astype(x.dtype), keep

    @jax.custom_vjp
    def fn(x: jax.Array, r: jax.Array) -> jax.Array:
        return forward(x, r)[0]

    def fwd(x: jax.Array, r: jax.Array) -> tuple:
        y, keep = forward(x, r)
        return y, ((keep if estimator == "clipped" else None), r)

    def bwd(res: tuple, g: jax.Array) -> tuple:
        keep, r = res
        if keep is not None:
            g = jnp.where(keep, g, jnp.zeros_like(g))
        return g, np.zeros(r.shape, dtype=jax.dtypes.float0)

    fn.defvjp(fwd, bwd)
    return jax.jit(fn)  # one compilation per configuration, also for eager calls


def _family_bits(x: jax.Array, stochastic: bool, key, random_bits, n_random_bits, nmax: int) -> tuple:
    """``(r, n)``: the random integers of a stochastic mode (a dummy scalar otherwise) and their width."""
    if not stochastic:
        if key is not None or random_bits is not None or n_random_bits is not None:
            raise ValueError("key/random_bits/n_random_bits only apply to stochastic rounding")
        return jnp.zeros((), jnp.uint32), 0
    n = 32 if n_random_bits is None else n_random_bits
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= nmax:
        raise ValueError(f"n_random_bits must be an integer in 1..{nmax}, got {n_random_bits!r}")
    n = int(n)
    if (key is None) == (random_bits is None):
        raise ValueError("stochastic rounding needs exactly one of key= or random_bits=")
    if n > 32 and not _x64():
        raise ValueError("n_random_bits > 32 needs jax_enable_x64: jax.config.update('jax_enable_x64', True)")
    if key is not None:
        wide = n > 32
        raw = jax.random.bits(key, x.shape, dtype=jnp.uint64 if wide else jnp.uint32)
        return raw >> ((64 if wide else 32) - n), n
    rb = jnp.asarray(random_bits)
    if rb.shape != x.shape:
        raise ValueError(f"random_bits has shape {rb.shape}, expected {x.shape}")
    if not jnp.issubdtype(rb.dtype, jnp.integer):
        raise TypeError(f"random_bits must be unsigned integers, got dtype {rb.dtype}")
    return rb, n


def _quantize_family(
    x: jax.Array,
    family: str,
    f,
    rounding,
    overflow,
    estimator: str,
    key,
    random_bits,
    n_random_bits,
    kwargs: dict,
) -> jax.Array:
    from ._families import block_width, fixed_width

    wide = x.dtype == jnp.float64
    if family == "block":
        from ..blocks import _check_overflow
        from ..formats._block import _norm_axis, block_geometry

        unknown = set(kwargs) - {"axis"}
        if unknown:
            raise TypeError(f"unexpected arguments {sorted(unknown)} for block format {f}")
        _check_overflow(overflow)
        q = parse_rounding(rounding)
        if x.ndim == 0:
            raise ValueError("block formats need an array with at least one dimension")
        axis = kwargs.get("axis")
        block_geometry(x.shape, f, axis)  # validates the axes as the NumPy API does
        ax = _norm_axis(f.axis if axis is None else axis, f.block)
        axes = tuple(int(a) % x.ndim for a in (ax if isinstance(ax, tuple) else (ax,)))
        nmax = 52 if f.pow2_scale else 51 - f.element_format.mbits
        r, n = _family_bits(x, q.is_stochastic, key, random_bits, n_random_bits, nmax)
        w = block_width(f, q, n, wide)
        o, nsat = None, 0
    else:
        from .._fixed_modes import parse_fixed_overflow, parse_fixed_rounding
        from ..formats._fixed import _check_overflow as _check_fixed_overflow

        unknown = set(kwargs) - {"sat_bits"}
        if unknown:
            raise TypeError(f"unexpected arguments {sorted(unknown)} for fixed-point format {f}")
        if family == "int":
            f = f.as_fixed()
        q, o = parse_fixed_rounding(rounding), parse_fixed_overflow(overflow)
        nsat = kwargs.get("sat_bits", 0)
        _check_fixed_overflow(f, o, nsat)
        r, n = _family_bits(x, q.is_stochastic, key, random_bits, n_random_bits, 62)
        w = fixed_width(f, q, n, wide)
        axes = None
    fam = "block" if family == "block" else "fixed"
    return _make_family(fam, f, q, o, nsat, axes, n, estimator, w.bits, 64 if wide else 32)(x, r)
