"""PyTorch entry points of the emulated GEMM: ``matmul`` and ``linear`` on CPU tensors.

The forward pass is :func:`lowprec.ops.matmul` on NumPy views of the tensors (no BLAS). The backward
pass uses **the same profile's emulated matmul**: ``grad_a = matmul(grad_out, b.T, profile)`` and
``grad_b = matmul(a.T, grad_out, profile)``, i.e. the gradients see the same input rounding and
accumulation model as the forward pass (as a GPU running the same kernel for its backward GEMMs
would). The bias gradient of :func:`linear` is the float64 sum of ``grad_out`` over the batch, cast
to the bias dtype (a reduction, not a GEMM). Registered with :class:`torch.autograd.Function`.

Usage (not exported from ``lowprec.torch`` by this module)::

    from lowprec.ops._torch import matmul, linear
    y = linear(x, w, b, profile="h100_bf16")
"""

from __future__ import annotations

import numpy as np
import torch

from ._gemm import matmul as _np_matmul
from ._profile import GemmProfile

__all__ = ["linear", "matmul"]


def _np(t: torch.Tensor) -> np.ndarray:
    if t.device.type != "cpu":
        raise ValueError(f"lowprec.ops torch entry points take CPU tensors, got {t.device}")
    return t.detach().to(torch.float64).numpy()


def _emulated(a: torch.Tensor, b: torch.Tensor, profile: GemmProfile | str, c: torch.Tensor | None,
              dtype: torch.dtype) -> torch.Tensor:  # fmt: skip
    out = _np_matmul(_np(a), _np(b), profile, c=None if c is None else _np(c))
    return torch.from_numpy(np.asarray(out)).to(dtype)


class _EmulatedMatmul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b, c, profile):  # type: ignore[override]
        ctx.save_for_backward(a, b)
        ctx.profile = profile
        ctx.c_shape = None if c is None else c.shape
        ctx.c_dtype = None if c is None else c.dtype
        dtype = torch.promote_types(a.dtype, b.dtype)
        return _emulated(a, b, profile, c, dtype)

    @staticmethod
    def backward(ctx, g):  # type: ignore[override]
        a, b = ctx.saved_tensors
        ga = gb = gc = None
        if ctx.needs_input_grad[0]:
            ga = _emulated(g, b.T, ctx.profile, None, a.dtype)
        if ctx.needs_input_grad[1]:
            gb = _emulated(a.T, g, ctx.profile, None, b.dtype)
        if ctx.c_shape is not None and ctx.needs_input_grad[2]:
            g64 = g.to(torch.float64)
            while g64.dim() > len(ctx.c_shape):
                g64 = g64.sum(0)
            for d, size in enumerate(ctx.c_shape):
                if size == 1 and g64.shape[d] != 1:
                    g64 = g64.sum(d, keepdim=True)
            gc = g64.to(ctx.c_dtype)
        return ga, gb, gc, None


def matmul(a: torch.Tensor, b: torch.Tensor, profile: GemmProfile | str = "ieee_fp32_sequential",
           c: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
    """Emulated ``a @ b + c`` for 2-d CPU tensors under ``profile`` (see :func:`lowprec.ops.matmul`).

    The result has the promoted dtype of ``a`` and ``b``; gradients flow to ``a``, ``b`` and ``c``.
    """
    if a.dim() != 2 or b.dim() != 2:
        raise ValueError("lowprec.ops torch matmul takes 2-d tensors")
    return _EmulatedMatmul.apply(a, b, c, profile)


def linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
           profile: GemmProfile | str = "ieee_fp32_sequential") -> torch.Tensor:  # fmt: skip
    """Emulated ``x @ weight.T + bias`` as :func:`torch.nn.functional.linear` (any leading dims).

    ``bias`` enters the GEMM as its addend ``C0`` (rounded to the accumulator format, the carry-in of
    the first block), as in a fused GEMM epilogue-free bias load.
    """
    lead = x.shape[:-1]
    x2 = x.reshape(-1, x.shape[-1])
    c = None if bias is None else bias.reshape(1, -1)
    y = _EmulatedMatmul.apply(x2, weight.T, c, profile)
    return y.reshape(*lead, weight.shape[0])
