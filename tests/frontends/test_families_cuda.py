"""The CUDA path of ``lowprec::quantize_ext`` (``lowprec.torch._families_cuda``) without a GPU.

``launch`` runs on CPU tensors with a stand-in for ``lowprec._C_cuda`` whose functions take the
same arguments (checked against the built module's signatures when it is built) and forward the
host pointers to the host build ``lowprec._C``, which runs the same header-only rules. Its results
must equal the op's CPU path bit for bit: values, clipped-estimator masks, seeded and explicit
random bits, every input dtype. The GPU itself runs these rules in tests/backends (when a device
is present).
"""

from __future__ import annotations

import ctypes
import inspect
import json
import re

import numpy as np
import pytest

import lowprec
from lowprec import FixedFormat
from lowprec.formats import IntFormat

torch = pytest.importorskip("torch")
from lowprec.torch import _families, _families_cuda  # noqa: E402

if not lowprec.backends()["cpp"][0]:
    pytest.skip("lowprec._C is not built", allow_module_level=True)
from lowprec import _cpp  # noqa: E402

_UINT = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}
_FLOAT = {4: np.float32, 8: np.float64}


def _view(ptr: int, nbytes_each: int, count: int, table: dict) -> np.ndarray:
    raw = (ctypes.c_uint8 * (nbytes_each * count)).from_address(ptr)
    return np.ctypeslib.as_array(raw).view(table[nbytes_each])


