"""Emulated arithmetic: correctly rounded elementwise operations, reductions and GEMM models.

Every operation here computes the exact result of its inputs (taken as float64 values) and rounds it
once to the target format; reductions and :func:`matmul` chain such roundings in a stated order.
"""

from ._elementwise import add, div, fma, mul, sqrt, sub

__all__ = ["add", "div", "fma", "mul", "sqrt", "sub"]
