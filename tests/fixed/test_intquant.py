"""Scale-based integer quantization: round trips and calibration sanity."""

import numpy as np
import pytest

from lowprec.formats._int import IntFormat
from lowprec.intquant import (
    calibrate_minmax,
    calibrate_mse,
    calibrate_percentile,
    dequantize,
    fake_quantize,
    params_from_range,
    quantize,
)


def test_codes_round_trip_exactly():
    fmt = IntFormat(8)
    scale, zp = np.float64(0.05), np.int64(3)
    q = np.arange(fmt.qmin, fmt.qmax + 1)
    assert np.array_equal(quantize(dequantize(q, scale, zp), scale, zp, fmt), q)


@pytest.mark.parametrize(
    "fmt", [IntFormat(8), IntFormat(4), IntFormat(8, signed=False), IntFormat(2)], ids=str
)
@pytest.mark.parametrize("symmetric", [True, False])
def test_minmax_error_bound(fmt, symmetric):
    rng = np.random.default_rng(fmt.bits)
    x = rng.standard_normal(2000) * 3 + (0 if fmt.signed else 5)
    x = np.abs(x) if not fmt.signed else x
    scale, zp = calibrate_minmax(x, fmt, symmetric)
    q = quantize(x, scale, zp, fmt)
    assert q.min() >= fmt.qmin and q.max() <= fmt.qmax
    err = np.abs(dequantize(q, scale, zp) - x)
    assert err.max() <= scale / 2 * (1 + 1e-9)
    if not symmetric:
        assert dequantize(quantize(np.zeros(1), scale, zp, fmt), scale, zp)[0] == 0.0  # zero is exact


def test_per_channel():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((16, 3, 5)) * np.array([0.1, 1.0, 10.0])[None, :, None]
    scale, zp = calibrate_minmax(w, IntFormat(8), symmetric=True, axis=1)
    assert scale.shape == (3,) and zp.shape == (3,) and not zp.any()
    assert np.allclose(scale, np.abs(w).max(axis=(0, 2)) / 127)
    fq = fake_quantize(w, scale, zp, IntFormat(8), axis=1)
    err = np.abs(fq - w).max(axis=(0, 2))
    assert np.all(err <= scale / 2 * (1 + 1e-9))
    s2, z2 = calibrate_minmax(w, IntFormat(8), symmetric=False, axis=-2)
    assert s2.shape == (3,) and z2.dtype == np.int64


def test_percentile_and_mse_clip_outliers():
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.standard_normal(5000), [12.0]])
    fmt = IntFormat(4)
    s_mm, _ = calibrate_minmax(x, fmt)
    s_p, _ = calibrate_percentile(x, fmt, 99.0)
    s_m, z_m = calibrate_mse(x, fmt)
    assert s_p < s_mm / 2 and s_m < s_mm
    mse = lambda s, z: np.mean((fake_quantize(x, s, z, fmt) - x) ** 2)  # noqa: E731
    assert mse(s_m, z_m) <= mse(s_mm, 0) and mse(s_m, z_m) <= mse(*calibrate_minmax(x, fmt))
    s_pa, z_pa = calibrate_percentile(x, fmt, 99.0, symmetric=False)
    assert s_pa > 0 and fmt.qmin <= z_pa <= fmt.qmax
    sm_c, zm_c = calibrate_mse(x.reshape(-1, 1) * [1, 2], fmt, symmetric=False, axis=1, num_candidates=16)
    assert sm_c.shape == (2,) and zm_c.shape == (2,)


def test_rounding_modes_and_edges():
    fmt = IntFormat(8)
    x = np.array([0.5, 1.5, -0.5, -1.5, 2.7])
    assert quantize(x, 1.0, 0, fmt).tolist() == [0, 2, 0, -2, 3]
    assert quantize(x, 1.0, 0, fmt, rounding="nearest_away").tolist() == [1, 2, -1, -2, 3]
    assert quantize(x, 1.0, 0, fmt, rounding="toward_zero").tolist() == [0, 1, 0, -1, 2]
    assert quantize(x, 1.0, 0, fmt, rounding="toward_negative").tolist() == [0, 1, -1, -2, 2]
    assert quantize(np.array([1e9, -np.inf]), 1.0, 0, fmt).tolist() == [127, -128]
    assert quantize(np.array([1e30]), 1.0, 0, IntFormat(64)).tolist() == [
        2**63 - 1 - 1023
    ]  # float64 below 2**63
    scale, zp = params_from_range(0.0, 0.0, fmt)
    assert scale == 1.0 and zp == 0
    with pytest.raises(ValueError):
        quantize(np.array([np.nan]), 1.0, 0, fmt)
    with pytest.raises(ValueError):
        quantize(x, 0.0, 0, fmt)
    with pytest.raises(ValueError):
        quantize(x, 1.0, 0, fmt, rounding="banker")
    with pytest.raises(TypeError):
        quantize(x, 1.0, 0, "int8")
    with pytest.raises(ValueError):
        calibrate_minmax(x, fmt, axis=3)
