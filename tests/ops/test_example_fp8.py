"""The FP8 accumulation example, small: error grows with K without promotion, and promotion fixes it."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def test_fp8_error_trend() -> None:
    path = Path(__file__).parents[2] / "examples" / "gemm_fp8_accumulation.py"
    spec = importlib.util.spec_from_file_location("gemm_fp8_accumulation", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.relative_errors([128, 2048], m=8, n=8)
    plain, promoted = res["h100_fp8"], res["h100_fp8_promote128"]
    assert plain[1] > 2 * plain[0]  # grows with K
    assert promoted[1] < plain[1] / 3  # promotion every 128 removes most of it
    assert plain[1] < 0.05
