"""The emulated GEMM on the C++ core (``csrc/include/lowprec/gemm.h``, ``lowprec._C.gemm``).

``matmul(..., backend="cpp")`` routes here. The operands are prepared exactly as for the Numba kernel
(:func:`lowprec.ops._gemm.matmul`: inputs rounded to their formats, ``C0`` to the output format, the
split-K bounds of :func:`~lowprec.ops._gemm.split_bounds`, the permutation of ``reduce_seed``), and the
C++ core computes every output element with the same model, bit for bit (``tests/ops/test_gemm_cpp.py``).
"""

from __future__ import annotations

import numpy as np

from .._cpp import module
from .._params import float_params
from ..rounding import parse_rounding, resolve_overflow
from ._gemm import _fp32_range_shift, _is_float32, gemm_operands
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
    aq, bt, c0, out, bounds, order, shape = gemm_operands(a, b, c, prof)
    formats, ints, hi = gemm_args(prof)
    if out.size:
        module().gemm(aq, bt, c0, out, bounds, order, formats, ints, hi)
    return out.reshape(shape)[()]  # [()]: a numpy scalar for two 1-d operands
