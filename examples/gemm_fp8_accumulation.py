"""FP8 GEMM accumulation on an H100-like tensor core, and DeepSeek-V3's promotion fix.

Inputs are quantized to e4m3; C = A @ B is computed with the ``h100_fp8`` profile (14 significant
bits kept on alignment, an FP22 accumulator, truncation) and with ``h100_fp8_promote128`` (partial
sums promoted to fp32 every 128 elements), and compared with the exact product. Two input
distributions: N(0, 1) (zero mean: the truncation errors of the products have random signs and
partly cancel) and U[0, 1) (``torch.rand``-like, non-negative: every truncation lowers the sum, so the
error grows linearly with K). Prints a table and writes a plot.

Run: ``PYTHONPATH=src python examples/gemm_fp8_accumulation.py [--small] [--out fp8.png]``
"""

from __future__ import annotations

import argparse

import numpy as np

from lowprec.ops import GemmProfile, matmul

DISTS = ("normal", "uniform")


def relative_errors(
    ks: list[int], m: int = 32, n: int = 32, seed: int = 0, dist: str = "normal"
) -> dict[str, list[float]]:
    """Max over outputs of |C - C_exact| / max|C_exact| for every K and profile.

    ``dist``: ``"normal"`` (N(0, 1) inputs) or ``"uniform"`` (U[0, 1) inputs).
    """
    if dist not in DISTS:
        raise ValueError(f"dist must be one of {DISTS}")
    rng = np.random.default_rng(seed)
    exact = GemmProfile.preset("exact").replace(a_format="float8_e4m3fn", out_format="float32")
    res: dict[str, list[float]] = {"h100_fp8": [], "h100_fp8_promote128": []}
    for k in ks:
        if dist == "normal":
            a, b = rng.standard_normal((m, k)), rng.standard_normal((k, n))
        else:
            a, b = rng.random((m, k)), rng.random((k, n))
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
    res = {d: relative_errors(ks, size, size, dist=d) for d in DISTS}
    print("| K | h100_fp8, N(0,1) | promote128, N(0,1) | h100_fp8, U[0,1) | promote128, U[0,1) |")
    print("|---|---|---|---|---|")
    for i, k in enumerate(ks):
        cells = [f"{res[d][p][i]:.3%}" for d in DISTS for p in ("h100_fp8", "h100_fp8_promote128")]
        print(f"| {k} | " + " | ".join(cells) + " |")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    labels = {"normal": "N(0,1)", "uniform": "U[0,1)"}
    for d, style in zip(DISTS, ("o-", "s--")):
        for name, errs in res[d].items():
            ax.loglog(ks, errs, style, label=f"{name}, {labels[d]}")
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_xlabel("K")
    ax.set_ylabel("max |C - exact| / max |exact|")
    ax.set_title("e4m3 GEMM on the H100 FP8 accumulator model")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
