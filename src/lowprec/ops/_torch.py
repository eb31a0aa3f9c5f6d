"""PyTorch entry points of the emulated GEMM: ``matmul`` and ``linear`` on CPU tensors.

Both go through the custom op ``torch.ops.lowprec.gemm`` (:func:`torch.library.custom_op`), which has
a fake (meta) implementation and an autograd formula, so ``torch.compile(fullgraph=True)`` traces
models that use them without a graph break. The op runs :func:`lowprec.ops.matmul` on float64 NumPy
copies of the tensors (no BLAS).

The backward pass uses **the same profile's emulated matmul** (the same op again):
``grad_a = matmul(grad_out, b.T, profile)`` and ``grad_b = matmul(a.T, grad_out, profile)``, i.e. the
gradients see the same input rounding and accumulation model as the forward pass (as a GPU running
the same kernel for its backward GEMMs would). The gradient of the addend ``c`` (the bias of
:func:`linear`) is the float64 sum of ``grad_out`` over the broadcast dimensions, cast to ``c``'s
dtype (a reduction, not a GEMM).

Profiles travel through the op as strings (``torch.compile`` needs hashable constants): a preset by
its name, any other profile by its ``repr`` registered on first use.
"""

from __future__ import annotations

import numpy as np
import torch

from ._gemm import matmul as _np_matmul
from ._profile import GemmProfile

__all__ = ["gemm_op", "linear", "matmul", "profile_key"]

_PROFILES: dict[str, GemmProfile] = {}
_FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


@torch.compiler.assume_constant_result
def profile_key(profile: GemmProfile | str) -> str:
    """The string that names ``profile`` inside the op (a preset name, or a registered ``repr``)."""
    if isinstance(profile, str):
        GemmProfile.preset(profile)  # raises ValueError for unknown names
        return profile
    if not isinstance(profile, GemmProfile):
        raise TypeError(f"profile must be a GemmProfile or a preset name, not {type(profile).__name__}")
    if profile.name in GemmProfile.presets() and GemmProfile.preset(profile.name) == profile:
        return profile.name
    key = f"lowprec-gemm:{profile!r}"
    _PROFILES.setdefault(key, profile)  # atomic under the GIL
    return key


def _lookup(key: str) -> GemmProfile:
    p = _PROFILES.get(key)
    return p if p is not None else GemmProfile.preset(key)


def _np(t: torch.Tensor) -> np.ndarray:
    if t.device.type != "cpu":
        raise ValueError(f"lowprec.ops torch entry points take CPU tensors, got {t.device}")
    return t.detach().to(torch.float64).numpy()


@torch.library.custom_op("lowprec::gemm", mutates_args=())
def gemm_op(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor | None, profile: str) -> torch.Tensor:
    """Emulated ``a @ b + c`` (2-d ``a``, ``b``; ``c`` broadcastable) under the profile named ``profile``.

    The result has the promoted dtype of ``a`` and ``b``.
    """
    for t in (a, b) if c is None else (a, b, c):
        if t.dtype not in _FLOAT_DTYPES:
            raise TypeError(f"lowprec.torch.matmul takes floating-point tensors, not {t.dtype}")
    out = _np_matmul(_np(a), _np(b), _lookup(profile), c=None if c is None else _np(c))
    return torch.from_numpy(np.ascontiguousarray(out)).to(torch.promote_types(a.dtype, b.dtype))


@gemm_op.register_fake
def _(a, b, c, profile):
    if a.dim() != 2 or b.dim() != 2:
        raise ValueError("lowprec::gemm takes 2-d tensors")
    torch._check(a.shape[1] == b.shape[0], lambda: "lowprec::gemm: shapes do not align")
    return a.new_empty((a.shape[0], b.shape[1]), dtype=torch.promote_types(a.dtype, b.dtype))


def _setup_context(ctx, inputs, output) -> None:
    a, b, c, profile = inputs
    ctx.profile = profile
    ctx.c_meta = None if c is None else (tuple(c.shape), c.dtype)
    ctx.save_for_backward(a, b)


def _backward(ctx, g: torch.Tensor) -> tuple:
    a, b = ctx.saved_tensors
    ga = gb = gc = None
    if ctx.needs_input_grad[0]:
        ga = gemm_op(g, b.transpose(0, 1), None, ctx.profile).to(a.dtype)
    if ctx.needs_input_grad[1]:
        gb = gemm_op(a.transpose(0, 1), g, None, ctx.profile).to(b.dtype)
    if ctx.c_meta is not None and ctx.needs_input_grad[2]:
        shape, dtype = ctx.c_meta
        g64 = g.to(torch.float64)
        while g64.dim() > len(shape):
            g64 = g64.sum(0)
        dims = [d for d, size in enumerate(shape) if size == 1 and g64.shape[d] != 1]
        if dims:
            g64 = g64.sum(dims, keepdim=True)
        gc = g64.to(dtype)
    return ga, gb, gc, None


gemm_op.register_autograd(_backward, setup_context=_setup_context)


def matmul(a: torch.Tensor, b: torch.Tensor, profile: GemmProfile | str = "ieee_fp32_sequential",
           c: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
    """Emulated ``a @ b + c`` for 2-d CPU tensors under ``profile`` (see :func:`lowprec.ops.matmul`).

    Parameters
    ----------
    a, b
        2-d float tensors of shapes ``(M, K)`` and ``(K, N)``, rounded to the profile's input formats.
    profile
        A :class:`~lowprec.ops.GemmProfile` or a preset name.
    c
        Optional addend broadcastable to ``(M, N)`` (the carry-in of the first block).

    Returns
    -------
    torch.Tensor
        ``(M, N)`` in the promoted dtype of ``a`` and ``b``. Gradients flow to ``a``, ``b`` and ``c``
        (same profile for the backward GEMMs). Runs as the custom op ``torch.ops.lowprec.gemm``.
    """
    if a.dim() != 2 or b.dim() != 2:
        raise ValueError("lowprec.ops torch matmul takes 2-d tensors")
    return gemm_op(a, b, c, profile_key(profile))


def linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
           profile: GemmProfile | str = "ieee_fp32_sequential") -> torch.Tensor:  # fmt: skip
    """Emulated ``x @ weight.T + bias`` as :func:`torch.nn.functional.linear` (any leading dims).

    ``bias`` enters the GEMM as its addend ``C0`` (rounded to the output format, the carry-in of
    the first block), as in a GEMM that loads the bias into its accumulator.
    """
    lead = x.shape[:-1]
    x2 = x.reshape(-1, x.shape[-1])
    c = None if bias is None else bias.reshape(1, -1)
    y = gemm_op(x2, weight.transpose(0, 1), c, profile_key(profile))
    return y.reshape(*lead, weight.shape[0])
