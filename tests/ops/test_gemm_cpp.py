"""The C++ GEMM core (``matmul(..., backend="cpp")``) gives the Numba kernel's bits, for every option."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest

from lowprec import _cpp, quantize
from lowprec.ops import _gemm
from lowprec.ops._gemm_cpp import matmul_cpp
from lowprec.ops._profile import FP22, GemmProfile

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not _cpp.available()[0], reason=_cpp.available()[1])

SHAPES = [(1, 1, 1), (3, 1, 4), (2, 5, 1), (4, 37, 5), (3, 100, 6), (0, 3, 2), (2, 0, 3), (3, 4, 0)]


def assert_bits(got: object, want: object) -> None:
    """float64 bit patterns equal (so -0 != +0); NaNs compared by class only."""
    g = np.asarray(got, dtype=np.float64)
    w = np.asarray(want, dtype=np.float64)
    assert g.shape == w.shape
    gn, wn = np.isnan(g), np.isnan(w)
    np.testing.assert_array_equal(gn, wn)
    gb, wb = g[~gn].view(np.int64), w[~wn].view(np.int64)
    bad = np.flatnonzero(gb != wb)
    assert bad.size == 0, (
        f"{bad.size} of {gb.size} differ, first: cpp {g[~gn][bad[0]]!r} numba {w[~wn][bad[0]]!r}"
    )


def _check(a: np.ndarray, b: np.ndarray, prof: GemmProfile | str, c: object = None) -> None:
    want = _gemm.matmul(a, b, prof, c=c)
    assert_bits(matmul_cpp(a, b, prof, c=c), want)


def _random(rng: np.random.Generator, m: int, k: int, n: int, spread: int = 8) -> tuple:
    a = rng.standard_normal((m, k)) * 2.0 ** rng.integers(-spread, spread + 1, size=(m, k))
    b = rng.standard_normal((k, n)) * 2.0 ** rng.integers(-spread, spread + 1, size=(k, n))
    c = rng.standard_normal((m, n)) * 4.0
    return a, b, c


def _adversarial(rng: np.random.Generator, m: int, k: int, n: int) -> tuple:
    """Swamping (+-M plus ones), exact cancellation, ties at many precisions, wide exponents, Inf/NaN."""
    big = 2.0 ** rng.integers(10, 30)
    a = np.ones((m, k))
    a[:, 0] = big
    a[:, k // 2] = -big
    a[1::2, :] *= 2.0 ** rng.integers(-70, 70, size=(a[1::2, :].shape))
    b = np.ones((k, n))
    b[:, 1::3] = 2.0 ** -rng.integers(5, 30, size=(k, b[:, 1::3].shape[1]))
    b[: k // 2, 2::3] = -1.0
    b[:, 2::3] += 2.0**-24
    c = np.zeros((m, n))
    c[::2] = big
    c[1::2] = -(2.0 ** rng.integers(-140, 130, size=c[1::2].shape))
    if m > 2 and k > 3:
        a[2, 3] = np.inf
    if m > 3 and k > 2:
        a[3, 2] = np.nan
    return a, b, c


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("preset", GemmProfile.presets())
def test_presets_random(preset: str, shape: tuple) -> None:
    rng = np.random.default_rng(zlib.crc32(repr((preset, shape)).encode()))
    a, b, c = _random(rng, *shape)
    _check(a, b, preset)
    _check(a, b, preset, c=c)


@pytest.mark.parametrize("preset", GemmProfile.presets())
def test_presets_adversarial(preset: str) -> None:
    rng = np.random.default_rng(7)
    for shape in [(5, 64, 7), (4, 33, 6), (6, 130, 5)]:
        a, b, c = _adversarial(rng, *shape)
        _check(a, b, preset)
        _check(a, b, preset, c=c)
        _check(a * 2.0**100, b * 2.0**100, preset, c=c)  # overflow of acc / out
        _check(a * 2.0**-70, b * 2.0**-70, preset, c=c * 2.0**-140)  # subnormal and flushed sums


def _custom() -> list[GemmProfile]:
    g = GemmProfile
    return [
        g(block_size=2, extra_align_bits=0, block_rounding="toward_zero"),
        g(block_size=3, extra_align_bits=5, block_rounding="nearest_even"),
        g(block_size=5, extra_align_bits=-6, block_rounding="toward_positive"),
        g(block_size=7, extra_align_bits=22, block_rounding="toward_negative", a_format="bfloat16"),
        g(block_size=4, block_rounding="nearest_away"),  # unbounded alignment, exact block sums
        g(block_size=6, block_rounding="to_odd", a_format="float16", b_format="bfloat16"),
        g(block_size=1, block_rounding="toward_zero"),
        g(block_size=1, block_rounding="toward_negative", acc_format="bfloat16", a_format="bfloat16"),
        g(block_size=1, fused=False),
        g(block_size=4, extra_align_bits=1, fused=False, block_rounding="toward_zero", a_format="bfloat16"),
        g(block_size=3, fused=False, acc_format="float16", a_format="float16"),
        g(block_size=8, extra_align_bits=0, acc_format=FP22, a_format="float8_e4m3fn"),
        g(block_size=4, extra_align_bits=2, acc_format="float16", acc_subnormals=False, a_format="float16"),
        g(block_size=2, acc_format="bfloat16", acc_subnormals=False),
        g(block_size=4, extra_align_bits=0, promote_interval=3, block_rounding="toward_zero"),
        g(block_size=1, promote_interval=1, acc_format="bfloat16", promote_format="float16"),
        g(
            block_size=16,
            extra_align_bits=2,
            promote_interval=7,
            promote_format="bfloat16",
            a_format="bfloat16",
        ),
        g(split_k=2),
        g(split_k=3, reduce_order="tree", partial_format="bfloat16"),
        g(split_k=5, reduce_order="tree", block_size=4, extra_align_bits=1, block_rounding="toward_zero"),
        g(split_k=8, reduce_order="tree", partial_format="float16"),
        g(split_k=4, reduce_order="permutation", reduce_seed=3),
        g(split_k=7, reduce_order="permutation", reduce_seed=11, partial_format="bfloat16", block_size=2),
        g(split_k=3, reduce_order="sequential", promote_interval=4, block_size=2, extra_align_bits=3),
        g(out_format="bfloat16", out_rounding="toward_zero"),
        g(out_format="float16", out_rounding="toward_positive", block_size=4, extra_align_bits=0),
        g(out_format="float8_e4m3fn", out_rounding="nearest_away"),
        g(out_format="float8_e5m2", out_rounding="to_odd", split_k=2, partial_format="float16"),
        g(out_format="float4_e2m1fn", out_rounding="toward_negative"),  # no Inf/NaN: saturation
        g(
            out_format="float8_e4m3fnuz",
            block_size=4,
            extra_align_bits=0,
            split_k=2,
            partial_format="float16",
        ),
        g(acc_format="float8_e5m2fnuz", block_size=2, a_format="float8_e4m3fn", promote_interval=3),
        g(exact=True, out_format="bfloat16", out_rounding="toward_negative"),
        g(exact=True, out_format="float16", a_format="float16"),
        g(acc_format="float16", block_size=32, extra_align_bits=3, a_format="float8_e5m2"),
    ]


@pytest.mark.parametrize("shape", [(1, 1, 1), (3, 1, 2), (4, 23, 5), (3, 70, 4), (2, 0, 2)],
                         ids=lambda s: "x".join(map(str, s)))  # fmt: skip
@pytest.mark.parametrize("prof", _custom(), ids=repr)
def test_custom_profiles(prof: GemmProfile, shape: tuple) -> None:
    rng = np.random.default_rng(zlib.crc32(repr((prof, shape)).encode()))
    a, b, c = _random(rng, *shape, spread=12)
    _check(a, b, prof)
    _check(a, b, prof, c=c)
    if shape[1] >= 4 and shape[0] >= 2:
        a, b, c = _adversarial(rng, *shape)
        _check(a, b, prof, c=c)
        _check(a * 2.0**60, b * 2.0**70, prof, c=c)


@pytest.mark.parametrize("preset", ["ieee_fp32_sequential", "h100_bf16", "exact"])
def test_vector_operands_and_broadcast_c(preset: str) -> None:
    rng = np.random.default_rng(1)
    a, b, _ = _random(rng, 3, 9, 4)
    _check(a[0], b, preset)
    _check(a, b[:, 0], preset)
    _check(a[0], b[:, 0], preset)
    _check(a, b, preset, c=np.float64(0.75))
    _check(a, b, preset, c=rng.standard_normal(4))


def test_signed_zeros() -> None:
    a = np.array([[-0.0, 1.0, -1.0], [0.0, -0.0, 0.0]])
    b = np.array([[0.0, -1.0], [-0.0, 0.0], [0.0, 1.0]])
    for prof in ["ieee_fp32_sequential", "h100_bf16", "exact",
                 GemmProfile(block_size=3, block_rounding="toward_negative"),
                 GemmProfile(block_size=1, block_rounding="toward_negative")]:  # fmt: skip
        for c in (None, -0.0, np.array([[-0.0, 0.0], [0.0, -0.0]])):
            _check(a, b, prof, c=c)


def test_against_fraction_model() -> None:
    """Independently of the Numba kernel: the Fraction oracle of tests/ops/test_gemm.py."""
    from test_gemm import model  # tests/ops is on sys.path (rootdir conftest)

    rng = np.random.default_rng(5)
    for prof in [GemmProfile.preset("h100_fp8_promote128").replace(promote_interval=5, block_size=4),
                 GemmProfile(split_k=3, reduce_order="tree", block_size=2, extra_align_bits=0,
                             block_rounding="toward_zero", partial_format="bfloat16")]:  # fmt: skip
        a, b, c = _random(rng, 3, 13, 2)
        assert_bits(matmul_cpp(a, b, prof, c=c), model(a, b, prof, c))


def test_backend_keyword() -> None:
    import lowprec

    rng = np.random.default_rng(2)
    a, b, c = _random(rng, 4, 19, 3)
    want = lowprec.matmul(a, b, "h100_fp8", c=c, backend="numba")
    assert_bits(lowprec.matmul(a, b, "h100_fp8", c=c, backend="cpp"), want)
    assert_bits(lowprec.matmul(a, b, "h100_fp8", c=c, backend="auto"), want)
    with pytest.raises(ValueError, match="backend"):
        lowprec.matmul(a, b, "h100_fp8", backend="cuda")


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="align"):
        matmul_cpp(np.ones((2, 3)), np.ones((2, 3)), "exact")
    with pytest.raises(ValueError, match="1-d or 2-d"):
        matmul_cpp(np.ones((1, 2, 3)), np.ones((3, 1)), "exact")


@pytest.mark.parametrize(
    "prof", ["h100_fp8_promote128", "ieee_fp32_sequential", "exact", *_custom()[17:24]], ids=str
)
def test_cuda_gemm_matches_cpu(prof: object) -> None:
    if not _cpp.cuda_available()[0]:
        pytest.skip(_cpp.cuda_available()[1])
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA device")
    from lowprec.ops._gemm_cpp import gemm_args

    p = prof if isinstance(prof, GemmProfile) else GemmProfile.preset(prof)
    fa, fb, *_, fout = p.formats()
    rng = np.random.default_rng(3)
    a, b, c = _adversarial(rng, 6, 45, 7)
    aq = np.ascontiguousarray(quantize(a, fa))
    bt = np.ascontiguousarray(quantize(np.ascontiguousarray(b.T), fb))
    c0 = np.ascontiguousarray(quantize(c, fout))
    bounds = _gemm.split_bounds(45, p.split_k)
    order = (np.random.default_rng(p.reduce_seed).permutation(p.split_k) if p.reduce_order == "permutation"
             else np.arange(p.split_k)).astype(np.int64)  # fmt: skip
    want = matmul_cpp(a, b, p, c=c)
    d = [torch.from_numpy(x).cuda() for x in (aq, bt, c0, bounds, order)]
    out = torch.empty((6, 7), dtype=torch.float64, device="cuda")
    formats, ints, hi = gemm_args(p)
    stream = torch.cuda.current_stream().cuda_stream
    _cpp.cuda_module().gemm(d[0].data_ptr(), d[1].data_ptr(), d[2].data_ptr(), out.data_ptr(), 6, 7, 45,
                            d[3].data_ptr(), d[4].data_ptr(), p.split_k, formats, ints, hi, stream)  # fmt: skip
    torch.cuda.synchronize()
    assert_bits(out.cpu().numpy(), want)
