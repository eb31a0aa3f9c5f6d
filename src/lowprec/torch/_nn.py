"""Modules: :class:`Quantizer` (rounds what passes through) and :class:`QuantLinear`."""

from __future__ import annotations

import torch
from torch import nn

from ..formats._registry import get_format
from ..rounding import parse_rounding

__all__ = ["QuantLinear", "Quantizer", "quantize_model_"]


class Quantizer(nn.Module):
    """Round the input to a format in the forward pass (straight-through or clipped backward).

    Parameters
    ----------
    fmt, rounding, overflow
        Forward format, rounding mode and overflow policy (as :func:`lowprec.torch.quantize`).
    grad_fmt, grad_rounding, grad_overflow
        Optional rounding of the gradient in the backward pass.
    estimator
        ``"ste"`` or ``"clipped"``.
    seed
        For stochastic rounding: a fixed seed (the same bits every call), or ``None`` to draw one
        per call from the global torch RNG.
    **options
        Family options for fixed-point/integer (``sat_bits=``) and block formats (``axis=``);
        ``fmt`` may be any format :func:`lowprec.torch.quantize` takes (``"mxfp4"``, ``FixedFormat``...).
    """

    def __init__(
        self,
        fmt: object,
        rounding: str = "nearest_even",
        *,
        overflow: str | None = None,
        grad_fmt: object = None,
        grad_rounding: str = "nearest_even",
        grad_overflow: str | None = None,
        estimator: str = "ste",
        seed: int | None = None,
        **options: object,
    ) -> None:
        super().__init__()
        from ._families import family_of

        family, self.fmt = family_of(fmt)
        if family is None:
            if options:
                raise TypeError(f"unexpected arguments {sorted(options)} for float format {fmt}")
            self.rounding = parse_rounding(rounding)
        elif family == "block":
            self.rounding = parse_rounding(rounding)
        else:
            from .._fixed_modes import parse_fixed_rounding

            self.rounding = parse_fixed_rounding(rounding)
        self.options = dict(options)
        self.overflow = overflow
        self.grad_fmt = None if grad_fmt is None else get_format(grad_fmt)
        self.grad_rounding = parse_rounding(grad_rounding)
        self.grad_overflow = grad_overflow
        self.estimator = estimator
        self.seed = seed

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` rounded to the format."""
        from . import quantize

        seed = self.seed if self.rounding.is_stochastic else None
        return quantize(
            x, self.fmt, self.rounding, overflow=self.overflow, seed=seed, estimator=self.estimator,
            grad_fmt=self.grad_fmt, grad_rounding=self.grad_rounding, grad_overflow=self.grad_overflow,
            **self.options,
        )  # fmt: skip

    def extra_repr(self) -> str:
        parts = [f"fmt={self.fmt}", f"rounding={self.rounding.name.lower()}"]
        if self.overflow is not None:
            parts.append(f"overflow={self.overflow}")
        if self.grad_fmt is not None:
            parts.append(f"grad_fmt={self.grad_fmt}, grad_rounding={self.grad_rounding.name.lower()}")
        if self.estimator != "ste":
            parts.append(f"estimator={self.estimator}")
        if self.seed is not None:
            parts.append(f"seed={self.seed}")
        parts.extend(f"{k}={v}" for k, v in self.options.items())
        return ", ".join(parts)


class QuantLinear(nn.Module):
    """A ``nn.Linear`` whose weight and input (and optionally output) pass through quantizers.

    The float master weight is kept and trained; the forward pass uses its rounded copy.
    """

    def __init__(
        self,
        linear: nn.Linear,
        weight_q: Quantizer | None = None,
        act_q: Quantizer | None = None,
        out_q: Quantizer | None = None,
    ) -> None:
        super().__init__()
        self.linear = linear
        self.weight_q = weight_q if weight_q is not None else nn.Identity()
        self.act_q = act_q if act_q is not None else nn.Identity()
        self.out_q = out_q if out_q is not None else nn.Identity()

    @property
    def weight(self) -> torch.Tensor:
        """The float master weight."""
        return self.linear.weight

    def quantized_weight(self) -> torch.Tensor:
        """The weight as the forward pass uses it."""
        return self.weight_q(self.linear.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``out_q(linear(act_q(x)))`` with the quantized weight."""
        y = nn.functional.linear(self.act_q(x), self.quantized_weight(), self.linear.bias)
        return self.out_q(y)


def quantize_model_(
    model: nn.Module,
    weight_fmt: object = None,
    act_fmt: object = None,
    *,
    rounding: str = "nearest_even",
    grad_fmt: object = None,
    estimator: str = "ste",
) -> nn.Module:
    """Replace every ``nn.Linear`` of ``model`` in place by a :class:`QuantLinear`; returns ``model``.

    ``weight_fmt`` rounds weights, ``act_fmt`` the inputs of each linear layer, ``grad_fmt`` the
    gradients flowing back through both.
    """

    def make(fmt: object) -> Quantizer | None:
        if fmt is None:
            return None
        return Quantizer(fmt, rounding, grad_fmt=grad_fmt, estimator=estimator)

    for name, child in list(model.named_children()):
        if isinstance(child, nn.Linear):
            setattr(model, name, QuantLinear(child, make(weight_fmt), make(act_fmt)))
        elif not isinstance(child, QuantLinear):
            quantize_model_(
                child, weight_fmt, act_fmt, rounding=rounding, grad_fmt=grad_fmt, estimator=estimator
            )
    return model
