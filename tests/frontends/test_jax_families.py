"""lowprec.jax on fixed-point and block formats: bit-equal to the NumPy API for every rounding mode,
overflow mode (WRAP_SM, saturation bits), width, scale rule (NVFP4 with and without tensor scale),
2-D and ragged blocks and stochastic rounding; under jit and vmap; gradients of both estimators.
The 64-bit paths (float64 input, > 32-bit formats, > 32 random bits) run in a subprocess with x64."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import lowprec
from lowprec import FixedFormat, blocks
from lowprec.formats import IntFormat

jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402

import lowprec.jax as lj  # noqa: E402

FIXED_MODES = ["TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_MIN_INF", "RND_INF", "RND_CONV", "TO_ODD",
               "TRN_INF", "STOCHASTIC", "STOCHASTIC_EQUAL"]  # fmt: skip
BLOCK_MODES = ["nearest_even", "nearest_away", "nearest_zero", "toward_zero", "toward_positive",
               "toward_negative", "to_odd", "stochastic", "stochastic_equal"]  # fmt: skip


def _same(actual: object, expected: np.ndarray, what: object = "") -> None:
    """Bit equality (NaN by class), with the first differing inputs in the message."""
    a, e = np.asarray(actual), np.asarray(expected)
    assert a.dtype == e.dtype and a.shape == e.shape, (what, a.dtype, e.dtype, a.shape, e.shape)
    ib = {2: np.uint16, 4: np.uint32, 8: np.uint64}[a.dtype.itemsize]
    a, e = a.reshape(-1), e.reshape(-1)
    ok = (a.view(ib) == e.view(ib)) | (np.isnan(a.astype(np.float64)) & np.isnan(e.astype(np.float64)))
    if not ok.all():
        i = np.nonzero(~ok)[0][:5]
        raise AssertionError(f"{what}: {(~ok).sum()} differ at {i}: got {a[i]}, expected {e[i]}")


def fixed_sweep(f: FixedFormat, dtype: type = np.float32) -> np.ndarray:
    """Every value of a fixed-point format (<= 16 bits), every midpoint, their float neighbours,
    values beyond both ends (overflow and wrap), tiny values and the specials."""
    assert f.bits <= 16
    lsb = 2.0**-f.frac_bits
    codes = np.arange(f.min_code, f.max_code + 1, dtype=np.float64)
    vals = codes * lsb
    mids = (codes[:-1] + 0.5) * lsb
    span = 2.0**f.bits * lsb
    beyond = np.concatenate([vals[-8:] + span / 2, vals[:8] - span / 2, vals + span, vals - 3 * span])
    base = np.concatenate([vals, mids, beyond, [span * 2.0**30, -span * 2.0**40]]).astype(dtype)
    with np.errstate(over="ignore"):
        nb = np.concatenate([np.nextafter(base, dtype(np.inf)), np.nextafter(base, dtype(-np.inf))])
    fi = np.finfo(dtype)
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, fi.smallest_subnormal, -fi.smallest_subnormal,
                         fi.tiny, -fi.max, fi.max], dtype=dtype)  # fmt: skip
    return np.concatenate([base, nb, specials])


def _rbits(shape: tuple, n: int = 32, seed: int = 11) -> np.ndarray:
    return lowprec.random_bits(seed, shape, n)


def _kw(mode: str, shape: tuple, n: int = 32) -> tuple[dict, dict]:
    """Stochastic options for the NumPy API and for lowprec.jax (same explicit bits)."""
    if "stoch" not in mode.lower():
        return {}, {}
    rb = _rbits(shape, n)
    return {"random_bits": rb, "n_random_bits": n}, {"random_bits": jnp.asarray(rb.astype(np.uint32)),
                                                     "n_random_bits": n}  # fmt: skip


# ---- fixed point ----------------------------------------------------------------------------------------

SWEEP_FIXED = [FixedFormat(8, 3), FixedFormat(8, 3, signed=False), FixedFormat(5, 7), FixedFormat(6, -3),
               FixedFormat(1, 1), IntFormat(4)]  # fmt: skip


def _overflows(f: object) -> list[tuple[str, int]]:
    fx = f.as_fixed() if hasattr(f, "as_fixed") else f
    out = [("WRAP", 0), ("SAT", 0), ("SAT_ZERO", 0), ("SAT_SYM", 0), ("WRAP", 1), ("WRAP", fx.bits)]
    if fx.bits > 2:
        out.append(("WRAP", 2))
    if fx.signed:
        out += [("WRAP_SM", 0), ("WRAP_SM", 1), ("WRAP_SM", fx.bits)]
        if fx.bits > 2:
            out.append(("WRAP_SM", 2))
    return out


@pytest.mark.parametrize("fmt", SWEEP_FIXED, ids=str)
def test_fixed_exhaustive_every_mode_and_overflow(fmt) -> None:
    fx = fmt.as_fixed() if hasattr(fmt, "as_fixed") else fmt
    x = fixed_sweep(fx)
    # the first format: every mode under WRAP and SAT, and three modes (one of each kind) under every
    # overflow; the others: one of those three modes per overflow, in turn (each XLA compilation
    # costs about 0.2 s; the mode and overflow stages are separate code)
    full = fmt == SWEEP_FIXED[0]
    three = ["TRN_ZERO", "RND_CONV", "STOCHASTIC"]
    for k, (o, ns) in enumerate(_overflows(fmt)):
        every = full and (o, ns) in (("WRAP", 0), ("SAT", 0))
        for q in FIXED_MODES if every else (three if full else [three[k % 3]]):
            for n in (32, 5) if q.startswith("STOCH") and every else (32,):
                kn, kj = _kw(q, x.shape, n)
                ref = lowprec.quantize(x, fmt, q, overflow=o, sat_bits=ns, **kn)
                _same(lj.quantize(x, fmt, q, overflow=o, sat_bits=ns, **kj), ref, (q, o, ns, n))


@pytest.mark.parametrize("fmt", [FixedFormat(16, 5), FixedFormat(16, 16, signed=False)], ids=str)
def test_fixed_exhaustive_16_bits(fmt) -> None:
    x = fixed_sweep(fmt)
    cases = [("WRAP", 0), ("SAT_SYM", 0), ("WRAP", 3)] + (
        [("WRAP_SM", 0), ("WRAP_SM", 2)] if fmt.signed else []
    )
    for o, ns in cases:
        for q in ("TRN", "RND_CONV", "STOCHASTIC"):
            kn, kj = _kw(q, x.shape)
            ref = lowprec.quantize(x, fmt, q, overflow=o, sat_bits=ns, **kn)
            _same(lj.quantize(x, fmt, q, overflow=o, sat_bits=ns, **kj), ref, (q, o, ns))


def _wide_data(n: int = 4000, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(n) * 2.0 ** rng.integers(-45, 60, n)).astype(np.float32)
    x[:8] = [0.0, -0.0, np.nan, np.inf, -np.inf, 1e-45, -1e-40, 3e38]
    x[8:24] = np.float32(2.0**31) * np.array([1, -1, 2, -2, 0.5, -0.5, 3, -3, 1.5, -1.5, 4, -4, 2**-24, -(2**-24),
                                               0.75, -0.75], np.float32)  # fmt: skip
    return x


@pytest.mark.parametrize("fmt", [FixedFormat(32, 8), FixedFormat(32, 32, signed=False), FixedFormat(31, -3),
                                 FixedFormat(25, 30), IntFormat(32)], ids=str)  # fmt: skip
def test_fixed_wide_random(fmt) -> None:
    """Formats of 25..32 bits (float32 input, 32-bit integers, no x64) on random values of every binade."""
    x = _wide_data()
    for o, ns in _overflows(fmt):
        for q in ("RND", "TO_ODD", "STOCHASTIC") if o == "WRAP_SM" else ("RND_CONV", "STOCHASTIC_EQUAL"):
            kn, kj = _kw(q, x.shape)
            ref = lowprec.quantize(x, fmt, q, overflow=o, sat_bits=ns, **kn)
            _same(lj.quantize(x, fmt, q, overflow=o, sat_bits=ns, **kj), ref, (q, o, ns))


def test_fixed_small_dtypes_jit_vmap() -> None:
    f = FixedFormat(10, 4)
    x = _wide_data(600).reshape(6, 100)
    x = np.nan_to_num(x, posinf=np.inf, neginf=-np.inf).clip(-6e4, 6e4)
    rb = _rbits(x.shape)
    ref = lowprec.quantize(x, f, "STOCHASTIC", overflow="WRAP_SM", random_bits=rb)
    fn = jax.jit(lambda v, r: lj.quantize(v, f, "STOCHASTIC", overflow="WRAP_SM", random_bits=r))
    _same(fn(x, rb.astype(np.uint32)), ref, "jit")
    _same(jax.vmap(fn)(x, rb.astype(np.uint32)), ref, "vmap")
    h = x.astype(np.float16)
    ref16 = lowprec.quantize(h, f, "RND", overflow="WRAP", sat_bits=2)
    _same(lj.quantize(h, f, "RND", overflow="WRAP", sat_bits=2), ref16, "float16")


# ---- stochastic rounding with a key -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "mode", "kw"),
    [(FixedFormat(8, 3), "STOCHASTIC", {"overflow": "SAT"}), (FixedFormat(12, 2), "STOCHASTIC_EQUAL", {}),
     ("mxfp4", "stochastic", {}), ("nvfp4", "stochastic", {}), ("nvfp4_ts", "stochastic_equal", {})],
    ids=["fixed-sr", "fixed-sre", "mxfp4", "nvfp4", "nvfp4_ts"],
)  # fmt: skip
@pytest.mark.parametrize("n", [None, 12])
def test_key_bits_are_documented(fmt, mode, kw, n) -> None:
    """``key=`` uses jax.random.bits(key, x.shape) >> (32 - n): the NumPy API with those bits agrees."""
    x = (np.random.default_rng(5).standard_normal((4, 64)) * 3).astype(np.float32)
    key = jax.random.key(42)
    if n is None and str(fmt).startswith("nvfp4") and not jax.config.jax_enable_x64:
        with pytest.raises(ValueError, match="x64"):  # 32 random bits: more than 32-bit division keeps
            lj.quantize(x, fmt, mode, key=key, **kw)
        n = 27
    nb = 32 if n is None else n
    extra = {} if n is None else {"n_random_bits": n}
    bits = np.asarray(jax.random.bits(key, x.shape, jnp.uint32) >> (32 - nb))
    ref = lowprec.quantize(x, fmt, mode, random_bits=bits.astype(np.uint64), n_random_bits=nb, **kw)
    got = lj.quantize(x, fmt, mode, key=key, **extra, **kw)
    _same(got, ref, "key")
    jitted = jax.jit(lambda v, k: lj.quantize(v, fmt, mode, key=k, **extra, **kw))(x, key)
    _same(jitted, ref, "jit key")
    other = lj.quantize(x, fmt, mode, key=jax.random.key(43), **extra, **kw)
    assert not np.array_equal(np.asarray(other), np.asarray(got))  # the key matters


# ---- block formats ------------------------------------------------------------------------------------

BLOCK_CASES = [*sorted(blocks.BLOCK_FORMATS), "mxfp4_even", "mxfp4_rceil", "mxfp4_ceil", "mxfp8_e4m3_rceil",
               "mxfp8_e5m2_even", "mxint8_rceil", "mxfp6_e3m2_even", "bfp8_ceil", "bfp12_b8_even",
               "mxfp4_b16x16", "nvfp4_b8x4"]  # fmt: skip


def _block_data(shape: tuple, seed: int = 1) -> np.ndarray:
    """Rows spread over binades; NaN, Inf and zero blocks, -0, subnormals, powers of two."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 2.0 ** rng.integers(-30, 30, (shape[0], 1))
    x[0, 3], x[1, 40], x[2, 7] = np.nan, np.inf, -np.inf
    x[3, :] = 0.0
    x[4, :20] = -0.0
    x[5, :] = 2.0 ** rng.integers(-8, 8, shape[1])
    x[6, :] *= 2.0**-140
    x[7, :] = np.nextafter(np.float32(4.0), np.float32(0))
    return x.astype(np.float32)


