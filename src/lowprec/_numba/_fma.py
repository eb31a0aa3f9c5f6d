"""Fused multiply-add for the Numba kernels, as LLVM's ``llvm.fma`` intrinsic."""

from __future__ import annotations

from numba.core import types
from numba.extending import intrinsic

__all__ = ["fma"]


@intrinsic
def fma(typingctx, a, b, c):  # type: ignore[no-untyped-def]
    """IEEE 754 fused multiply-add of three float32 or three float64 values: ``a*b + c`` rounded
    once (the CPU's FMA instruction where it has one, else a correctly rounded libm call)."""
    if not (isinstance(a, types.Float) and a == b == c):
        return None

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.fma(*args)

    return a(a, b, c), codegen
