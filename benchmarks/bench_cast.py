"""Cast throughput of lowprec and its peers, as ratios to ``np.copyto`` of the same array.

Run ``python benchmarks/bench_cast.py [--size N] [--write]``. Every row rounds the same float32
array (or float64 for the float64 rows) and returns values of the input dtype; the ratio is
time / time of a single-threaded ``np.copyto`` into a preallocated array of the same size and
dtype (lower is better, 1.0 = memory-copy speed). Slow peers run on a 1/16 slice and are
compared with the copy of that slice. ``--write`` rewrites ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import os
import platform
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

import lowprec

FORMATS = ["bfloat16", "float16", "float8_e4m3fn", "float8_e5m2", "float4_e2m1fn", "e3m6"]
MODES = ["nearest_even", "toward_zero", "stochastic"]
E3M6 = lowprec.FloatFormat(3, 6, name="e3m6")
MARKER = "<!-- analysis: kept by --write -->"


def _fmt(name: str) -> lowprec.FloatFormat:
    return E3M6 if name == "e3m6" else lowprec.get_format(name)


def best_time(fn: Callable[[], object], repeat: int = 5, budget: float = 4.0) -> float:
    """Best wall time of ``fn`` over ``repeat`` runs (fewer if one run exceeds the budget)."""
    fn()  # warm-up (JIT, caches)
    times = []
    start = time.perf_counter()
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if time.perf_counter() - start > budget:
            break
    return min(times)


def copy_time(x: np.ndarray) -> float:
    out = np.empty_like(x)
    return best_time(lambda: np.copyto(out, x), repeat=10)


class Copy:
    """The copy baseline of one array, timed again next to each row: this VM's memory speed drifts
    by tens of percent within a run, so a ratio takes the copy measured just before its row."""

    def __init__(self, x: np.ndarray) -> None:
        self.x, self.out, self.times = x, np.empty_like(x), []

    def __call__(self) -> float:
        t = best_time(lambda: np.copyto(self.out, self.x), repeat=5)
        self.times.append(t)
        return t

    def span(self) -> tuple[float, float, float]:
        """(min, median, max) of the copy times measured so far."""
        return float(np.min(self.times)), float(np.median(self.times)), float(np.max(self.times))


def peak_extra_memory(fn: Callable[[], object], nbytes: int) -> float:
    """Peak NumPy allocation of one call, as a fraction of the input size (output included)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    r = fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del r
    return peak / nbytes


def peers(x: np.ndarray, fmt_name: str, mode: str) -> dict[str, Callable[[], object]]:
    """Peer implementations that exist for this (format, mode); missing packages are skipped."""
    out: dict[str, Callable[[], object]] = {}
    try:
        import ml_dtypes

        if mode == "nearest_even" and fmt_name != "e3m6":
            dt = np.float16 if fmt_name == "float16" else getattr(ml_dtypes, fmt_name)
            out["ml_dtypes astype"] = lambda: x.astype(dt).astype(x.dtype)
    except ImportError:
        pass
    try:
        import torch

        tdt = {
            "bfloat16": torch.bfloat16,
            "float16": torch.float16,
            "float8_e4m3fn": torch.float8_e4m3fn,
            "float8_e5m2": torch.float8_e5m2,
        }.get(fmt_name)
        if mode == "nearest_even" and tdt is not None:
            t = torch.from_numpy(x)
            out["torch .to() native"] = lambda: t.to(tdt).to(t.dtype)
    except ImportError:
        pass
    f = _fmt(fmt_name)
    kw = {"seed": 1} if mode == "stochastic" else {}
    try:
        import torch

        import lowprec.torch as lt

        t = torch.from_numpy(x)
        out["lowprec.torch (CPU)"] = lambda: lt.quantize(t, f, mode, **kw)
    except ImportError:
        pass
    try:
        import jax
        import jax.numpy as jnp

        import lowprec.jax as lj

        xj = jnp.asarray(x)
        jkw = {"key": jax.random.key(1)} if mode == "stochastic" else {}
        fj = jax.jit(lambda v: lj.quantize(v, f, mode, **jkw))
        out["lowprec.jax (jit, CPU)"] = lambda: fj(xj).block_until_ready()
        if fmt_name == FORMATS[0] and mode == MODES[0]:
            cj = jax.jit(lambda v: v * jnp.float32(1.0) + jnp.float32(0.0))
            out["jax jit copy (v*1+0), for scale"] = lambda: cj(xj).block_until_ready()
    except ImportError:
        pass
    try:
        import torch
        from qtorch.quant import float_quantize

        if (
            fmt_name in ("bfloat16", "float16", "e3m6", "float8_e4m3fn", "float8_e5m2")
            and mode != "toward_zero"
        ):
            t = torch.from_numpy(x)
            qm = "nearest" if mode == "nearest_even" else "stochastic"
            out["qtorch float_quantize"] = lambda: float_quantize(t, exp=f.ebits, man=f.mbits, rounding=qm)
    except Exception:
        pass
    return out


