"""Framework entry points of the emulated GEMM (torch autograd.Function, JAX pure_callback + custom_vjp)."""

from __future__ import annotations

import numpy as np
import pytest

from lowprec.ops import matmul as np_matmul

PRESETS = ["ieee_fp32_sequential", "h100_bf16", "h100_fp8"]


def _ab(m: int = 5, k: int = 33, n: int = 4) -> tuple:
    rng = np.random.default_rng(11)
    return rng.standard_normal((m, k)).astype(np.float32), rng.standard_normal((k, n)).astype(np.float32)


def _bits_equal(x: np.ndarray, y: np.ndarray) -> None:
    np.testing.assert_array_equal(
        np.asarray(x, np.float32).view(np.int32), np.asarray(y, np.float32).view(np.int32)
    )


@pytest.mark.parametrize("preset", PRESETS)
def test_torch_matmul_bits_and_grads(preset: str) -> None:
    torch = pytest.importorskip("torch")
    from lowprec.ops._torch import matmul

    a, b = _ab()
    ta = torch.from_numpy(a).requires_grad_()
    tb = torch.from_numpy(b).requires_grad_()
    y = matmul(ta, tb, preset)
    assert y.dtype == torch.float32
    _bits_equal(y.detach().numpy(), np_matmul(a, b, preset))
    g = np.random.default_rng(3).standard_normal(y.shape).astype(np.float32)
    y.backward(torch.from_numpy(g))
    assert ta.grad.shape == ta.shape and tb.grad.shape == tb.shape
    _bits_equal(ta.grad.numpy(), np_matmul(g, b.T, preset))
    _bits_equal(tb.grad.numpy(), np_matmul(a.T, g, preset))


def test_torch_linear_batched_bias() -> None:
    torch = pytest.importorskip("torch")
    from lowprec.ops._torch import linear

    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 16)).astype(np.float32)
    w = rng.standard_normal((6, 16)).astype(np.float32)
    bias = rng.standard_normal(6).astype(np.float32)
    tx, tw, tb = (torch.from_numpy(v).requires_grad_() for v in (x, w, bias))
    y = linear(tx, tw, tb, profile="h100_bf16")
    assert y.shape == (2, 3, 6)
    _bits_equal(y.detach().numpy().reshape(6, 6), np_matmul(x.reshape(6, 16), w.T, "h100_bf16", c=bias))
    ref = torch.nn.functional.linear(tx.detach().double(), tw.detach().double(), tb.detach().double())
    assert torch.allclose(y.double(), ref, rtol=0.05, atol=0.05)
    y.sum().backward()
    assert tx.grad.shape == x.shape and tw.grad.shape == w.shape and tb.grad.shape == bias.shape
    np.testing.assert_array_equal(tb.grad.numpy(), np.full(6, 6.0, np.float32))
    g = np.ones((6, 6), np.float32)
    _bits_equal(tw.grad.numpy(), np_matmul(g.T, x.reshape(6, 16), "h100_bf16"))


@pytest.mark.parametrize("preset", PRESETS)
def test_jax_matmul_jit_bits_and_grads(preset: str) -> None:
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    from lowprec.ops._jax import matmul

    a, b = _ab()
    f = jax.jit(matmul, static_argnums=2)
    y = f(jnp.asarray(a), jnp.asarray(b), preset)
    assert y.dtype == jnp.float32
    _bits_equal(np.asarray(y), np_matmul(a, b, preset))
    g = np.random.default_rng(3).standard_normal(y.shape).astype(np.float32)
    ga, gb = jax.jit(jax.grad(lambda x, w: jnp.vdot(matmul(x, w, preset), g), argnums=(0, 1)))(a, b)
    assert ga.shape == a.shape and gb.shape == b.shape
    _bits_equal(np.asarray(ga), np_matmul(g, b.T, preset))
    _bits_equal(np.asarray(gb), np_matmul(a.T, g, preset))


def test_jax_vmap() -> None:
    jax = pytest.importorskip("jax")

    from lowprec.ops._jax import matmul

    a, b = _ab()
    ab = np.stack([a, 2 * a])
    y = jax.vmap(lambda x: matmul(x, b, "h100_bf16"))(ab)
    _bits_equal(np.asarray(y[1]), np_matmul(2 * a, b, "h100_bf16"))


CUSTOM = "custom-block8"


