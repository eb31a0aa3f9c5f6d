"""Helpers of the C++ backend tests: run a call under each instruction set of the vectorised loops."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from lowprec._cpp import fast_isa, fast_isas

T = TypeVar("T")


def per_isa(call: Callable[[], T]) -> list[tuple[str, T]]:
    """``call()`` under every instruction set of the vectorised loops this CPU runs (the AVX-512,
    AVX2 and baseline copies on x86-64), so that each copy is checked against the reference."""
    out = []
    for isa in fast_isas():
        with fast_isa(isa):
            out.append((isa, call()))
    return out