class HostCuda:
    """``lowprec._C_cuda``'s fixed_quantize and block_run on host pointers, run by ``lowprec._C``."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def fixed_quantize(self, x, x_bytes, out, out_bytes, count, fixed, rounding, overflow, seed=0, start=0, n=0,
                       stream=0, random_bits=0, random_bits_bytes=0):  # fmt: skip
        self.calls.append("fixed_quantize")
        assert stream == 0
        rb = _view(random_bits, random_bits_bytes, count, _UINT) if random_bits else None
        _cpp.module().fixed_quantize(_view(x, x_bytes, count, _FLOAT), _view(out, out_bytes, count, _FLOAT), fixed,
                                     rounding, overflow, seed=seed, start=start, random_bits=rb, n=n)  # fmt: skip

    def block_run(self, x, x_bytes, geometry, elem, scale, block, mode, vals=0, vals_bytes=0, codes=0, code_bytes=0,
                  scales=0, seed=0, n=0, stream=0, random_bits=0, random_bits_bytes=0):  # fmt: skip
        self.calls.append("block_run")
        count = int(np.prod(geometry[:5]))
        p, l1, q, l2, r, b1, b2 = geometry
        nblocks = p * -(-l1 // b1) * q * -(-l2 // b2) * r
        kw = {
            "vals": _view(vals, vals_bytes, count, _FLOAT) if vals else None,
            "codes": _view(codes, code_bytes, count, _UINT) if codes else None,
            "scales": _view(scales, 1, nblocks, _UINT) if scales else None,
            "random_bits": _view(random_bits, random_bits_bytes, count, _UINT) if random_bits else None,
        }
        _cpp.module().block_run(_view(x, x_bytes, count, _FLOAT), geometry=geometry, elem=elem, scale=scale,
                                block=block, mode=mode, seed=seed, n=n, **kw)  # fmt: skip


def _doc_names(fn: object) -> list[str]:
    head = (fn.__doc__ or "").splitlines()[0]
    return re.findall(r"(\w+): ", head[head.index("(") + 1 :])


@pytest.mark.parametrize("name", ["fixed_quantize", "block_run"])
def test_stand_in_has_the_cuda_signatures(name: str) -> None:
    mod, why = _cpp._import("_C_cuda")
    if mod is None:
        pytest.skip(f"lowprec._C_cuda is not built ({why})")
    want = _doc_names(getattr(mod, name))
    assert want, getattr(mod, name).__doc__
    assert list(inspect.signature(getattr(HostCuda, name)).parameters)[1:] == want


def _bits(t: torch.Tensor) -> np.ndarray:
    return t.view({2: torch.int16, 4: torch.int32, 8: torch.int64}[t.element_size()]).numpy()


def _x(dtype: torch.dtype, shape=(6, 40)) -> torch.Tensor:
    x = (np.random.default_rng(5).standard_normal(shape) * 6.0).astype(np.float32)
    x.flat[:8] = [0.0, -0.0, np.nan, np.inf, -np.inf, 1e-30, 3e38, -0.1875]
    return torch.from_numpy(x).to(dtype)


_CASES = [
    ("fixed", FixedFormat(8, 3), "RND_CONV", "SAT", {}),
    ("fixed", FixedFormat(8, 3), "STOCHASTIC", "WRAP", {}),
    ("fixed", FixedFormat(40, 20), "TRN", "SAT_SYM", {}),
    ("fixed", FixedFormat(12, 4, signed=False), "RND_INF", "WRAP", {"sat_bits": 2}),
    ("int", IntFormat(8), "RND", "SAT", {}),
    ("block", "mxfp4", "nearest_even", None, {}),
    ("block", "nvfp4_ts", "toward_positive", None, {}),
    ("block", "mxfp8_e4m3", "stochastic", None, {}),
    ("block", "nvfp4_2d", "nearest_away", None, {}),
    ("block", "bfp12", "to_odd", None, {"axis": 0}),
]


@pytest.mark.parametrize(("family", "fmt", "rounding", "overflow", "kw"), _CASES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_launch_equals_cpu_path(family, fmt, rounding, overflow, kw, dtype) -> None:
    _, f = _families.family_of(fmt)
    opts_s, stochastic = _families.options_json(family, f, rounding, overflow, kw)
    opts = json.loads(opts_s)
    x = _x(dtype)
    if family != "block" or overflow is not None:
        x = torch.nan_to_num(x, nan=0.0)  # fixed point: NaN gives NaN on both paths; keep the check simple
    inputs = [(None, None)]
    if stochastic:
        rb = torch.from_numpy(lowprec.random_bits(9, tuple(x.shape), 20).astype(np.int64))
        inputs = [(torch.tensor(123456789), None), (None, rb)]
    for seed, rbits in inputs:
        n = 20 if stochastic else 0
        want, want_keep = _families._run_cpu(x, family, f, opts, seed, rbits, n, True)
        mod = HostCuda()
        s = None if seed is None else int(seed.item())
        got, keep = _families_cuda.launch(mod, x, family, f, opts, s, rbits, n, True, 0)
        assert mod.calls
        assert got.dtype == want.dtype and got.shape == want.shape
        gb, wb = _bits(got), _bits(want)
        nan = torch.isnan(want).numpy()
        assert np.array_equal(torch.isnan(got).numpy(), nan)
        assert np.array_equal(gb[~nan], wb[~nan]), (family, fmt, rounding, dtype)
        assert torch.equal(keep, want_keep)
        got2, keep2 = _families_cuda.launch(HostCuda(), x, family, f, opts, s, rbits, n, False, 0)
        assert torch.equal(got2.view(torch.uint8), got.view(torch.uint8)) and keep2.numel() == 0


def test_launch_checks_what_the_cpu_path_checks() -> None:
    _, f = _families.family_of("nvfp4")
    opts = json.loads(_families.options_json("block", f, "stochastic", None, {})[0])
    x = _x(torch.float32)
    with pytest.raises(ValueError, match="at most 50"):
        _families_cuda.launch(HostCuda(), x, "block", f, opts, 1, None, 51, False, 0)
    rb = torch.full(x.shape, 1 << 20, dtype=torch.int64)
    with pytest.raises(ValueError, match=r"\[0, 2\*\*20\)"):
        _families_cuda.launch(HostCuda(), x, "block", f, opts, None, rb, 20, False, 0)


def test_empty_tensor() -> None:
    _, f = _families.family_of("mxfp4")
    opts = json.loads(_families.options_json("block", f, "nearest_even", None, {})[0])
    mod = HostCuda()
    got, _ = _families_cuda.launch(mod, torch.zeros(0, 32), "block", f, opts, None, None, 0, False, 0)
    assert got.shape == (0, 32) and not mod.calls


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_narrow_rounds_once_as_numpy(dtype) -> None:
    from lowprec._narrow import narrow as np_narrow

    rng = np.random.default_rng(2)
    mid = np.ldexp(1.0 + (2 * rng.integers(0, 1 << 10, 3000) + 1) / 2.0**11, rng.integers(-30, 16, 3000))
    v = np.concatenate([mid, mid * (1 + 2.0**-30), mid * (1 - 2.0**-30), [0.0, -0.0, np.inf, np.nan, 1e300]])
    got = _families_cuda.narrow(torch.from_numpy(v), dtype)
    npd = np.float16 if dtype == torch.float16 else __import__("ml_dtypes").bfloat16
    with np.errstate(over="ignore"):
        want = np_narrow(v, npd).view(np.int16)
    nan = torch.isnan(got).numpy()
    assert np.array_equal(nan, np.isnan(v))  # NaN compared by class
    assert np.array_equal(got.view(torch.int16).numpy()[~nan], want[~nan])
    assert not torch.equal(
        torch.from_numpy(v).to(dtype).view(torch.int16), got.view(torch.int16)
    )  # torch rounds twice


def test_launch_rounds_16bit_values_once() -> None:
    """nvfp4_ts on float16 data where rounding the values through float32 differs."""
    x = torch.from_numpy((np.random.default_rng(30).standard_normal((8, 64)) * 3).astype(np.float16))
    _, f = _families.family_of("nvfp4_ts")
    opts = json.loads(_families.options_json("block", f, "nearest_even", None, {})[0])
    want, _ = _families._run_cpu(x, "block", f, opts, None, None, 0, False)
    got, _ = _families_cuda.launch(HostCuda(), x, "block", f, opts, None, None, 0, False, 0)
    assert torch.equal(got.view(torch.int16), want.view(torch.int16))
    v64 = torch.from_numpy(lowprec.quantize(x.double().numpy(), "nvfp4_ts"))
    assert not torch.equal(v64.to(torch.float16).view(torch.int16), want.view(torch.int16))