def _axes(f) -> list:
    if isinstance(f.block, tuple):
        return [None, (1, 0)]
    return [-1, 0]


@pytest.mark.parametrize("name", BLOCK_CASES)
def test_block_every_preset_rule_and_mode(name: str) -> None:
    f = blocks.get_block_format(name)
    x = _block_data((37, 50))  # ragged blocks on both axes
    n = 32 if f.pow2_scale else 20
    few = ["nearest_even", "stochastic"]
    # presets on the default axis: every third mode, rotating between consecutive presets (the
    # frontend's code per mode does not depend on the format, so every mode still meets every
    # element family; test_block_element_sweep runs every mode on every element value); one
    # deterministic and one stochastic mode otherwise
    third = BLOCK_MODES[BLOCK_CASES.index(name) % 3 :: 3]
    for k, axis in enumerate(_axes(f)):
        for mode in third if name in blocks.BLOCK_FORMATS and k == 0 else few:
            kn, kj = _kw(mode, x.shape, n)
            ref = blocks.quantize(x, f, axis, mode, **kn)
            kw = {} if axis is None else {"axis": axis}
            _same(lj.quantize(x, f, mode, **kw, **kj), ref, (axis, mode))


@pytest.mark.parametrize("name", ["mxfp4", "mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e3m2", "mxfp6_e2m3", "mxint8",
                                  "bfp4", "nvfp4", "nvfp4_ts"])  # fmt: skip
