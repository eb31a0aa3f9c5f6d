"""The FP8 accumulation example, small: error grows with K without promotion, and promotion fixes it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest


def _example():
    path = Path(__file__).parents[2] / "examples" / "gemm_fp8_accumulation.py"
    spec = importlib.util.spec_from_file_location("gemm_fp8_accumulation", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_fp8_error_trend_normal() -> None:
    res = _example().relative_errors([128, 2048], m=8, n=8, dist="normal")
    plain, promoted = res["h100_fp8"], res["h100_fp8_promote128"]
    assert plain[1] > 2 * plain[0]  # grows with K
    assert promoted[1] < plain[1] / 3  # promotion every 128 removes most of it
    assert plain[1] < 0.01  # zero-mean inputs: truncation errors partly cancel (well below 1 %)


def test_fp8_error_trend_uniform() -> None:
    """Non-negative inputs: every truncation lowers the sum, the error grows about linearly in K."""
    res = _example().relative_errors([128, 2048], m=8, n=8, dist="uniform")
    plain, promoted = res["h100_fp8"], res["h100_fp8_promote128"]
    assert plain[1] > 10 * plain[0]
    assert 0.01 < plain[1] < 0.1  # a few per cent at K = 2048
    assert promoted[1] < 2 * promoted[0]  # promotion: no growth with K
    assert promoted[1] < plain[1] / 20


def test_fp8_example_rejects_unknown_distribution() -> None:
    with pytest.raises(ValueError, match="dist"):
        _example().relative_errors([128], m=2, n=2, dist="cauchy")
