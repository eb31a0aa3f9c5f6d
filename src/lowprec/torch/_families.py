"""``lowprec::quantize_ext``: fixed-point / integer and block-scaled formats in the torch frontend.

A second custom op (the float op ``lowprec::quantize`` is unchanged). Formats travel as strings:
``"<family>:<repr of the dataclass>"`` (deterministic; registered on first use), the per-family
options (rounding, overflow, ``sat_bits``, ``axis``) as a JSON string, so ``torch.compile``
sees only constants. CPU tensors go through the NumPy API on zero-copy views; CUDA tensors through
the kernels of ``lowprec._C_cuda`` (``_families_cuda``).

The op returns ``(values, keep)``: ``keep`` is the mask of the ``"clipped"`` estimator (an empty
tensor for ``"ste"``), computed in the forward pass:

- fixed point / integers: ``min <= x <= max`` of the format (so wrapped or saturated elements get
  no gradient, and neither do NaN/Inf);
- block formats: ``|x| <= element_max * block_scale (* tensor_scale)``, the largest magnitude the
  element's block can hold (elements that saturated get no gradient, nor do NaN/Inf blocks).
"""

from __future__ import annotations

import json
import threading

import ml_dtypes
import numpy as np
import torch

from .._api import quantize as np_quantize
from ..formats._registry import get_format

__all__ = ["FAMILIES", "block_cap", "family_key", "family_of", "lookup_family_format", "quantize_ext_op"]

FAMILIES = ("fixed", "int", "block")
_FORMATS: dict[str, object] = {}
_LOCK = threading.Lock()
_FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def family_of(fmt: object) -> tuple[str | None, object]:
    """``(family, format object)``; family ``None`` for float formats."""
    try:
        f = get_format(fmt)
    except (KeyError, ValueError, TypeError):
        if isinstance(fmt, str):
            from ..formats._block import get_block_format

            try:
                f = get_block_format(fmt)
            except (KeyError, ValueError):
                raise ValueError(f"unknown format {fmt!r}") from None
        else:
            raise
    fam = getattr(f, "__lowprec_format__", None)
    return (fam if fam in FAMILIES else None), f


def family_key(family: str, fmt: object) -> str:
    """The string naming ``fmt`` inside the op."""
    key = f"{family}:{fmt!r}"
    with _LOCK:
        _FORMATS.setdefault(key, fmt)
    return key


def lookup_family_format(key: str) -> object:
    """The format object of a :func:`family_key` string."""
    return _FORMATS[key]


def _np_in(t: torch.Tensor, fixed: bool) -> np.ndarray:
    """A NumPy array of a contiguous CPU tensor (bfloat16: a view, or float32 for fixed point)."""
    if t.dtype == torch.bfloat16:
        if fixed:  # the fixed-point NumPy API takes float16/32/64 only: widen exactly
            return t.float().numpy()
        return t.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    return t.numpy()


