"""lowprec.jax: bit-equal to the NumPy API; jit, vmap, grad and sharded jit."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import lowprec

jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402
from fe_common import MODES, SWEEP_FORMATS, assert_same_bits, bits_for, reference, sweep  # noqa: E402

import lowprec.jax as lj  # noqa: E402
from lowprec.jax._impl import W32, lut_np, params_of, quantize_traced  # noqa: E402

_traced = jax.jit(quantize_traced)


def _pad(a: np.ndarray, size: int) -> np.ndarray:
    return np.concatenate([a, np.zeros(size - a.size, a.dtype)])


@pytest.mark.parametrize("fmt", SWEEP_FORMATS)
def test_sweep_all_modes(fmt: str) -> None:
    """One compiled kernel (format, mode and policy traced) checked on every format and mode."""
    f = lowprec.get_format(fmt)
    x = sweep(fmt)
    size = 4096 if x.size <= 4096 else 1 << 20  # two shapes: two compilations in all
    xp = jnp.asarray(_pad(x, size))
    rp = jnp.asarray(_pad(bits_for(fmt).astype(np.uint32), size))
    lut = jnp.asarray(_pad(lut_np(f, jnp.float32), 1 << 16))
    p = jnp.asarray(params_of(f, W32), jnp.int32)
    ovf = int(lowprec.rounding.resolve_overflow(f, None))
    for k, mode in enumerate(MODES):
        got = np.asarray(_traced(xp, p, jnp.int32(k), jnp.int32(ovf), rp, jnp.int32(32), lut))[: x.size]
        assert_same_bits(got, reference(fmt, mode), x)


@pytest.mark.parametrize(
    ("fmt", "modes"),
    [("float8_e4m3fn", MODES), ("float8_e8m0fnu", ["nearest_even", "stochastic"]), ("bfloat16", ["to_odd"])],
)
def test_public_api(fmt: str, modes: list) -> None:
    """The public (static, constant-folded) path on the same sweeps (a compilation per format and mode)."""
    x = sweep(fmt)
    rb = jnp.asarray(bits_for(fmt).astype(np.uint32))
    for mode in modes:
        kw = {"random_bits": rb} if "stochastic" in mode else {}
        assert_same_bits(np.asarray(lj.quantize(jnp.asarray(x), fmt, mode, **kw)), reference(fmt, mode), x)


def test_overflow_policy_and_small_dtypes() -> None:
    x = np.array([1e5, -1e5, 0.3, np.inf, -3.0], np.float32)
    for ovf in ("saturate", "nan"):
        assert_same_bits(np.asarray(lj.quantize(jnp.asarray(x), "e4m3", overflow=ovf)),
                         lowprec.quantize(x, "e4m3", overflow=ovf), x)  # fmt: skip
    for dt in (jnp.bfloat16, jnp.float16):
        xs = jnp.asarray(x).astype(dt)
        got = lj.quantize(xs, "float8_e5m2", "toward_positive")
        assert got.dtype == dt
        exp = lowprec.quantize(np.asarray(xs), "float8_e5m2", "toward_positive")
        assert_same_bits(np.asarray(got).astype(np.float32), exp.astype(np.float32), x)


def test_wider_format_by_ldexp() -> None:
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(5000) * 10.0 ** rng.integers(-44, 38, 5000)).astype(np.float32)
    for fmt in ("tf32", "float32"):
        for mode in ("nearest_even", "toward_zero", "to_odd"):
            assert_same_bits(
                np.asarray(lj.quantize(jnp.asarray(x), fmt, mode)), lowprec.quantize(x, fmt, mode), x
            )


def test_jit_vmap_grad_and_key() -> None:
    x = jnp.linspace(-500.0, 500.0, 64).reshape(8, 8)
    f = jax.jit(lambda v: lj.quantize(v, "float8_e4m3fn", "nearest_even"))
    assert jnp.array_equal(f(x), jax.vmap(lambda r: lj.quantize(r, "float8_e4m3fn"))(x), equal_nan=True)
    g = jax.grad(lambda v: lj.quantize(v, "float8_e4m3fn", estimator="clipped").sum())(x)
    assert jnp.array_equal(g, (jnp.abs(x) <= 448.0).astype(x.dtype))
    g = jax.grad(lambda v: (lj.quantize(v, "float8_e4m3fn") * 2.0).sum())(x)
    assert jnp.array_equal(g, jnp.full_like(x, 2.0))
    k = jax.random.key(0)
    a = jax.jit(lambda v, kk: lj.quantize(v, "e4m3", "stochastic", key=kk))(jnp.full((1000,), 0.3), k)
    b = lj.quantize(jnp.full((1000,), 0.3), "e4m3", "stochastic", key=k)
    assert jnp.array_equal(a, b)
    assert 0.5 < float(jnp.mean(a == 0.3125)) < 0.7  # 0.3 is 3/5 of the way from 0.28125 to 0.3125


def test_errors() -> None:
    if not jax.config.jax_enable_x64:
        with pytest.raises(TypeError, match="jax_enable_x64"):
            lj.quantize(np.ones(3), "e4m3")
    with pytest.raises(ValueError, match="exactly one"):
        lj.quantize(jnp.ones(3), "e4m3", "stochastic")
    with pytest.raises(ValueError, match="only apply"):
        lj.quantize(jnp.ones(3), "e4m3", key=jax.random.key(1))


_SHARDED = textwrap.dedent(
    """
    import jax, jax.numpy as jnp, numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    import lowprec.jax as lj
    assert len(jax.devices()) == 4
    mesh = Mesh(np.array(jax.devices()), ("d",))
    sh = NamedSharding(mesh, P("d"))
    x = jnp.asarray(np.random.default_rng(0).standard_normal(4096).astype(np.float32) * 100)
    rb = jnp.asarray(np.random.default_rng(1).integers(0, 2**32, 4096, dtype=np.uint32))
    key = jax.random.key(7)
    for mode, kw in [("nearest_even", {}), ("stochastic", {"random_bits": rb}), ("stochastic", {"key": key})]:
        f = lambda v, **k: lj.quantize(v, "float8_e4m3fn", mode, **k)
        ref = f(x, **kw)
        xs = jax.device_put(x, sh)
        kws = {k: (jax.device_put(v, sh) if k == "random_bits" else v) for k, v in kw.items()}
        out = jax.jit(f, out_shardings=sh)(xs, **kws)
        assert len(out.sharding.device_set) == 4
        assert np.array_equal(np.asarray(out).view(np.uint32), np.asarray(ref).view(np.uint32)), mode
    print("OK")
    """
)


def test_sharded_jit_same_bits() -> None:
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    src = os.path.join(os.path.dirname(lowprec.__file__), os.pardir)
    env["PYTHONPATH"] = os.path.abspath(src) + os.pathsep + env.get("PYTHONPATH", "")
    r = subprocess.run([sys.executable, "-c", _SHARDED], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "OK" in r.stdout, r.stderr[-3000:]