def slow_peers(x: np.ndarray, fmt_name: str, mode: str) -> dict[str, Callable[[], object]]:
    out: dict[str, Callable[[], object]] = {}
    f = _fmt(fmt_name)
    try:
        from pychop import Chop

        rmode = {"nearest_even": 1, "toward_zero": 4, "stochastic": 5}[mode]
        ch = Chop(exp_bits=f.ebits, sig_bits=f.mbits, rmode=rmode)
        out["Pychop 0.6.2 Chop"] = lambda: ch(x)
    except Exception:
        pass
    try:
        from gfloat import RoundMode, round_ndarray
        from gfloat.formats import format_info_ocp_e4m3

        if fmt_name == "float8_e4m3fn" and mode == "nearest_even":
            out["gfloat round_ndarray"] = lambda: round_ndarray(format_info_ocp_e4m3, x, RoundMode.TiesToEven)
    except Exception:
        pass
    return out


def run(size: int) -> tuple[list[tuple], dict]:
    rng = np.random.default_rng(0)
    x32 = (rng.standard_normal(size) * 4).astype(np.float32)
    x64 = x32.astype(np.float64) * (1 + 2.0**-30)
    small32 = x32[: max(size // 16, 1 << 16)].copy()
    c32, c64, csmall = Copy(x32), Copy(x64), Copy(small32)
    rows = []
    memory = {}
    o32, o64 = np.empty_like(x32), np.empty_like(x64)  # for the out= timings (a copy's setting)
    backends = ["numba"] + (["cpp"] if lowprec.backends()["cpp"][0] else [])

    def own(row: tuple, fn: Callable[..., object], out: np.ndarray, copy: Copy) -> tuple:
        """A lowprec row ``(format, mode, input, implementation, ...)``: allocating, and into a
        preallocated ``out`` as np.copyto does."""
        c = copy()
        t = best_time(fn)
        t_out = best_time(lambda: fn(out=out))
        return (*row, t, t / c, t_out / c)

    for fmt_name in FORMATS:
        f = _fmt(fmt_name)
        for mode in MODES:
            kw = {"seed": 1} if mode == "stochastic" else {}
            for be in backends:
                fn = functools.partial(lowprec.quantize, x32, f, mode, backend=be, **kw)
                rows.append(own((fmt_name, mode, "float32", f"lowprec ({be})"), fn, o32, c32))
            fn = functools.partial(lowprec.quantize, x64, f, mode, **kw)
            rows.append(own((fmt_name, mode, "float64", "lowprec (numba)"), fn, o64, c64))
            for name, fn in peers(x32, fmt_name, mode).items():
                c = c32()
                t = best_time(fn)
                rows.append((fmt_name, mode, "float32", name, t, t / c))
            for name, fn in slow_peers(small32, fmt_name, mode).items():
                c = csmall()
                t = best_time(fn, repeat=2, budget=2.0)
                rows.append((fmt_name, mode, "float32 (1/16)", name, t, t / c))
        memory[fmt_name] = peak_extra_memory(
            lambda: lowprec.quantize(x32, f, "stochastic", seed=1), x32.nbytes
        )
    # other families through the same public entry point
    fixed = lowprec.FixedFormat(8, 3)
    family_rows = [
        ("mxfp4 (axis -1)", "nearest_even",
         lambda be, **o: lowprec.quantize(x32, "mxfp4", axis=-1, backend=be, **o)),
        ("nvfp4 (axis -1)", "nearest_even",
         lambda be, **o: lowprec.quantize(x32, "nvfp4", axis=-1, backend=be, **o)),
        ("mxfp8_e4m3 (axis -1)", "nearest_even",
         lambda be, **o: lowprec.quantize(x32, "mxfp8_e4m3", axis=-1, backend=be, **o)),
        ("mxfp4 (axis -1)", "stochastic",
         lambda be, **o: lowprec.quantize(x32, "mxfp4", "stochastic", axis=-1, seed=1, backend=be, **o)),
        ("nvfp4 (axis -1)", "stochastic",
         lambda be, **o: lowprec.quantize(x32, "nvfp4", "stochastic", axis=-1, seed=1, backend=be, **o)),
        ("nvfp4_ts (axis -1)", "nearest_even",
         lambda be, **o: lowprec.quantize(x32, "nvfp4_ts", axis=-1, backend=be, **o)),
        ("nvfp4_ts (axis -1)", "stochastic",
         lambda be, **o: lowprec.quantize(x32, "nvfp4_ts", "stochastic", axis=-1, seed=1, backend=be, **o)),
        ("ap_fixed<8,3> SAT", "RND_CONV",
         lambda be, **o: lowprec.quantize(x32, fixed, "RND_CONV", overflow="SAT", backend=be, **o)),
        ("ap_fixed<8,3> WRAP", "TRN",
         lambda be, **o: lowprec.quantize(x32, fixed, "TRN", overflow="WRAP", backend=be, **o)),
        ("ap_fixed<8,3> SAT", "STOCHASTIC",
         lambda be, **o: lowprec.quantize(x32, fixed, "STOCHASTIC", overflow="SAT", seed=1, backend=be, **o)),
    ]  # fmt: skip
    for name, mode, fn in family_rows:
        # "auto" picks the C++ kernels or Numba per call (docs/block_formats.md, docs/fixed_point.md)
        for be in [*backends, "auto"]:
            rows.append(own((name, mode, "float32", f"lowprec ({be})"), functools.partial(fn, be), o32, c32))
    return rows, {"copy32": c32.span(), "copy64": c64.span(), "memory": memory}


def markdown(rows: list[tuple], info: dict, size: int, cold: float) -> str:
    import numba

    lines = [
        "# Benchmark results",
        "",
        f"Date: {datetime.date.today()}. Machine: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, numba threads {numba.get_num_threads()}, numpy {np.__version__}.",
        f"Array: {size:,} elements. `np.copyto` (single-threaded) float32: median {info['copy32'][1] * 1e3:.2f} ms "
        f"({info['copy32'][0] * 1e3:.2f}–{info['copy32'][2] * 1e3:.2f}), float64: median "
        f"{info['copy64'][1] * 1e3:.2f} ms ({info['copy64'][0] * 1e3:.2f}–{info['copy64'][2] * 1e3:.2f}). "
        "Ratio = time / the copy timed just before the row (lower is better).",
        f"Cold start (first quantize in a fresh process, Numba cache warm): {cold:.2f} s.",
        "",
        "Ratio with `out=`: the same call writing into a preallocated array, as `np.copyto` does "
        "(the allocating call also pays the kernel's first touch of fresh output pages).",
        "",
        "| format | rounding | input | implementation | ms | ratio to copy | ratio with `out=` |",
        "|---|---|---|---|---:|---:|---:|",
    ]
    for fmt_name, mode, dtype, impl, t, ratio, *rest in rows:
        r_out = f"{rest[0]:.2f}" if rest else "–"
        lines.append(f"| {fmt_name} | {mode} | {dtype} | {impl} | {t * 1e3:.2f} | {ratio:.2f} | {r_out} |")
    lines += [
        "",
        "Peak NumPy memory of one stochastic float32 cast, as a multiple of the input size (the output "
        "array is 1.0): " + ", ".join(f"{k} {v:.2f}" for k, v in info["memory"].items()) + ".",
    ]
    return "\n".join(lines) + "\n"


def cold_start() -> float:
    import subprocess
    import sys

    code = (
        "import time; t=time.perf_counter(); import numpy as np, lowprec; "
        "lowprec.quantize(np.ones(8, np.float32), 'bfloat16'); print(time.perf_counter()-t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", type=int, default=16 * 2**20)
    ap.add_argument("--write", action="store_true", help="rewrite benchmarks/RESULTS.md")
    args = ap.parse_args()
    cold = cold_start()
    rows, info = run(args.size)
    md = markdown(rows, info, args.size, cold)
    print(md)
    if args.write:
        path = os.path.join(os.path.dirname(__file__), "RESULTS.md")
        kept = ""
        if os.path.exists(path):  # keep the hand-written sections after the marker
            with open(path) as fh:
                old = fh.read()
            if MARKER in old:
                kept = old[old.index(MARKER) :]
        with open(path, "w") as fh:
            fh.write(md + "\n" + kept)


if __name__ == "__main__":
    main()
