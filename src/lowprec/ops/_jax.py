"""JAX entry point of the emulated GEMM: ``matmul(a, b, profile)``, jit-able and differentiable.

The forward pass calls :func:`lowprec.ops.matmul` on the host through :func:`jax.pure_callback`
(``vmap_method="sequential"``: under ``vmap`` the callback runs once per batch element). A
:func:`jax.custom_vjp` gives the backward pass **the same profile's emulated matmul**:
``grad_a = matmul(g, b.T, profile)``, ``grad_b = matmul(a.T, g, profile)``.

Usage (not exported from ``lowprec.jax`` by this module)::

    from lowprec.ops._jax import matmul
    y = jax.jit(matmul, static_argnums=2)(a, b, "h100_bf16")
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ._gemm import matmul as _np_matmul
from ._profile import GemmProfile

__all__ = ["matmul"]


def _call(a: jax.Array, b: jax.Array, profile: GemmProfile | str) -> jax.Array:
    dtype = jnp.result_type(a.dtype, b.dtype)
    shape = jax.ShapeDtypeStruct((a.shape[0], b.shape[1]), dtype)

    def host(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        out = _np_matmul(np.asarray(x, np.float64), np.asarray(y, np.float64), profile)
        return np.asarray(out).astype(dtype)

    return jax.pure_callback(host, shape, a, b, vmap_method="sequential")


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def _matmul(a: jax.Array, b: jax.Array, profile: GemmProfile | str) -> jax.Array:
    return _call(a, b, profile)


def _fwd(a: jax.Array, b: jax.Array, profile: GemmProfile | str) -> tuple:
    return _call(a, b, profile), (a, b)


def _bwd(profile: GemmProfile | str, res: tuple, g: jax.Array) -> tuple:
    a, b = res
    return _call(g, b.T, profile).astype(a.dtype), _call(a.T, g, profile).astype(b.dtype)


_matmul.defvjp(_fwd, _bwd)


def matmul(a: jax.Array, b: jax.Array, profile: GemmProfile | str = "ieee_fp32_sequential") -> jax.Array:
    """Emulated ``a @ b`` for 2-d arrays under ``profile`` (see :func:`lowprec.ops.matmul`).

    ``profile`` (a preset name or a :class:`GemmProfile`, both hashable) is static under ``jit``.
    """
    a = jnp.asarray(a)
    b = jnp.asarray(b)
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError("lowprec.ops jax matmul takes 2-d arrays")
    return _matmul(a, b, profile)
