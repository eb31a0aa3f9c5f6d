"""quantize_dask: lazy, and the same bits as the NumPy API on the whole array, for any chunking."""

from __future__ import annotations

import numpy as np
import pytest

import lowprec
from lowprec._dask import quantize_dask, random_bits_at

da = pytest.importorskip("dask.array")


def test_random_bits_at_matches_stream() -> None:
    idx = np.arange(1000)
    assert np.array_equal(random_bits_at(2**64 - 3, idx, 20), lowprec.random_bits(2**64 - 3, 1000, 20))


@pytest.mark.parametrize("mode", ["nearest_even", "stochastic", "stochastic_equal"])
def test_same_bits_as_numpy(mode: str) -> None:
    x = np.random.default_rng(0).standard_normal((37, 23)).astype(np.float32) * 100
    kw = {"seed": 11, "n_random_bits": 13} if "stochastic" in mode else {}
    expect = lowprec.quantize(x, "float8_e4m3fn", mode, **kw)
    for chunks in ((5, 7), (37, 1), (10, 23)):
        lazy = quantize_dask(da.from_array(x, chunks=chunks), "float8_e4m3fn", mode, **kw)
        assert isinstance(lazy, da.Array)
        assert np.array_equal(lazy.compute().view(np.uint32), expect.view(np.uint32))


def test_explicit_random_bits() -> None:
    x = np.linspace(-3, 3, 500, dtype=np.float64).reshape(20, 25)
    rb = np.random.default_rng(3).integers(0, 2**32, x.shape, dtype=np.uint64)
    expect = lowprec.quantize(x, "float8_e5m2", "stochastic", random_bits=rb)
    got = quantize_dask(
        da.from_array(x, chunks=(6, 9)), "float8_e5m2", "stochastic", random_bits=rb
    ).compute()
    assert np.array_equal(got, expect)