def test_block_element_sweep(name: str) -> None:
    """Every element value, midpoint and float neighbour, in blocks whose amax makes the scale exact."""
    from lowprec.testing import sweep_values

    f = blocks.get_block_format(name)
    ef = f.element_format
    top = float(ef.max_finite)

    def rows(v: np.ndarray, scales: np.ndarray) -> np.ndarray:
        per = f.block - 1
        body = np.zeros(-(-v.size // per) * per)
        body[: v.size] = v
        body = body.reshape(-1, per)
        sc = scales[np.arange(body.shape[0]) % scales.size].reshape(-1, 1)
        out = np.concatenate([np.full((body.shape[0], 1), top), body], axis=1) * sc  # amax = top * scale
        assert np.array_equal(out.astype(np.float32).astype(np.float64), out)  # exact inputs
        return out.astype(np.float32)

    v = sweep_values(ef, np.float32).astype(np.float64)
    v = v[np.isfinite(v) & (np.abs(v) <= top) & ((v == 0) | (np.abs(v) >= 2.0**-100))]  # no f32 subnormals
    parts = [rows(v, 2.0 ** np.arange(-6.0, 6.0))]
    if not f.pow2_scale:  # non-power-of-two scales: the element grid and its midpoints, exactly scaled
        g = np.unique(np.abs(v[(v * 4) == np.round(v * 4)]))
        parts.append(rows(np.concatenate([g, -g]), 1 + np.arange(1, 8) / 8))
    x = np.concatenate(parts)
    for mode in BLOCK_MODES:
        kn, kj = _kw(mode, x.shape, 32 if f.pow2_scale else 16)
        _same(lj.quantize(x, f, mode, **kj), blocks.quantize(x, f, -1, mode, **kn), mode)


def test_block_jit_vmap_and_small_dtypes() -> None:
    x = _block_data((8, 64))
    rb = _rbits(x.shape)
    for name in ("mxfp4_rceil", "nvfp4_ts"):
        n = 32 if name.startswith("mx") else 24
        rbn = _rbits(x.shape, n)
        fn = jax.jit(
            lambda v, r, name=name, n=n: lj.quantize(v, name, "stochastic", random_bits=r, n_random_bits=n)
        )
        _same(fn(x, rbn.astype(np.uint32)), blocks.quantize(x, name, -1, "stochastic", random_bits=rbn,
                                                            n_random_bits=n), name)  # fmt: skip
        # vmap: each row is its own call (its own tensor scale for nvfp4_ts)
        per_row = np.stack([blocks.quantize(x[i], name, -1, "stochastic", random_bits=rbn[i], n_random_bits=n)
                            for i in range(x.shape[0])])  # fmt: skip
        _same(jax.vmap(fn)(x, rbn.astype(np.uint32)), per_row, f"vmap {name}")
    xb = jnp.asarray(x).astype(jnp.bfloat16)
    y = lj.quantize(xb, "nvfp4")
    assert y.dtype == jnp.bfloat16
    ref = blocks.quantize(np.asarray(xb.astype(jnp.float32)), "nvfp4")
    _same(
        np.asarray(y.astype(jnp.float32)),
        np.asarray(jnp.asarray(ref).astype(jnp.bfloat16).astype(jnp.float32)),
    )
    rb27 = _rbits(x.shape, 27)
    ref = blocks.quantize(x, "nvfp4_2d", None, "stochastic", random_bits=rb27, n_random_bits=27)
    got = lj.quantize(x, "nvfp4_2d", "stochastic", random_bits=rb27.astype(np.uint32), n_random_bits=27)
    _same(got, ref, "nvfp4_2d, 27 random bits (the most without x64)")
    del rb


# ---- gradients ----------------------------------------------------------------------------------------


def _grad(x: np.ndarray, fmt: object, est: str, **kw: object) -> np.ndarray:
    g = jnp.arange(x.size, dtype=jnp.float32).reshape(x.shape)
    return np.asarray(
        jax.grad(lambda v: (lj.quantize(v, fmt, estimator=est, **kw) * g).sum())(jnp.asarray(x))
    )


def test_gradients_fixed_new_modes() -> None:
    x = (np.random.default_rng(7).standard_normal((3, 50)) * 4).astype(np.float32)
    x[0, :4] = [
        np.float32(127 / 32),
        np.nextafter(np.float32(127 / 32), np.float32(9)),
        -4.0,
        np.float32(-4.0001),
    ]
    up = np.arange(x.size, dtype=np.float32).reshape(x.shape)
    f = FixedFormat(8, 3)
    keep = (x >= -4) & (x <= 127 / 32)
    assert not keep.all() and keep[0, 0] and not keep[0, 1] and keep[0, 2] and not keep[0, 3]
    key = jax.random.key(3)
    for kw in (
        {"overflow": "WRAP_SM"},
        {"overflow": "WRAP", "sat_bits": 2},
        {"rounding": "STOCHASTIC", "key": key},
    ):
        np.testing.assert_array_equal(_grad(x, f, "ste", **kw), up)
        np.testing.assert_array_equal(_grad(x, f, "clipped", **kw), np.where(keep, up, 0))
    # 32 bits: fmt.max = 128 - 2**-24 is not a float32, so 128.0 lies outside and its neighbour below inside
    w = np.array([128.0, np.nextafter(np.float32(128.0), np.float32(0)), -128.0, -128.00002], np.float32)
    np.testing.assert_array_equal(_grad(w, FixedFormat(32, 8), "clipped", overflow="SAT"), [0, 1, 2, 0])


@pytest.mark.parametrize("name", ["nvfp4", "nvfp4_ts", "nvfp4_2d", "mxfp4_rceil"])
def test_gradients_block_new_formats(name: str) -> None:
    x = _block_data((32, 48), seed=4)
    x[0, 3] = 1.0  # no NaN here; the Inf row stays (its blocks get zero gradients)
    up = np.arange(x.size, dtype=np.float32).reshape(x.shape)
    np.testing.assert_array_equal(_grad(x, name, "ste"), up)
    f = blocks.get_block_format(name)
    enc = blocks.encode(x, f)
    g = float(enc[2]) if f.tensor_scale else 1.0
    sv = lowprec.decode(enc[1], f.scale).astype(np.float64)  # block scale values, NaN for Inf blocks
    b1, b2 = f.block if isinstance(f.block, tuple) else (1, f.block)
    cap = (
        np.repeat(np.repeat(sv, b1, axis=0)[: x.shape[0]], b2, axis=1)[:, : x.shape[1]]
        * float(f.element_max)
        * g
    )
    expect = np.where(np.abs(x.astype(np.float64)) <= cap, up, 0)
    assert (expect == 0).any() and (expect != 0).any()
    np.testing.assert_array_equal(_grad(x, name, "clipped"), expect)


# ---- errors -------------------------------------------------------------------------------------------


def test_errors() -> None:
    x = jnp.zeros((4, 32), jnp.float32)
    f = FixedFormat(8, 3)
    with pytest.raises(ValueError, match="exactly one"):
        lj.quantize(x, f, "STOCHASTIC")
    with pytest.raises(ValueError, match="exactly one"):
        lj.quantize(
            x, "nvfp4", "stochastic", key=jax.random.key(0), random_bits=jnp.zeros(x.shape, jnp.uint32)
        )
    with pytest.raises(ValueError, match="only apply"):
        lj.quantize(x, f, "RND", key=jax.random.key(0))
    with pytest.raises(ValueError, match="shape"):
        lj.quantize(x, "mxfp4", "stochastic", random_bits=jnp.zeros((4,), jnp.uint32))
    with pytest.raises(ValueError, match="subnormals"):
        lj.quantize(x, f, subnormals=True)
    with pytest.raises(ValueError, match="saturation bits"):
        lj.quantize(x, f, overflow="SAT", sat_bits=1)
    with pytest.raises(ValueError, match="WRAP_SM"):
        lj.quantize(x, FixedFormat(8, 3, signed=False), overflow="WRAP_SM")
    with pytest.raises(ValueError, match="two axes"):
        lj.quantize(x, "nvfp4_2d", axis=0)
    with pytest.raises(ValueError, match="out of range"):
        lj.quantize(x, "mxfp4", axis=2)
    with pytest.raises(ValueError, match="n_random_bits"):
        lj.quantize(x, f, "STOCHASTIC", key=jax.random.key(0), n_random_bits=63)
    if not jax.config.jax_enable_x64:
        for call in (lambda: lj.quantize(x, FixedFormat(40, 8)),
                     lambda: lj.quantize(x, f, "STOCHASTIC", key=jax.random.key(0), n_random_bits=40),
                     lambda: lj.quantize(x, "nvfp4", "stochastic", key=jax.random.key(0)),
                     lambda: lj.quantize(x, "e4m3", "stochastic", key=jax.random.key(0), n_random_bits=40)):  # fmt: skip
            with pytest.raises(ValueError, match=r"x64|float64"):
                call()


# ---- 64-bit paths (subprocess with x64) ---------------------------------------------------------------

_X64 = textwrap.dedent(
    """
    import jax
    jax.config.update("jax_enable_x64", True)
    import numpy as np, jax.numpy as jnp, lowprec, lowprec.jax as lj
    from lowprec import FixedFormat, blocks
    from test_jax_families import _same
    rng = np.random.default_rng(2)
    x64 = rng.standard_normal(1500) * 2.0 ** rng.integers(-40, 70, 1500)
    x64[:8] = [0.0, -0.0, np.nan, np.inf, -np.inf, 5e-324, -(2.0**-1074) * 12345, 2.0**63]
    x32 = x64.astype(np.float32)
    for f in (FixedFormat(64, 20), FixedFormat(64, 64, signed=False)):
        ovs = [("WRAP", 0), ("SAT_SYM", 0), ("WRAP", 3)] + ([("WRAP_SM", 0), ("WRAP_SM", 2)] if f.signed else [])
        for i, q in enumerate(("TRN", "RND_CONV", "TO_ODD", "STOCHASTIC", "STOCHASTIC_EQUAL")):
            for j, (o, ns) in enumerate(ovs):
                x = (x64, x32)[(i + j) % 2]  # each mode and each overflow meets both dtypes
                for n in ((40, 62) if q.startswith("STOCH") else (0,)):
                    kw = {"random_bits": rng.integers(0, 2**n, x.shape, dtype=np.uint64), "n_random_bits": n} if n else {}
                    _same(lj.quantize(x, f, q, overflow=o, sat_bits=ns, **kw),
                          lowprec.quantize(x, f, q, overflow=o, sat_bits=ns, **kw), (str(f), q, o, ns, x.dtype, n))
    xb = rng.standard_normal((20, 48)) * 2.0 ** rng.integers(-20, 20, (20, 1))
    xb[3, 5], xb[4, :] = np.nan, 0.0
    modes = (("nearest_even", 0), ("stochastic", 32), ("stochastic", 45), ("toward_zero", 0))
    for i, name in enumerate(("nvfp4_ts", "nvfp4_2d", "mxfp4_rceil", "mxint8")):
        for j in (i, (i + 1) % 4):  # two modes a format, two formats a mode: each meets both dtypes
            q, n = modes[j]
            x = (xb, xb.astype(np.float32))[(i + j) % 2]
            kw = {"random_bits": lowprec.random_bits(3, x.shape, n), "n_random_bits": n} if n else {}
            _same(lj.quantize(x, name, q, **kw), blocks.quantize(x, name, None, q, **kw), (name, q, n, x.dtype))
    key = jax.random.key(1)
    bits = np.asarray(jax.random.bits(key, x32.shape, jnp.uint64) >> 24)  # n = 40
    f = FixedFormat(20, 4)
    _same(lj.quantize(x32, f, "STOCHASTIC", overflow="SAT", key=key, n_random_bits=40),
          lowprec.quantize(x32, f, "STOCHASTIC", overflow="SAT", random_bits=bits, n_random_bits=40), "key 40")
    print("OK")
    """
)


def test_x64_paths() -> None:
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    here = os.path.dirname(os.path.abspath(__file__))
    src = os.path.abspath(os.path.join(os.path.dirname(lowprec.__file__), os.pardir))
    env["PYTHONPATH"] = os.pathsep.join([src, here, env.get("PYTHONPATH", "")])
    r = subprocess.run(
        [sys.executable, "-c", _X64], env=env, capture_output=True, text=True, timeout=900, cwd=here
    )
    assert r.returncode == 0 and "OK" in r.stdout, r.stderr[-3000:]
