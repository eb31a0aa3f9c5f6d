"""The ``lowprec::quantize`` custom op: CPU through the NumPy API (zero-copy), CUDA through ``lowprec._C_cuda``.

Formats travel through the op as strings (``torch.compile`` needs hashable constants): a named
format by its name, any other by a key into :data:`_FORMATS`.
"""

from __future__ import annotations

import threading

import ml_dtypes
import numpy as np
import torch

from .._api import quantize as np_quantize
from ..formats._float import FloatFormat
from ..formats._registry import FORMATS
from ..rounding import Overflow, Rounding

__all__ = ["format_key", "lookup_format", "quantize_op"]

_FORMATS: dict[str, FloatFormat] = {}
_LOCK = threading.Lock()
_FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def format_key(fmt: FloatFormat) -> str:
    """A string naming ``fmt`` inside the op (registered on first use)."""
    if fmt.name and FORMATS.get(fmt.name) == fmt:
        return fmt.name
    key = f"lowprec-fmt:{fmt.short}:{hash(fmt) & 0xFFFFFFFF:x}"
    with _LOCK:
        _FORMATS.setdefault(key, fmt)
    return key


def lookup_format(key: str) -> FloatFormat:
    """The format of a :func:`format_key` string."""
    f = _FORMATS.get(key)
    return f if f is not None else FORMATS[key]


def _as_numpy(t: torch.Tensor) -> np.ndarray:
    """A NumPy view of a contiguous CPU tensor (bfloat16 through int16 and ml_dtypes)."""
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    return t.numpy()


def _empty_like_cpu(t: torch.Tensor) -> torch.Tensor:
    """An uninitialised CPU tensor like ``t`` whose memory NumPy allocates: NumPy asks the kernel for
    huge pages on large arrays, which makes the first write about 2x faster than into fresh
    torch-allocated memory (page faults), measured on a 16 M float32 cast."""
    if t.dtype == torch.bfloat16:
        return torch.from_numpy(np.empty(tuple(t.shape), np.int16)).view(torch.bfloat16)
    return torch.from_numpy(np.empty(tuple(t.shape), dtype=torch.empty((), dtype=t.dtype).numpy().dtype))


def _seed_int(seed: torch.Tensor | None) -> int | None:
    return None if seed is None else int(seed.item()) & ((1 << 64) - 1)


def _quantize_cpu(
    x: torch.Tensor, f: FloatFormat, mode: int, ovf: int, seed: int | None, rbits: torch.Tensor | None, n: int
) -> torch.Tensor:
    xc = x.detach().contiguous()
    out = _empty_like_cpu(xc)
    kw: dict = {}
    if Rounding(mode).is_stochastic:
        kw["n_random_bits"] = n
        if rbits is not None:
            kw["random_bits"] = rbits.detach().to("cpu", torch.int64).contiguous().numpy()
        else:
            kw["seed"] = seed
    np_quantize(_as_numpy(xc), f, Rounding(mode), overflow=Overflow(ovf), out=_as_numpy(out), **kw)
    return out


def _quantize_cuda(
    x: torch.Tensor, f: FloatFormat, mode: int, ovf: int, seed: int | None, rbits: torch.Tensor | None, n: int
) -> torch.Tensor:
    try:
        from .. import _cpp
    except ImportError as exc:  # pragma: no cover - depends on the build
        raise RuntimeError(f"lowprec.torch on CUDA needs lowprec._cpp: {exc}") from exc
    ok, why = _cpp.cuda_available()
    if not ok:
        raise RuntimeError(f"lowprec.torch cannot round CUDA tensors: {why}")
    from .._params import float_params

    work = x.detach().contiguous()
    if work.dtype in (torch.float16, torch.bfloat16):
        work = work.float()  # exact; the result is cast back as the NumPy API does
    out = torch.empty_like(work)
    rb_ptr, rb_bytes = 0, 0
    if Rounding(mode).is_stochastic and rbits is not None:
        rb = rbits.detach().to(x.device, torch.int64).contiguous()
        rb_ptr, rb_bytes = rb.data_ptr(), 8
    stream = torch.cuda.current_stream(x.device).cuda_stream
    with torch.cuda.device(x.device):
        if work.numel():
            _cpp.cuda_module().quantize(
                work.data_ptr(), out.data_ptr(), work.element_size(), work.numel(), tuple(float_params(f)),
                int(mode), int(ovf), seed or 0, 0, n, stream, rb_ptr, rb_bytes,
            )  # fmt: skip
    return out.to(x.dtype)


@torch.library.custom_op("lowprec::quantize", mutates_args=())
def quantize_op(
    x: torch.Tensor,
    fmt: str,
    mode: int,
    overflow: int,
    seed: torch.Tensor | None,
    random_bits: torch.Tensor | None,
    n: int,
    estimator: str,
    grad_fmt: str | None,
    grad_mode: int,
    grad_overflow: int,
    grad_seed: torch.Tensor | None,
) -> torch.Tensor:
    """Round ``x`` to the format named ``fmt`` (see :func:`lowprec.torch.quantize` for the options)."""
    if x.dtype not in _FLOAT_DTYPES:
        raise TypeError(f"lowprec rounds float16, bfloat16, float32 and float64 tensors, not {x.dtype}")
    f = lookup_format(fmt)
    s = _seed_int(seed)
    if x.device.type == "cpu":
        return _quantize_cpu(x, f, mode, overflow, s, random_bits, n)
    if x.device.type == "cuda":
        return _quantize_cuda(x, f, mode, overflow, s, random_bits, n)
    raise RuntimeError(f"lowprec.torch supports CPU and CUDA tensors, not {x.device.type}")


@quantize_op.register_fake
def _(x, fmt, mode, overflow, seed, random_bits, n, estimator, grad_fmt, grad_mode, grad_overflow, grad_seed):
    return torch.empty_like(x)
