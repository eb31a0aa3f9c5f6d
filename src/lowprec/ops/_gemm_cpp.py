"""The emulated GEMM on the C++ core (``csrc/include/lowprec/gemm.h``, ``lowprec._C.gemm``).

``matmul(..., backend="cpp")`` routes here. The operands are prepared exactly as for the Numba kernel
(:func:`lowprec.ops._gemm.matmul`: inputs rounded to their formats, ``C0`` to the output format, the
split-K bounds of :func:`~lowprec.ops._gemm.split_bounds`, the permutation of ``reduce_seed``), and the
C++ core computes every output element with the same model, bit for bit (``tests/ops/test_gemm_cpp.py``).
"""

from __future__ import annotations

import numpy as np

from .._api import quantize
from .._cpp import module
from .._params import float_params
from ..rounding import parse_rounding, resolve_overflow
from ._gemm import _fp32_range_shift, _is_float32, split_bounds
from ._profile import GemmProfile

__all__ = ["gemm_args", "matmul_cpp"]

_RNE = 0
_RTZ = 3


def gemm_args(prof: GemmProfile) -> tuple[tuple, tuple, float]:
    """``(formats, ints, hi)`` of ``lowprec._C.gemm`` for a profile (the flattened ``GemmParams``)."""
    _, _, facc, fprom, fpart, fout = prof.formats()
    bmode = int(parse_rounding(prof.block_rounding))
    sh = _fp32_range_shift(facc)
    if bmode not in (_RNE, _RTZ):
        sh = -1
    hi = (2.0 - 2.0**-facc.mbits) * 2.0**127 if sh >= 0 else 0.0
    formats = tuple(float_params(f) for f in (facc, fprom, fpart, fout))
    ints = (
        bmode, int(resolve_overflow(facc, None)), int(resolve_overflow(fprom, None)),
        int(resolve_overflow(fpart, None)), int(parse_rounding(prof.out_rounding)),
        int(resolve_overflow(fout, None)), max(prof.block_size, 1),
        -1 if prof.align_bits is None else prof.align_bits, int(prof.fused), prof.promote_interval or 0,
        int(prof.exact), int(prof.reduce_order == "tree"), int(_is_float32(facc) and bmode in (_RNE, _RTZ)), sh,
    )  # fmt: skip
    return formats, ints, hi


def matmul_cpp(a: object, b: object, profile: GemmProfile | str, *, c: object = None) -> np.ndarray:
    """:func:`lowprec.ops.matmul` on the C++ core (same arguments, same bits)."""
    prof = profile if isinstance(profile, GemmProfile) else GemmProfile.preset(profile)
    fa, fb, _, _, _, fout = prof.formats()
    a_ = np.asarray(a, dtype=np.float64)
    b_ = np.asarray(b, dtype=np.float64)
    if a_.ndim == 0 or b_.ndim == 0 or a_.ndim > 2 or b_.ndim > 2:
        raise ValueError("matmul takes 1-d or 2-d operands")
    va, vb = a_.ndim == 1, b_.ndim == 1
    a2 = a_[None, :] if va else a_
    b2 = b_[:, None] if vb else b_
    if a2.shape[1] != b2.shape[0]:
        raise ValueError(f"shapes {a_.shape} and {b_.shape} do not align")
    m, k = a2.shape
    n = b2.shape[1]
    aq = np.ascontiguousarray(quantize(np.ascontiguousarray(a2), fa), dtype=np.float64)
    bt = np.ascontiguousarray(quantize(np.ascontiguousarray(b2.T), fb), dtype=np.float64)
    if c is None:
        c0 = np.zeros((m, n))
    else:
        c_ = np.asarray(c, dtype=np.float64)
        c0 = np.ascontiguousarray(quantize(np.ascontiguousarray(np.broadcast_to(c_, (m, n))), fout))
    ns = prof.split_k
    bounds = split_bounds(k, ns)
    if prof.reduce_order == "permutation":
        order = np.random.default_rng(prof.reduce_seed).permutation(ns).astype(np.int64)
    else:
        order = np.arange(ns, dtype=np.int64)
    out = np.empty((m, n), dtype=np.float64)
    formats, ints, hi = gemm_args(prof)
    if m and n:
        module().gemm(aq, bt, c0, out, bounds, order, formats, ints, hi)
    if va and vb:
        return out[0, 0]
    if va:
        return out[0]
    if vb:
        return out[:, 0]
    return out
