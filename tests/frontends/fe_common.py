"""Shared sweeps and NumPy-API references for the frontend tests (computed once per session)."""

from __future__ import annotations

import functools
import os

import numpy as np

import lowprec
from lowprec.testing import sweep_values

MODES = [m.name.lower() for m in lowprec.Rounding]
SMALL = sorted(n for n, f in lowprec.FORMATS.items() if f.nbits <= 8)
#: 16-bit formats swept by default; LOWPREC_FULL_SWEEP=1 sweeps every format of <= 16 bits.
WIDE_DEFAULT = ["bfloat16", "p3109_k16p9uf"]
WIDE = (
    sorted(n for n, f in lowprec.FORMATS.items() if 8 < f.nbits <= 16)
    if os.environ.get("LOWPREC_FULL_SWEEP")
    else WIDE_DEFAULT
)
SWEEP_FORMATS = SMALL + WIDE


@functools.cache
def sweep(fmt: str) -> np.ndarray:
    """The float32 sweep of a format."""
    with np.errstate(over="ignore"):
        return sweep_values(fmt, np.float32)


@functools.cache
def bits_for(fmt: str) -> np.ndarray:
    """Explicit random bits (32 of them) for the sweep of ``fmt``."""
    return lowprec.random_bits(12345, sweep(fmt).shape)


def reference(fmt: str, mode: str) -> np.ndarray:
    """The NumPy API's result on the sweep."""
    kw = {"random_bits": bits_for(fmt)} if "stochastic" in mode else {}
    return lowprec.quantize(sweep(fmt), fmt, mode, **kw)


def assert_same_bits(actual: np.ndarray, expected: np.ndarray, inputs: np.ndarray) -> None:
    """Bit equality of float arrays, NaN compared by class."""
    a, e = np.asarray(actual), np.asarray(expected)
    assert a.dtype == e.dtype and a.shape == e.shape
    ib = {2: np.uint16, 4: np.uint32, 8: np.uint64}[a.dtype.itemsize]
    ok = (a.view(ib) == e.view(ib)) | (np.isnan(a.astype(np.float64)) & np.isnan(e.astype(np.float64)))
    if not ok.all():
        i = np.nonzero(~ok)[0][:5]
        raise AssertionError(f"{(~ok).sum()} differ; inputs {inputs[i]} actual {a[i]} expected {e[i]}")
