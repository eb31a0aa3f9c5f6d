"""PyTorch frontend: :func:`quantize` as the custom op ``torch.ops.lowprec.quantize``.

CPU tensors are rounded by the NumPy API on zero-copy views (same bits); CUDA tensors by the
compiled CUDA kernels of ``lowprec._C_cuda`` (a clear ``RuntimeError`` when they are not built).
The op has a fake (meta) implementation and an autograd formula, so ``torch.compile`` traces
models that use it and gradients flow through a straight-through or clipped estimator.
"""

from __future__ import annotations

import torch

from .._api import _resolve_float_format
from ..ops._torch import linear as linear
from ..ops._torch import matmul as matmul
from ..rounding import Overflow, Rounding, parse_rounding, resolve_overflow
from . import _autograd  # noqa: F401  (registers the autograd formula)
from ._autograd import ESTIMATORS
from ._families import family_key, family_of, options_json, quantize_ext_op
from ._nn import Quantizer, QuantLinear, quantize_model_
from ._ops import format_key, quantize_op

__all__ = ["QuantLinear", "Quantizer", "linear", "matmul", "quantize", "quantize_model_"]

_MASK64 = (1 << 64) - 1


def _draw_seed(generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    """A 63-bit seed tensor from ``generator`` (or the global torch RNG); traceable, no ``.item()``."""
    dev = generator.device if generator is not None else torch.device("cpu")
    return torch.randint(0, 2**63 - 1, (), generator=generator, device=dev, dtype=torch.int64)


def _seed_tensor(seed: int) -> torch.Tensor:
    s = int(seed) & _MASK64
    return torch.tensor(s - (1 << 64) if s >= (1 << 63) else s, dtype=torch.int64)


def quantize(
    t: torch.Tensor,
    fmt: object,
    rounding: str | Rounding = "nearest_even",
    *,
    overflow: str | Overflow | None = None,
    subnormals: bool | None = None,
    seed: int | None = None,
    generator: torch.Generator | None = None,
    random_bits: torch.Tensor | None = None,
    n_random_bits: int | None = None,
    estimator: str = "ste",
    grad_fmt: object = None,
    grad_rounding: str | Rounding = "nearest_even",
    grad_overflow: str | Overflow | None = None,
    **kwargs: object,
) -> torch.Tensor:
    """Round every element of ``t`` to ``fmt`` (same semantics and bits as :func:`lowprec.quantize`).

    Parameters
    ----------
    t
        float16, bfloat16, float32 or float64 tensor on CPU or CUDA.
    fmt, rounding, overflow, subnormals
        As :func:`lowprec.quantize`.
    seed, generator, random_bits, n_random_bits
        Stochastic rounding. ``seed`` keys lowprec's counter-based bits (the NumPy API's stream);
        ``random_bits`` gives them explicitly (integer tensor of ``t``'s shape). With neither, a
        63-bit seed is drawn from ``generator`` or the global torch RNG, so results repeat under
        ``torch.manual_seed``.
    estimator
        Gradient of the rounding: ``"ste"`` (identity) or ``"clipped"`` (zero where ``|t|`` is
        above the largest finite value or the result is not finite).
    grad_fmt, grad_rounding, grad_overflow
        Round the incoming gradient to its own format in the backward pass (independent of the
        forward format). Stochastic gradient rounding draws its seed in the forward call.
    **kwargs
        Family options, passed to the NumPy API: ``sat_bits=`` for fixed-point/integer formats,
        ``axis=`` for block formats (see "Fixed-point, integer and block formats" below).

    Notes
    -----
    Fixed-point/integer (``FixedFormat``, ``IntFormat``) and block formats (``"mxfp4"``,
    ``BlockFormat``...) go through the custom op ``torch.ops.lowprec.quantize_ext`` (CPU tensors
    only; a ``RuntimeError`` otherwise). ``rounding``/``overflow`` take the family's names (HLS
    modes for fixed point, where ``overflow=None`` is ``WRAP``). ``estimator="clipped"`` zeroes the
    gradient outside ``[fmt.min, fmt.max]`` (fixed) or where ``|t|`` exceeds its block's
    ``element_max * scale`` (blocks). bfloat16 tensors are widened exactly to float32 for fixed
    point and the result rounded back to bfloat16.

    Returns
    -------
    torch.Tensor
        A new tensor of ``t``'s dtype and device.

    Examples
    --------
    >>> import torch, lowprec.torch
    >>> lowprec.torch.quantize(torch.tensor([0.1, 300.0]), "float8_e4m3fn")
    tensor([  0.1016, 288.0000])
    """
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"t must be a torch.Tensor, not {type(t).__name__}")
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    family, fobj = family_of(fmt)
    if family is not None:
        if subnormals is not None:
            raise ValueError(f"subnormals does not apply to {family} formats")
        return _quantize_family(
            t, family, fobj, rounding, overflow, kwargs, seed, generator, random_bits, n_random_bits,
            estimator, grad_fmt, grad_rounding, grad_overflow,
        )  # fmt: skip
    if kwargs:
        raise TypeError(f"unexpected arguments {sorted(kwargs)} for float format {fmt}")
    f = _resolve_float_format(fmt, subnormals)
    mode = parse_rounding(rounding)
    ovf = resolve_overflow(f, overflow)
    seed_t, n = _random_args(
        t, mode.is_stochastic, mode.name.lower(), seed, generator, random_bits, n_random_bits
    )
    gkey, gmode, govf, gseed = None, 0, 0, None
    if grad_fmt is not None:
        gf = _resolve_float_format(grad_fmt, None)
        gm = parse_rounding(grad_rounding)
        gkey, gmode, govf = format_key(gf), int(gm), int(resolve_overflow(gf, grad_overflow))
        if gm.is_stochastic:
            gseed = _draw_seed(generator, t.device)
    return quantize_op(
        t, format_key(f), int(mode), int(ovf), seed_t, random_bits, n, estimator, gkey, gmode, govf, gseed
    )