def block_cap(scales: torch.Tensor, f: object, shape: tuple, axis: object, g: float) -> torch.Tensor:
    """``element_max * block_scale * tensor_scale`` per element (float64, on ``scales``' device),
    NaN for NaN/Inf blocks, from the block scale codes of an array of ``shape`` (CPU and CUDA)."""
    from .._api import _lut
    from ..formats._block import block_geometry

    dims, (b1, b2), _ = block_geometry(tuple(shape), f, axis)  # type: ignore[arg-type]
    lut = torch.from_numpy(_lut(f.scale, np.dtype(np.float64))).to(scales.device)  # type: ignore[attr-defined]
    sv = lut[scales.long()].reshape(dims[0], -(-dims[1] // b1), dims[2], -(-dims[3] // b2), dims[4])
    sv = sv.repeat_interleave(b1, dim=1)[:, : dims[1]].repeat_interleave(b2, dim=3)[:, :, :, : dims[3]]
    return (sv * (float(f.element_max) * g)).reshape(tuple(shape))  # type: ignore[attr-defined]


def _run_cpu(x: torch.Tensor, family: str, f: object, opts: dict, seed: torch.Tensor | None,
             rbits: torch.Tensor | None, n: int, clipped: bool) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    xc = x.detach().contiguous()
    fixed = family != "block"
    xn = _np_in(xc, fixed)
    kw: dict = {"overflow": opts.get("overflow")}
    if fixed:
        kw["sat_bits"] = int(opts.get("sat_bits", 0))
    else:
        kw["axis"] = opts.get("axis")
        if isinstance(kw["axis"], list):
            kw["axis"] = tuple(kw["axis"])
    if opts["stochastic"]:
        kw["n_random_bits"] = n
        if rbits is not None:
            kw["random_bits"] = rbits.detach().to("cpu", torch.int64).contiguous().numpy()
        else:
            kw["seed"] = int(seed.item()) & ((1 << 64) - 1)  # type: ignore[union-attr]
    y = np.asarray(np_quantize(xn, f, opts["rounding"], **kw))
    if xc.dtype == torch.bfloat16:
        out = torch.from_numpy(y.astype(np.float32) if y.dtype == np.float32 else y.view(np.int16))
        out = out.to(torch.bfloat16) if y.dtype == np.float32 else out.view(torch.bfloat16)
    else:
        out = torch.from_numpy(np.ascontiguousarray(y))
    if not clipped:
        return out, torch.empty(0, dtype=torch.bool)
    xw = xn.astype(np.float64)
    if fixed:
        ff = f.as_fixed() if family == "int" else f  # type: ignore[attr-defined]
        keep = (xw >= float(ff.min)) & (xw <= float(ff.max))
    else:
        from .. import blocks

        res = blocks.encode(xn, f, kw["axis"])
        cap = block_cap(
            torch.from_numpy(res[1]), f, xn.shape, kw["axis"], float(res[2]) if len(res) > 2 else 1.0
        )
        return out, torch.from_numpy(np.abs(xw)) <= cap
    return out, torch.from_numpy(np.ascontiguousarray(keep))


def check_device(x: torch.Tensor) -> None:
    """A clear error for tensors on devices other than the CPU and CUDA."""
    if x.device.type not in ("cpu", "cuda"):
        raise RuntimeError(
            f"lowprec.torch rounds fixed-point, integer and block formats on CPU and CUDA tensors, "
            f"not on {x.device.type} tensors"
        )


@torch.library.custom_op("lowprec::quantize_ext", mutates_args=())
def quantize_ext_op(
    x: torch.Tensor,
    fmt: str,
    options: str,
    seed: torch.Tensor | None,
    random_bits: torch.Tensor | None,
    n: int,
    estimator: str,
    grad_fmt: str | None,
    grad_mode: int,
    grad_overflow: int,
    grad_seed: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Round ``x`` to a fixed-point/integer/block format; returns ``(values, clipped-estimator mask)``."""
    if x.dtype not in _FLOAT_DTYPES:
        raise TypeError(f"lowprec rounds float16, bfloat16, float32 and float64 tensors, not {x.dtype}")
    check_device(x)
    family, _ = fmt.split(":", 1)
    args = (
        x,
        family,
        lookup_family_format(fmt),
        json.loads(options),
        seed,
        random_bits,
        n,
        estimator == "clipped",
    )
    if x.device.type == "cuda":
        from ._families_cuda import run_cuda

        return run_cuda(*args)
    return _run_cpu(*args)


@quantize_ext_op.register_fake
def _(x, fmt, options, seed, random_bits, n, estimator, grad_fmt, grad_mode, grad_overflow, grad_seed):
    keep = (
        torch.empty_like(x, dtype=torch.bool) if estimator == "clipped" else x.new_empty(0, dtype=torch.bool)
    )
    return torch.empty_like(x), keep


def _setup_context(ctx, inputs, output) -> None:
    estimator, grad_fmt, grad_mode, grad_overflow, grad_seed = inputs[6:]
    ctx.grad = (grad_fmt, grad_mode, grad_overflow)
    ctx.save_for_backward(output[1] if estimator == "clipped" else None, grad_seed)


def _backward(ctx, grad: torch.Tensor, _grad_keep: torch.Tensor | None) -> tuple:
    from ._ops import quantize_op

    keep, grad_seed = ctx.saved_tensors
    if keep is not None:
        grad = torch.where(keep, grad, torch.zeros_like(grad))
    grad_fmt, grad_mode, grad_overflow = ctx.grad
    if grad_fmt is not None:
        grad = quantize_op(
            grad, grad_fmt, grad_mode, grad_overflow, grad_seed, None, 32, "ste", None, 0, 0, None
        )
    return (grad,) + (None,) * 10


quantize_ext_op.register_autograd(_backward, setup_context=_setup_context)


def options_json(
    family: str, f: object, rounding: object, overflow: object, kwargs: dict
) -> tuple[str, bool]:
    """Validate the family options; returns ``(JSON options, stochastic)``."""
    if family == "block":
        from ..blocks import _check_overflow
        from ..rounding import parse_rounding

        unknown = set(kwargs) - {"axis"}
        if unknown:
            raise TypeError(f"unexpected arguments {sorted(unknown)} for block format {f}")
        _check_overflow(overflow)
        mode = parse_rounding(rounding)  # type: ignore[arg-type]
        axis = kwargs.get("axis")
        if axis is not None:
            axis = list(axis) if isinstance(axis, (tuple, list)) else int(axis)
        opts = {
            "rounding": mode.name.lower(),
            "overflow": None,
            "axis": axis,
            "stochastic": mode.is_stochastic,
        }
    else:
        from .._fixed_modes import parse_fixed_overflow, parse_fixed_rounding
        from ..formats._fixed import _check_overflow

        unknown = set(kwargs) - {"sat_bits"}
        if unknown:
            raise TypeError(f"unexpected arguments {sorted(unknown)} for fixed-point format {f}")
        q = parse_fixed_rounding(rounding)  # type: ignore[arg-type]
        o = parse_fixed_overflow(overflow)  # type: ignore[arg-type]
        sat_bits = int(kwargs.get("sat_bits", 0))
        ff = f.as_fixed() if family == "int" else f  # type: ignore[attr-defined]
        _check_overflow(ff, o, sat_bits)
        opts = {"rounding": q.name, "overflow": o.name, "sat_bits": sat_bits, "stochastic": q.is_stochastic}
    return json.dumps(opts, sort_keys=True), bool(opts["stochastic"])
