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
        ``jax.random`` key for stochastic rounding; the bits are ``jax.random.bits(key, x.shape)``
        shifted to ``n_random_bits``. They differ from the NumPy API's seeded stream.
    random_bits
        Explicit unsigned integers in ``[0, 2**n_random_bits)`` of ``x``'s shape (not range-checked
        under tracing). The same array as the NumPy API's ``random_bits`` gives the same result.
    n_random_bits
        Bits per random integer, default 32; above 32 needs ``jax_enable_x64``.
    estimator
        Gradient: ``"ste"`` (straight-through, identity) or ``"clipped"`` (zero where ``|x|`` is
        above the largest finite value or the result is not finite).
    **kwargs
        ``axis=`` for block formats, ``sat_bits=`` (only 0) for fixed point.

    Notes
    -----
    ``FixedFormat``/``IntFormat`` (HLS rounding names, ``overflow=None`` = ``WRAP``; at most 24
    bits) and MX-style block formats with E8M0 scales (``"mxfp4"``, ``"mxfp8_e4m3"``,
    ``"mxint8"``..., floor/ceil rules) are emulated exactly in ``jax.numpy``; stochastic rounding,
    NVFP4 and the other rules raise ``NotImplementedError``. ``"clipped"`` zeroes the gradient
    outside ``[fmt.min, fmt.max]`` (fixed) or where ``|x| > element_max * block scale`` (blocks).

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
        if subnormals is not None or key is not None or random_bits is not None or n_random_bits is not None:
            raise NotImplementedError(
                "lowprec.jax fixed-point/block formats take no subnormals/key/random_bits/n_random_bits "
                "(stochastic rounding is not implemented for them)"
            )
        return _quantize_family(x, fam[0], fam[1], rounding, overflow, estimator, kwargs)
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
        if key is not None:
            raw = jax.random.bits(key, x.shape, dtype=jnp.uint64 if n > 32 else jnp.uint32)
            r = (raw >> (64 - n if n > 32 else 32 - n)).astype(ut)
        else:
            rb = jnp.asarray(random_bits)
            if rb.shape != x.shape:
                raise ValueError(f"random_bits has shape {rb.shape}, expected {x.shape}")
            if not jnp.issubdtype(rb.dtype, jnp.integer):
                raise TypeError(f"random_bits must be unsigned integers, got dtype {rb.dtype}")
            if not wide and n > 32:
                raise ValueError("float32 inputs take at most 32 random bits in lowprec.jax")
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
def _make_family(family: str, f, q, o, axis, estimator: str, dtype: np.dtype):
    """A ``custom_vjp`` function ``x -> y`` for one static family configuration."""
    from ._families import block_work, fixed_work, width_of

    w = width_of(dtype)

    def forward(x: jax.Array) -> tuple:
        xw = x.astype(w.ftype)
        if family == "block":
            y, cap = block_work(xw, f, axis, q, w)
            keep = jnp.abs(xw) <= cap
        else:
            y = fixed_work(xw, f, q, o, w)
            keep = (xw >= w.ftype(float(f.min))) & (xw <= w.ftype(float(f.max)))
        return y.astype(x.dtype), keep

    @jax.custom_vjp
    def fn(x: jax.Array) -> jax.Array:
        return forward(x)[0]

    def fwd(x: jax.Array) -> tuple:
        y, keep = forward(x)
        return y, (keep if estimator == "clipped" else None)

    def bwd(keep, g: jax.Array) -> tuple:
        if keep is not None:
            g = jnp.where(keep, g, jnp.zeros_like(g))
        return (g,)

    fn.defvjp(fwd, bwd)
    return fn


def _quantize_family(
    x: jax.Array, family: str, f, rounding, overflow, estimator: str, kwargs: dict
) -> jax.Array:
    from ._families import check_block, check_fixed

    if family == "block":
        from ..blocks import _check_overflow

        unknown = set(kwargs) - {"axis"}
        if unknown:
            raise TypeError(f"unexpected arguments {sorted(unknown)} for block format {f}")
        _check_overflow(overflow)
        q = parse_rounding(rounding)
        check_block(f, q)
        if x.ndim == 0:
            raise ValueError("block formats need an array with at least one dimension")
        axis = kwargs.get("axis")
        axis = f.axis if axis is None else axis
        if isinstance(axis, (tuple, list)):
            raise NotImplementedError("lowprec.jax supports 1-D blocks only")
        if not -x.ndim <= int(axis) < x.ndim:
            raise ValueError(f"axis {axis} is out of range for an array of {x.ndim} dimensions")
        o, axis = None, int(axis) % x.ndim
    else:
        from .._fixed_modes import parse_fixed_overflow, parse_fixed_rounding
        from ..formats._fixed import _check_overflow as _check_fixed_overflow

        unknown = set(kwargs) - {"sat_bits"}
        if unknown:
            raise TypeError(f"unexpected arguments {sorted(unknown)} for fixed-point format {f}")
        if family == "int":
            f = f.as_fixed()
        q, o = parse_fixed_rounding(rounding), parse_fixed_overflow(overflow)
        sat_bits = kwargs.get("sat_bits", 0)
        _check_fixed_overflow(f, o, sat_bits)
        check_fixed(f, q, o, sat_bits)
        axis = None
    dt = np.dtype(np.float64 if x.dtype == jnp.float64 else np.float32)
    return _make_family("block" if family == "block" else "fixed", f, q, o, axis, estimator, dt)(x)
