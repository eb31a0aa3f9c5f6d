"""Emulated GEMM throughput per preset (MMAC/s), next to NumPy float32 matmul and pychop.

Run: ``PYTHONPATH=src python benchmarks/bench_gemm.py [--n 512]``; prints a markdown table.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from lowprec.ops import GemmProfile, matmul


def _time(fn, repeat: int = 1) -> float:
    fn()  # warm-up (compilation)
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--presets", default="", help="comma-separated preset names (default: all)")
    ap.add_argument("--no-peers", action="store_true", help="skip NumPy and pychop")
    ap.add_argument("--repeat", type=int, default=1, help="timed runs per preset (best is kept)")
    args = ap.parse_args()
    names = [p for p in args.presets.split(",") if p] or list(GemmProfile.presets())
    n = args.n
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n))
    b = rng.standard_normal((n, n))
    macs = n**3 / 1e6
    rows = []
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    if not args.no_peers:
        rows.append(("numpy float32 matmul (BLAS, not emulated)", _time(lambda: a32 @ b32, 5)))
        try:
            import pychop

            ch = pychop.Chop(5, 10)
            rows.append(("pychop: chop(chop(A) @ chop(B)), fp16 (rounds the BLAS result once)",
                         _time(lambda: ch(ch(a) @ ch(b)), 3)))  # fmt: skip
        except Exception as exc:  # pragma: no cover - optional peer
            print(f"pychop skipped: {exc}")
    for name in names:
        rows.append(
            (f"lowprec.ops.matmul `{name}`", _time(lambda name=name: matmul(a, b, name), args.repeat))
        )
    print(f"\n{n}x{n}x{n} GEMM, {macs:.0f} MMAC\n")
    print("| implementation | time (s) | MMAC/s |")
    print("|---|---|---|")
    for label, t in rows:
        print(f"| {label} | {t:.3f} | {macs / t:,.0f} |")


if __name__ == "__main__":
    main()
