"""Properties: error bounds, Hadamard orthonormality and inverse, the MXFP4 MSE table."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from blockdata import block_inputs

from lowprec import blocks
from lowprec.formats._block import BLOCK_FORMATS


@pytest.mark.parametrize(
    "name", ["mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e3m2", "mxfp6_e2m3", "mxfp4", "mxint8", "bfp4"]
)
@pytest.mark.parametrize("rule", ["floor", "ceil", "even", "rceil"])
def test_error_within_half_quantum_unless_clipped(name: str, rule: str) -> None:
    f = BLOCK_FORMATS[name].replace(scale_rule=rule)
    ef = f.element_format
    x = block_inputs((8, 64), seed=11).astype(np.float64)
    q = blocks.quantize(x, f)
    _, s = blocks.encode(x, f)
    scale = np.exp2(np.repeat(s.astype(np.float64) - 127, f.block, axis=-1))
    v = np.abs(x) / scale
    ex = np.floor(np.log2(np.where(v > 0, v, 1.0)))
    quantum = np.exp2(np.maximum(ex, ef.emin_) - ef.mbits)
    clipped = v > float(ef.max_finite)
    err = np.abs(q - x) / scale
    assert np.all(err[~clipped] <= quantum[~clipped] / 2 * (1 + 1e-12))
    if rule in ("rceil", "ceil"):
        assert not clipped.any()  # these scales never clip


def test_hadamard_orthonormal_and_inverse() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 64, 5))
    for signs in (None, 42, np.where(rng.random(16) < 0.5, -1.0, 1.0)):
        y = blocks.hadamard(x, 16, axis=1, signs=signs)
        np.testing.assert_allclose(np.sum(y**2), np.sum(x**2), rtol=1e-12)
        np.testing.assert_allclose(blocks.hadamard(y, 16, axis=1, signs=signs, inverse=True), x, atol=1e-12)
    e = np.eye(8)
    h = blocks.hadamard(e, 8)
    np.testing.assert_allclose(h @ h.T, np.eye(8), atol=1e-15)
    assert np.all(np.abs(h) == pytest.approx(8**-0.5))
    with pytest.raises(ValueError):
        blocks.hadamard(x, 12, axis=1)
    assert blocks.hadamard(x.astype(np.float32), 32, axis=1, signs=1).dtype == np.float32


def test_mse_table_reproduces_quartet() -> None:
    path = Path(__file__).resolve().parents[2] / "examples" / "mx_mse_table.py"
    spec = importlib.util.spec_from_file_location("mx_mse_table", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    t = mod.mse_table(groups=20_000)
    want = {"SR-absmax": 0.0282, "RTN-absmax": 0.0139, "RTN, OCP floor": 0.0132, "RTN, RCEIL": 0.0133}
    for k, v in want.items():
        assert t[k] == pytest.approx(v, rel=0.15), k
    assert t["SR-absmax"] > 1.7 * t["RTN-absmax"]
