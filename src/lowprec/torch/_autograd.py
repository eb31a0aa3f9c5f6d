"""Gradients of ``lowprec::quantize``: straight-through, clipped, and optional gradient rounding."""

from __future__ import annotations

import torch

from ._ops import lookup_format, quantize_op

ESTIMATORS = ("ste", "clipped")


def _setup_context(ctx, inputs, output) -> None:
    x, fmt, _, _, _, _, _, estimator, grad_fmt, grad_mode, grad_overflow, grad_seed = inputs
    ctx.estimator = estimator
    ctx.grad = (grad_fmt, grad_mode, grad_overflow)
    if estimator == "clipped":
        max_finite = float(lookup_format(fmt).max_finite)
        keep = torch.isfinite(output) & (x.detach().abs() <= max_finite)
        ctx.save_for_backward(keep, grad_seed)
    else:
        ctx.save_for_backward(None, grad_seed)


def _backward(ctx, grad: torch.Tensor) -> tuple:
    keep, grad_seed = ctx.saved_tensors
    if keep is not None:
        grad = torch.where(keep, grad, torch.zeros_like(grad))
    grad_fmt, grad_mode, grad_overflow = ctx.grad
    if grad_fmt is not None:
        grad = quantize_op(
            grad, grad_fmt, grad_mode, grad_overflow, grad_seed, None, 32, "ste", None, 0, 0, None
        )
    return (grad,) + (None,) * 11


quantize_op.register_autograd(_backward, setup_context=_setup_context)
