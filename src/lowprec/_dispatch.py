"""Backend choice: which implementation runs a call, and why another is unavailable."""

from __future__ import annotations

import functools

__all__ = ["BACKENDS", "backends", "resolve_backend"]

BACKENDS = ("numba", "cpp", "cuda", "reference")


@functools.cache
def _numba_status() -> tuple[bool, str]:
    try:
        import numba  # noqa: F401
    except Exception as exc:  # pragma: no cover - numba is a hard dependency
        return False, f"numba cannot be imported: {exc}"
    return True, "ok"


def _cpp_status() -> tuple[bool, str]:
    try:
        from . import _cpp
    except Exception as exc:  # pragma: no cover - the module is part of the package
        return False, f"lowprec._cpp cannot be imported: {exc}"
    ok, why = _cpp.available()
    return ok, why or "ok"


def _cuda_status() -> tuple[bool, str]:
    try:
        from . import _cpp
    except Exception as exc:  # pragma: no cover
        return False, f"lowprec._cpp cannot be imported: {exc}"
    return _cpp.cuda_available()


def backends() -> dict[str, tuple[bool, str]]:
    """Every backend with ``(available, reason)``.

    Examples
    --------
    >>> import lowprec
    >>> lowprec.backends()["reference"]
    (True, 'ok')
    """
    return {
        "numba": _numba_status(),
        "cpp": _cpp_status(),
        "cuda": _cuda_status(),
        "reference": (True, "ok"),
    }


def resolve_backend(backend: str) -> str:
    """Map ``"auto"`` to the fastest CPU backend and check an explicit choice is available."""
    if not isinstance(backend, str):
        raise TypeError(f"backend must be a string, not {type(backend).__name__}")
    b = backend.lower()
    if b == "auto":
        return "numba" if _numba_status()[0] else "reference"
    if b not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose 'auto' or one of {', '.join(BACKENDS)}")
    if b == "cuda":
        raise ValueError("the 'cuda' backend runs on CUDA tensors through lowprec.torch, not on NumPy arrays")
    ok, why = backends()[b]
    if not ok:
        raise RuntimeError(f"backend {b!r} is not available: {why}")
    return b