def _profile(name: str):
    from lowprec.ops import GemmProfile

    if name == CUSTOM:  # not a preset: travels through the op as a registered key
        return GemmProfile(name=CUSTOM, a_format="bfloat16", block_size=8, extra_align_bits=0,
                           block_rounding="toward_zero", split_k=2)  # fmt: skip
    return name


@pytest.mark.parametrize("preset", [*PRESETS, CUSTOM])
def test_torch_custom_op_opcheck(preset: str) -> None:
    torch = pytest.importorskip("torch")
    import lowprec.torch  # noqa: F401  (registers the op)
    from lowprec.ops._torch import profile_key

    a, b = _ab(4, 9, 3)
    c = np.random.default_rng(2).standard_normal((1, 3)).astype(np.float32)
    args = (torch.from_numpy(a).requires_grad_(), torch.from_numpy(b).requires_grad_(),
            torch.from_numpy(c).requires_grad_(), profile_key(_profile(preset)))  # fmt: skip
    torch.library.opcheck(torch.ops.lowprec.gemm.default, args)


@pytest.mark.parametrize("preset", [*PRESETS, CUSTOM])
def test_torch_compile_fullgraph_bits_and_grads(preset: str) -> None:
    """``torch.compile(fullgraph=True)`` traces linear + matmul; values and gradients keep their bits."""
    torch = pytest.importorskip("torch")
    import lowprec.torch as lt

    prof = _profile(preset)
    rng = np.random.default_rng(19)
    x = rng.standard_normal((2, 3, 16)).astype(np.float32)
    w = rng.standard_normal((5, 16)).astype(np.float32)
    bias = rng.standard_normal(5).astype(np.float32)
    w2 = rng.standard_normal((5, 4)).astype(np.float32)

    def f(x, w, bias, w2):
        h = lt.linear(x, w, bias, profile=prof).reshape(6, 5)
        return lt.matmul(torch.relu(h), w2, prof)

    def run(fn):
        ts = [torch.from_numpy(v.copy()).requires_grad_() for v in (x, w, bias, w2)]
        y = fn(*ts)
        y.backward(torch.ones_like(y))
        return y.detach().numpy(), [t.grad.numpy() for t in ts]

    y_eager, g_eager = run(f)
    y_comp, g_comp = run(torch.compile(f, fullgraph=True, backend="aot_eager"))
    _bits_equal(y_comp, y_eager)
    for ge, gc in zip(g_eager, g_comp):
        _bits_equal(gc, ge)
    h = np_matmul(x.reshape(6, 16), w.T, prof, c=bias).astype(np.float32)
    _bits_equal(y_eager, np_matmul(np.maximum(h, 0), w2, prof))
    # backward of the second GEMM: grad_w2 = relu(h)^T @ 1 under the same profile
    _bits_equal(g_eager[3], np_matmul(np.maximum(h, 0).T, np.ones((6, 4), np.float32), prof))


def test_torch_compile_inductor_fullgraph() -> None:
    torch = pytest.importorskip("torch")
    import lowprec.torch as lt

    a, b = _ab(6, 40, 5)

    def f(a, b):
        return lt.matmul(a * 2, b, "h100_fp8") + 1

    y = torch.compile(f, fullgraph=True)(torch.from_numpy(a), torch.from_numpy(b))
    _bits_equal(y.numpy(), np_matmul(a * 2, b, "h100_fp8").astype(np.float32) + 1)


def test_torch_matmul_dtypes_and_errors() -> None:
    torch = pytest.importorskip("torch")
    import lowprec.torch as lt

    a, b = _ab(3, 8, 2)
    y = lt.matmul(torch.from_numpy(a).to(torch.bfloat16), torch.from_numpy(b).to(torch.bfloat16), "h100_bf16")
    assert y.dtype == torch.bfloat16
    ref = np_matmul(torch.from_numpy(a).to(torch.bfloat16).float().numpy(), b.astype(np.float32), "h100_bf16")
    assert torch.equal(y, torch.from_numpy(ref).to(torch.bfloat16))  # fp32 result rounded to bf16 (RNE)
    with pytest.raises(ValueError, match="unknown GEMM preset"):
        lt.matmul(torch.from_numpy(a), torch.from_numpy(b), "tpu")
    with pytest.raises(ValueError, match="2-d"):
        lt.matmul(torch.from_numpy(a)[0], torch.from_numpy(b), "h100_bf16")
    with pytest.raises(TypeError, match="floating-point"):
        lt.matmul(torch.ones(2, 2, dtype=torch.int32), torch.ones(2, 2, dtype=torch.int32))
