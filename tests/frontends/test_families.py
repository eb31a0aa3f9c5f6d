"""torch and jax frontends on fixed-point, integer and block formats: same bits as lowprec.quantize."""

from __future__ import annotations

import numpy as np
import pytest

import lowprec
from lowprec import FixedFormat
from lowprec.formats import IntFormat

torch = pytest.importorskip("torch")
jax = pytest.importorskip("jax")
jnp = jax.numpy
import lowprec.jax as lj  # noqa: E402
import lowprec.torch as lt  # noqa: E402

FIXED = [FixedFormat(8, 3), FixedFormat(8, 3, signed=False), FixedFormat(4, 6), FixedFormat(12, -2),
         FixedFormat(24, 10), FixedFormat(1, 1), IntFormat(8)]  # fmt: skip
MODES = ["TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_MIN_INF", "RND_INF", "RND_CONV", "TO_ODD", "TRN_INF"]
OVERFLOWS = ["WRAP", "SAT", "SAT_ZERO", "SAT_SYM"]
BLOCKS = ["mxfp4", "mxfp8_e4m3", "mxint8", "mxfp6_e2m3", "mxfp8_e5m2_ceil"]


def _data(shape=(5, 45), scale=8.0) -> np.ndarray:
    x = (np.random.default_rng(1234).standard_normal(shape) * scale).astype(np.float32)
    x.flat[:9] = [0.0, -0.0, np.nan, np.inf, -np.inf, 1e-40, -1e-40, 3e38, -0.03125]
    x[-1, :] *= np.float32(2.0**-130)  # a row of subnormals (and a block of tiny values)
    return x