def _random_args(t, stochastic, mode_name, seed, generator, random_bits, n_random_bits) -> tuple:
    """``(seed tensor or None, n)`` for a call; checks the stochastic-rounding options."""
    if not stochastic:
        if seed is not None or random_bits is not None or generator is not None:
            raise ValueError(f"seed/generator/random_bits only apply to stochastic rounding, not {mode_name}")
        return None, 0
    n = 32 if n_random_bits is None else int(n_random_bits)
    if not 1 <= n <= 52:
        raise ValueError(f"n_random_bits must be in [1, 52], got {n}")
    if sum(v is not None for v in (seed, random_bits, generator)) > 1:
        raise ValueError("give at most one of seed, generator and random_bits")
    if random_bits is not None:
        if tuple(random_bits.shape) != tuple(t.shape):
            raise ValueError(f"random_bits has shape {tuple(random_bits.shape)}, expected {tuple(t.shape)}")
        if random_bits.dtype.is_floating_point or random_bits.dtype.is_complex:
            raise TypeError(f"random_bits must be integers, got {random_bits.dtype}")
        return None, n
    if seed is not None:
        return _seed_tensor(seed), n
    return _draw_seed(generator, t.device), n


def _grad_args(grad_fmt, grad_rounding, grad_overflow, generator, device) -> tuple:
    if grad_fmt is None:
        return None, 0, 0, None
    gf = _resolve_float_format(grad_fmt, None)
    gm = parse_rounding(grad_rounding)
    gseed = _draw_seed(generator, device) if gm.is_stochastic else None
    return format_key(gf), int(gm), int(resolve_overflow(gf, grad_overflow)), gseed


@torch.compiler.assume_constant_result
def _family_spec(family, f, rounding, overflow, items) -> tuple[str, str, bool]:
    """``(format key, JSON options, stochastic)``: plain Python, a constant for ``torch.compile``."""
    opts, stochastic = options_json(family, f, rounding, overflow, dict(items))
    return family_key(family, f), opts, stochastic


def _quantize_family(t, family, f, rounding, overflow, kwargs, seed, generator, random_bits, n_random_bits,
                     estimator, grad_fmt, grad_rounding, grad_overflow) -> torch.Tensor:  # fmt: skip
    """Fixed-point, integer and block formats through ``lowprec::quantize_ext``."""
    key, opts, stochastic = _family_spec(family, f, rounding, overflow, tuple(sorted(kwargs.items())))
    seed_t, n = _random_args(t, stochastic, str(rounding), seed, generator, random_bits, n_random_bits)
    gkey, gmode, govf, gseed = _grad_args(grad_fmt, grad_rounding, grad_overflow, generator, t.device)
    y, _keep = quantize_ext_op(t, key, opts, seed_t, random_bits, n, estimator, gkey, gmode, govf, gseed)
    return y
