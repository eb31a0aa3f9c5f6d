"""CUDA tensors in ``lowprec::quantize_ext``: the fixed-point and block kernels of ``lowprec._C_cuda``.

The kernels are the header-only rules the host build (``lowprec._C``) runs and the tests prove bit
for bit against the reference; here they run on device pointers, on the current stream.
:func:`launch` holds everything between the tensors and the kernel module, so that the tests can
run it on CPU tensors with a stand-in module that forwards to the host build.

Results match the CPU path of the op: float32 and float64 tensors are rounded at their width;
float16 and bfloat16 ones are widened to float32 (exactly) and their float64 values rounded once
to the dtype (:func:`narrow`; torch's own cast goes through float32, rounding twice).
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["cuda_module", "launch", "narrow", "run_cuda"]


def cuda_module() -> object:
    """``lowprec._C_cuda`` when it is built and sees a device, else a ``RuntimeError`` saying why."""
    from .. import _cpp

    ok, why = _cpp.cuda_available()
    if not ok:
        raise RuntimeError(f"lowprec.torch cannot round CUDA tensors: {why}")
    return _cpp.cuda_module()


def narrow(v: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """float64 ``v`` rounded once (nearest, ties to even) to ``dtype`` (``lowprec._narrow.narrow``:
    float32 with round-to-odd first for the 16-bit dtypes)."""
    if dtype in (torch.float32, torch.float64) or v.dtype != torch.float64:
        return v.to(dtype)
    y = v.float()
    y64 = y.double()
    inexact = (y64 != v) & ~torch.isnan(v)
    bits = y.view(torch.int32) - (inexact & (y64.abs() > v.abs())).to(torch.int32)
    bits = bits | inexact.to(torch.int32)
    return bits.view(torch.float32).to(dtype)


def _tensor_scale(xw: torch.Tensor, f: object) -> float:
    """The block format's tensor scale (``lowprec.blocks._tensor_scale``) from a device amax."""
    from ..blocks import _tensor_scale as np_tensor_scale

    if not getattr(f, "tensor_scale", False) or xw.numel() == 0:
        return 1.0
    a = xw.abs()
    amax = float(torch.where(torch.isfinite(a), a, torch.zeros_like(a)).max().item())
    return np_tensor_scale(np.array([amax], np.float64), f)  # type: ignore[arg-type]


def _rbits(rbits: torch.Tensor | None, x: torch.Tensor) -> tuple[torch.Tensor | None, int, int]:
    if rbits is None:
        return None, 0, 0
    rb = rbits.detach().to(x.device, torch.int64).contiguous()
    return rb, rb.data_ptr(), 8


def _block_scales(x: torch.Tensor, mod: object, f: object, axis: object, args: tuple,
                  launch_kw: dict) -> torch.Tensor:  # fmt: skip
    """The block scale codes of ``x`` (uint8, ``block_geometry``'s scale shape) from an encode pass of
    ``mod`` with the arguments of the values pass (the scales do not depend on the element rounding)."""
    from ..formats._block import block_geometry

    sshape = block_geometry(tuple(x.shape), f, axis)[2]  # type: ignore[arg-type]
    codes = torch.empty(x.shape, dtype=torch.uint8 if f.element_format.nbits <= 8 else torch.int16,  # type: ignore[attr-defined]
                        device=x.device)  # fmt: skip
    scales = torch.empty(sshape, dtype=torch.uint8, device=x.device)
    if x.numel():
        mod.block_run(x.data_ptr(), x.element_size(), *args, codes=codes.data_ptr(),  # type: ignore[attr-defined]
                      code_bytes=codes.element_size(), scales=scales.data_ptr(), **launch_kw)  # fmt: skip
    return scales


def launch(mod: object, x: torch.Tensor, family: str, f: object, opts: dict, seed: int | None,
           rbits: torch.Tensor | None, n: int, clipped: bool, stream: int) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """Round ``x`` (any device the pointers of ``mod`` address) with ``mod``'s kernels.

    Parameters
    ----------
    mod
        ``lowprec._C_cuda`` (or a module with its signatures).
    x, family, f, opts, rbits, n, clipped
        As the op's CPU path (``_families._run_cpu``); ``seed`` is the stream's integer seed.
    stream
        The ``cudaStream_t`` to launch on, as an integer.

    Returns
    -------
    (values of ``x``'s dtype, keep mask of the clipped estimator or an empty tensor)
    """
    xc = x.detach().contiguous()
    work = xc if xc.dtype in (torch.float32, torch.float64) else xc.float()
    vdtype = xc.dtype if xc.dtype in (torch.float32, torch.float64) else torch.float64
    vals = torch.empty(xc.shape, dtype=vdtype, device=xc.device)
    rb, rb_ptr, rb_bytes = _rbits(rbits if opts["stochastic"] else None, xc)
    if rb is not None and rb.numel() and bool(((rb < 0) | (rb >= (1 << n))).any()):
        raise ValueError(f"random_bits must lie in [0, 2**{n})")
    rnd = {"seed": (seed or 0) if rb is None else 0, "n": n if opts["stochastic"] else 0, "stream": stream,
           "random_bits": rb_ptr, "random_bits_bytes": rb_bytes}  # fmt: skip
    keep = torch.empty(0, dtype=torch.bool, device=xc.device)
    if family != "block":
        from .._cpp import fixed_params
        from .._fixed_modes import FixedOverflow, FixedRounding

        ff = f.as_fixed() if family == "int" else f  # type: ignore[attr-defined]
        if work.numel():
            mod.fixed_quantize(work.data_ptr(), work.element_size(), vals.data_ptr(), vals.element_size(),  # type: ignore[attr-defined]
                               work.numel(), fixed_params(ff, int(opts.get("sat_bits", 0))),
                               int(FixedRounding[opts["rounding"]]), int(FixedOverflow[opts["overflow"]]),
                               start=0, **rnd)  # fmt: skip
        if clipped:
            xw = work.double()
            keep = (xw >= float(ff.min)) & (xw <= float(ff.max))
        return narrow(vals, xc.dtype), keep
    from .._cpp import _block_args
    from ..blocks import _check_sr_bits
    from ..rounding import parse_rounding

    mode = parse_rounding(opts["rounding"])
    _check_sr_bits(f, mode, n)  # type: ignore[arg-type]
    axis = opts.get("axis")
    axis = tuple(axis) if isinstance(axis, list) else axis
    g = _tensor_scale(work, f)
    args, _, _ = _block_args(tuple(work.shape), np.empty(0, np.float32), f, axis, mode, g)  # type: ignore[arg-type]
    if work.numel():
        mod.block_run(work.data_ptr(), work.element_size(), *args, vals=vals.data_ptr(),  # type: ignore[attr-defined]
                      vals_bytes=vals.element_size(), **rnd)  # fmt: skip
    if clipped:
        from ._families import block_cap

        keep = work.double().abs() <= block_cap(
            _block_scales(work, mod, f, axis, args, rnd), f, work.shape, axis, g
        )
    return narrow(vals, xc.dtype), keep


def run_cuda(x: torch.Tensor, family: str, f: object, opts: dict, seed: torch.Tensor | None,
             rbits: torch.Tensor | None, n: int, clipped: bool) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """The op on a CUDA tensor: :func:`launch` with ``lowprec._C_cuda`` on the current stream."""
    mod = cuda_module()
    s = None if seed is None else int(seed.item()) & ((1 << 64) - 1)
    with torch.cuda.device(x.device):
        stream = torch.cuda.current_stream(x.device).cuda_stream
        return launch(mod, x, family, f, opts, s, rbits, n, clipped, stream)
