"""The hardware-FMA float32 chain (``ops._gemm_fma``) gives the emulation's bits, and steps aside when it must."""

from __future__ import annotations

import platform

import numba
import numpy as np
import pytest
from gemmkit import run_kernel, wide_operands
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from lowprec import FloatFormat, quantize
from lowprec.ops import _gemm, _gemm_fma
from lowprec.ops._profile import GemmProfile

OUTS = [("float32", "nearest_even"), ("bfloat16", "toward_zero"), ("float16", "toward_positive")]


def _hw(prof: GemmProfile, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> tuple[bool, np.ndarray]:
    aq, bt, c0, out, *_ = _gemm.gemm_operands(a, b, c, prof)
    ran = _gemm._run_hw_chain(aq, bt, c0, out, prof.formats()[5], prof, 1)
    return ran, out


@pytest.mark.parametrize("out", OUTS, ids=[o[0] for o in OUTS])
def test_chain_bits_equal_emulation(out: tuple) -> None:
    """Overflow, float32 subnormal sums, exact cancellation, ties, Inf/NaN; ragged row and column tiles."""
    prof = GemmProfile(out_format=out[0], out_rounding=out[1])
    rng = np.random.default_rng(17)
    cases = [wide_operands(rng, m, k, n) for m, k, n in [(6, 40, 7), (5, 67, 300), (9, 6, 33)]]
    cases.append(tuple(rng.standard_normal(s) for s in [(1, 1), (1, 2), (1, 2)]))
    for a, b, c in cases:
        ran, got = _hw(prof, a, b, c)
        assert ran
        np.testing.assert_array_equal(got.view(np.int64), run_kernel(prof, a, b, c, True).view(np.int64))
        np.testing.assert_array_equal(got.view(np.int64), run_kernel(prof, a, b, c, False).view(np.int64))


def test_matmul_takes_chain_only_where_it_applies(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = _gemm._run_hw_chain
    monkeypatch.setattr(_gemm, "_run_hw_chain", lambda *a: calls.append(1) or real(*a))
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((3, 9)), rng.standard_normal((9, 4))
    _gemm.matmul(a, b, "ieee_fp32_sequential")
    assert calls == [1]
    for prof in [
        GemmProfile(block_rounding="toward_zero"),
        GemmProfile(split_k=2),
        GemmProfile(acc_format="bfloat16"),
        GemmProfile(acc_subnormals=False),
        GemmProfile(fused=False),
        GemmProfile(promote_interval=4),
        GemmProfile.preset("a100_tf32"),
        GemmProfile.preset("exact"),
    ]:
        _gemm.matmul(a, b, prof)
    assert calls == [1]
    # an addend rounded to a 30-bit output format is not float32: the emulation is used
    prof = GemmProfile(out_format=FloatFormat(8, 30))
    c = rng.standard_normal((3, 4))
    ran, _ = _hw(prof, a, b, c)
    assert not ran
    assert _hw(prof, a, b, quantize(c, "float32"))[0]


@intrinsic
def _swap_mxcsr(typingctx, new):  # type: ignore[no-untyped-def]
    """Set the x86 MXCSR control word to ``new``; returns the old one."""
    if not isinstance(new, types.Integer):
        return None

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        i32, i8p = ir.IntType(32), ir.IntType(8).as_pointer()
        fnty = ir.FunctionType(ir.VoidType(), [i8p])
        st = cgutils.get_or_insert_function(builder.module, fnty, "llvm.x86.sse.stmxcsr")
        ld = cgutils.get_or_insert_function(builder.module, fnty, "llvm.x86.sse.ldmxcsr")
        old, nv = cgutils.alloca_once(builder, i32), cgutils.alloca_once(builder, i32)
        builder.call(st, [builder.bitcast(old, i8p)])
        builder.store(builder.trunc(args[0], i32), nv)
        builder.call(ld, [builder.bitcast(nv, i8p)])
        return builder.zext(builder.load(old), ir.IntType(64))

    return types.int64(types.int64), codegen


@numba.njit
def _set_mxcsr(word):  # type: ignore[no-untyped-def]
    return _swap_mxcsr(word)


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="MXCSR is x86")
def test_flush_to_zero_thread_uses_emulation() -> None:
    """With FTZ/DAZ set (as some libraries do) the hardware chain declines and matmul stays exact."""
    rng = np.random.default_rng(29)
    a, b, c = wide_operands(rng, 5, 40, 9)
    prof = GemmProfile()
    want = run_kernel(prof, a, b, c, True)
    aq, bt, c0, out, *_ = _gemm.gemm_operands(a, b, c, prof)
    a32, b32, c32 = (_gemm_fma.fits_float32(x) for x in (aq, bt.T, c0))
    args = (
        a32,
        b32,
        c32,
        out,
        _gemm._params(prof.formats()[5]),
        0,
        0,
        np.float32(2.0**-100),
        np.float32(2.0**40),
    )
    assert _gemm_fma.chain_kernel(0, 5, *args) == 0
    old = _set_mxcsr(np.int64(0x1F80 | 0x8040))  # all exceptions masked, FTZ and DAZ
    try:
        flag = _gemm_fma.chain_kernel(0, 5, *args)
        got = _gemm.matmul(a, b, prof, c=c)
    finally:
        _set_mxcsr(old)
    assert flag == 1
    assert (np.abs(want[np.isfinite(want)]) < 2.0**-126).any()  # the data has subnormal results
    np.testing.assert_array_equal(got.view(np.int64), want.view(np.int64))
