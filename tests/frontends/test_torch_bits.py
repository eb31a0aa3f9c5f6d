"""lowprec.torch on CPU gives the NumPy API's bits for every mode, format and input dtype."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

import lowprec

torch = pytest.importorskip("torch")
from fe_common import MODES, SWEEP_FORMATS, assert_same_bits, bits_for, reference, sweep  # noqa: E402

import lowprec.torch as lt  # noqa: E402


@pytest.mark.parametrize("fmt", SWEEP_FORMATS)
def test_sweep_all_modes(fmt: str) -> None:
    x = sweep(fmt)
    t = torch.from_numpy(x)
    rb = torch.from_numpy(bits_for(fmt).astype(np.int64))
    for mode in MODES:
        kw = {"random_bits": rb} if "stochastic" in mode else {}
        assert_same_bits(lt.quantize(t, fmt, mode, **kw).numpy(), reference(fmt, mode), x)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
@pytest.mark.parametrize("mode", ["nearest_even", "toward_zero", "stochastic"])
def test_input_dtypes(dtype: str, mode: str) -> None:
    rng = np.random.default_rng(1)
    x64 = np.concatenate(
        [rng.standard_normal(3000) * 10.0 ** rng.integers(-8, 6, 3000), [np.inf, -0.0, np.nan]]
    )
    npdt = ml_dtypes.bfloat16 if dtype == "bfloat16" else np.dtype(dtype)
    with np.errstate(over="ignore"):
        xn = x64.astype(npdt)
    t = torch.from_numpy(x64).to(getattr(torch, dtype))
    kw = {"seed": 99} if mode == "stochastic" else {}
    for fmt in ("float8_e4m3fn", "float8_e5m2", "p3109_k8p4se"):
        expect = lowprec.quantize(xn, fmt, mode, **kw)
        got = lt.quantize(t, fmt, mode, **kw)
        assert got.dtype == t.dtype
        g = got.view(torch.int16).numpy().view(ml_dtypes.bfloat16) if dtype == "bfloat16" else got.numpy()
        assert_same_bits(g.astype(np.float64) if dtype == "bfloat16" else g,
                         expect.astype(np.float64) if dtype == "bfloat16" else expect, xn)  # fmt: skip


def test_noncontiguous_and_seed_matches_numpy() -> None:
    x = torch.linspace(-3, 3, 600, dtype=torch.float32).reshape(20, 30).t()
    got = lt.quantize(x, "float8_e4m3fn", "stochastic", seed=2**64 - 5, n_random_bits=12)
    expect = lowprec.quantize(x.numpy(), "float8_e4m3fn", "stochastic", seed=2**64 - 5, n_random_bits=12)
    assert_same_bits(got.numpy(), expect, x.numpy())


def test_sr_reproducible_under_manual_seed() -> None:
    x = torch.full((257,), 0.3)
    torch.manual_seed(3)
    a = lt.quantize(x, "float8_e4m3fn", "stochastic")
    torch.manual_seed(3)
    b = lt.quantize(x, "float8_e4m3fn", "stochastic")
    c = lt.quantize(x, "float8_e4m3fn", "stochastic")
    assert torch.equal(a, b) and not torch.equal(b, c)
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert torch.equal(lt.quantize(x, "e4m3", "sr", generator=g1), lt.quantize(x, "e4m3", "sr", generator=g2))


def test_errors() -> None:
    with pytest.raises(TypeError):
        lt.quantize(torch.arange(3), "float8_e4m3fn")
    with pytest.raises(ValueError, match="only apply"):
        lt.quantize(torch.ones(3), "float8_e4m3fn", seed=1)
    with pytest.raises(ValueError, match="estimator"):
        lt.quantize(torch.ones(3), "float8_e4m3fn", estimator="nope")
    with pytest.raises(ValueError, match="shape"):
        lt.quantize(torch.ones(3), "e4m3", "stochastic", random_bits=torch.zeros(2, dtype=torch.int64))


def test_custom_format_object() -> None:
    f = lowprec.FloatFormat(3, 3, encoding="fn", name=None)
    x = torch.linspace(-20, 20, 101)
    assert_same_bits(lt.quantize(x, f).numpy(), lowprec.quantize(x.numpy(), f), x.numpy())
