"""FP8 GEMM accumulation on an H100-like tensor core, and DeepSeek-V3's promotion fix.

Inputs ~ N(0, 1) are quantized to e4m3; C = A @ B is computed with the ``h100_fp8`` profile
(14 significant bits kept on alignment) and with ``h100_fp8_promote128`` (partial sums promoted to
fp32 every 128 elements), and compared with the exact product. Prints a table and writes a plot.

Run: ``PYTHONPATH=src python examples/gemm_fp8_accumulation.py [--small] [--out fp8.png]``
"""

from __future__ import annotations

import argparse

import numpy as np

from lowprec.ops import GemmProfile, matmul


def relative_errors(ks: list[int], m: int = 32, n: int = 32, seed: int = 0) -> dict[str, list[float]]:
    """Max over outputs of |C - C_exact| / max|C_exact| for every K and profile."""
    rng = np.random.default_rng(seed)
    exact = GemmProfile.preset("exact").replace(a_format="float8_e4m3fn", out_format="float32")
    res: dict[str, list[float]] = {"h100_fp8": [], "h100_fp8_promote128": []}
    for k in ks:
        a = rng.standard_normal((m, k))
        b = rng.standard_normal((k, n))
        ref = matmul(a, b, exact)
        scale = np.abs(ref).max()
        for name in res:
            c = matmul(a, b, name)
            res[name].append(float(np.abs(c - ref).max() / scale))
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", action="store_true", help="K up to 1024 and 16x16 outputs")
    ap.add_argument("--out", default="gemm_fp8_accumulation.png")
    args = ap.parse_args()
    ks = [128, 256, 512, 1024] if args.small else [128, 256, 512, 1024, 2048, 4096]
    size = 16 if args.small else 64
    res = relative_errors(ks, size, size)
    print("| K | h100_fp8 rel. error | h100_fp8_promote128 rel. error |")
    print("|---|---|---|")
    for i, k in enumerate(ks):
        print(f"| {k} | {res['h100_fp8'][i]:.3%} | {res['h100_fp8_promote128'][i]:.4%} |")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for name, errs in res.items():
        ax.loglog(ks, errs, "o-", label=name)
    ax.set_xlabel("K")
    ax.set_ylabel("max |C - exact| / max |exact|")
    ax.set_title("e4m3 GEMM, N(0,1) inputs")
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