def _same(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    na, nb = np.isnan(a), np.isnan(b)
    return np.array_equal(na, nb) and np.array_equal(
        a[~na].view(np.uint32 if a.dtype == np.float32 else np.uint16),
        b[~nb].view(np.uint32 if b.dtype == np.float32 else np.uint16),
    )


@pytest.mark.parametrize("fmt", FIXED, ids=str)
def test_fixed_bits(fmt):
    """torch: every mode x overflow. jax: a quarter of them per format, rotating between the seven
    formats so that every pair is met (each pair is an XLA compilation; test_jax_families sweeps the
    modes and overflows of the JAX path exhaustively against the reference)."""
    x = _data()
    xt = torch.from_numpy(x)
    k = FIXED.index(fmt)
    for i, q in enumerate(MODES):
        for j, o in enumerate(OVERFLOWS):
            ref = lowprec.quantize(x, fmt, q, overflow=o)
            assert _same(lt.quantize(xt, fmt, q, overflow=o).numpy(), ref), (q, o)
            if (i + j + k) % 4 == 0:
                assert _same(lj.quantize(x, fmt, q, overflow=o), ref), (q, o)


def test_fixed_jit_defaults_and_float16():
    f = FixedFormat(10, 4)
    x = _data()
    ref = lowprec.quantize(x, f)  # nearest_even = RND_CONV, overflow None = WRAP
    assert _same(jax.jit(lambda v: lj.quantize(v, f))(x), ref)
    assert _same(lt.quantize(torch.from_numpy(x), f).numpy(), ref)
    h = np.nan_to_num(x, posinf=np.inf, neginf=-np.inf).clip(-6e4, 6e4).astype(np.float16)
    ref16 = lowprec.quantize(h, f, "RND", overflow="SAT")
    assert _same(lj.quantize(h, f, "RND", overflow="SAT"), ref16)
    assert _same(lt.quantize(torch.from_numpy(h), f, "RND", overflow="SAT").numpy(), ref16)


def test_fixed_torch_extras():
    x = _data()
    f = FixedFormat(8, 3)
    for kw in ({"sat_bits": 2}, {"sat_bits": 1}):
        ref = lowprec.quantize(x, f, "RND", overflow="WRAP", **kw)
        assert _same(lt.quantize(torch.from_numpy(x), f, "RND", overflow="WRAP", **kw).numpy(), ref)
    ref = lowprec.quantize(x, f, "STOCHASTIC", overflow="SAT", seed=5)
    assert _same(lt.quantize(torch.from_numpy(x), f, "STOCHASTIC", overflow="SAT", seed=5).numpy(), ref)
    ref = lowprec.quantize(x, f, "RND", overflow="WRAP_SM")
    assert _same(lt.quantize(torch.from_numpy(x), f, "RND", overflow="WRAP_SM").numpy(), ref)


@pytest.mark.parametrize("fmt", BLOCKS)
@pytest.mark.parametrize("axis", [-1, 0])
def test_block_bits(fmt, axis):
    x = _data((33, 45))  # ragged last block on both axes
    xt = torch.from_numpy(x)
    for r in ("nearest_even", "toward_zero", "toward_positive", "nearest_away", "to_odd"):
        ref = lowprec.quantize(x, fmt, r, axis=axis)
        assert _same(lt.quantize(xt, fmt, r, axis=axis).numpy(), ref), r
        assert _same(lj.quantize(x, fmt, r, axis=axis), ref), r


def test_block_torch_all_families():
    x = _data((4, 40))
    for fmt in ("nvfp4", "nvfp4_ts", "mxfp4_rceil"):
        ref = lowprec.quantize(x, fmt)
        assert _same(lt.quantize(torch.from_numpy(x), fmt).numpy(), ref)
    ref = lowprec.quantize(x, "mxfp4", "stochastic", seed=3)
    assert _same(lt.quantize(torch.from_numpy(x), "mxfp4", "stochastic", seed=3).numpy(), ref)
    bf = torch.from_numpy(x).to(torch.bfloat16)
    y = lt.quantize(bf, "mxfp8_e4m3")
    assert y.dtype == torch.bfloat16


def test_jax_block_jit_bf16_and_errors():
    x = _data((6, 64))
    ref = lowprec.quantize(x, "mxfp4", axis=0)
    assert _same(jax.jit(lambda v: lj.quantize(v, "mxfp4", axis=0))(x), ref)
    for fmt in ("nvfp4", "nvfp4_ts", "mxfp4_rceil"):  # more in test_jax_families.py
        assert _same(lj.quantize(x, fmt), lowprec.quantize(x, fmt))
    assert _same(lj.quantize(x, FixedFormat(32, 8)), lowprec.quantize(x, FixedFormat(32, 8)))
    with pytest.raises(ValueError):
        lj.quantize(x, "mxfp4", overflow="infinity")


def test_torch_errors():
    x = torch.zeros(4, 32)
    with pytest.raises(TypeError):
        lt.quantize(x, "mxfp4", sat_bits=1)
    with pytest.raises(TypeError):
        lt.quantize(x, "float8_e4m3fn", axis=0)
    with pytest.raises(ValueError):
        lt.quantize(x, "mxfp4", overflow="infinity")
    with pytest.raises(RuntimeError, match="on CPU and CUDA tensors"):
        lt._families.check_device(x.to("meta"))


def _torch_grad(x, fmt, est, **kw):
    xt = torch.from_numpy(x).requires_grad_()
    y = lt.quantize(xt, fmt, estimator=est, **kw)
    y.backward(torch.arange(x.size, dtype=torch.float32).reshape(x.shape))
    return xt.grad.numpy()


def _jax_grad(x, fmt, est, **kw):
    g = jnp.arange(x.size, dtype=jnp.float32).reshape(x.shape)
    return np.asarray(
        jax.grad(lambda v: (lj.quantize(v, fmt, estimator=est, **kw) * g).sum())(jnp.asarray(x))
    )


def test_gradients_fixed():
    x = (np.random.default_rng(7).standard_normal((3, 50)) * 4).astype(np.float32)
    f = FixedFormat(8, 3)
    up = np.arange(x.size, dtype=np.float32).reshape(x.shape)
    keep = (x >= -4) & (x <= 127 / 32)
    assert not keep.all()
    for gfn in (_torch_grad, _jax_grad):
        np.testing.assert_array_equal(gfn(x, f, "ste", overflow="SAT"), up)
        np.testing.assert_array_equal(gfn(x, f, "clipped", overflow="SAT"), np.where(keep, up, 0))


def test_gradients_block():
    x = (np.random.default_rng(8).standard_normal((4, 48))).astype(np.float32)
    up = np.arange(x.size, dtype=np.float32).reshape(x.shape)
    for gfn in (_torch_grad, _jax_grad):
        np.testing.assert_array_equal(gfn(x, "mxfp4", "ste"), up)
        g = gfn(x, "mxfp4", "clipped")
        # floor rule: the scale is 2**(E - 2), so the cap is 6 * 2**(E - 2) = 1.5 * 2**E per block
        xb = np.pad(np.abs(x), ((0, 0), (0, 16))).reshape(4, 2, 32)
        cap = 1.5 * 2.0 ** np.floor(np.log2(xb.max(-1)))
        cap = np.repeat(cap, 32, axis=1)[:, :48]
        expect = np.where(np.abs(x) <= cap, up, 0)
        assert (expect == 0).any()
        np.testing.assert_array_equal(g, expect)


def test_torch_grad_fmt():
    x = torch.randn(4, 32, requires_grad=True)
    y = lt.quantize(x, "mxfp4", grad_fmt="float8_e5m2")
    y.backward(torch.full_like(x, 0.3))
    assert torch.equal(
        x.grad, torch.full_like(x, 0.3).clone().fill_(float(lowprec.quantize(np.float32(0.3), "float8_e5m2")))
    )


@pytest.mark.parametrize("fmt,kw", [("mxfp4", {}), ("mxint8", {"axis": 0}), (FixedFormat(8, 3), {"sat_bits": 0})],
                         ids=["mxfp4", "mxint8-axis0", "fixed"])  # fmt: skip
def test_torch_compile_fullgraph(fmt, kw):
    q = lt.Quantizer(fmt, estimator="clipped", **kw)
    cq = torch.compile(q, fullgraph=True)
    x = torch.from_numpy(_data((6, 40)))
    x = torch.nan_to_num(x, nan=1.0, posinf=2.0, neginf=-2.0)
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    a, b = cq(xa), q(xb)
    assert torch.equal(a, b)
    a.sum().backward()
    b.sum().backward()
    assert torch.equal(xa.grad, xb.grad)
