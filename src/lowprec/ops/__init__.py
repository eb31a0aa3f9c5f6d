"""Emulated arithmetic: correctly rounded elementwise operations, reductions and GEMM models.

Every operation here computes the exact result of its inputs (taken as float64 values) and rounds it
once to the target format; reductions and :func:`matmul` chain such roundings in a stated order.
See ``docs/gemm.md``.
"""

from ._elementwise import add, div, fma, mul, sqrt, sub
from ._gemm import matmul
from ._profile import GemmProfile
from ._reduce import dot, sum

__all__ = ["GemmProfile", "add", "div", "dot", "fma", "matmul", "mul", "sqrt", "sub", "sum"]
