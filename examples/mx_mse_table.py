"""Relative MSE of MXFP4 quantization schemes on N(0, 1) groups of 32 (Quartet, Table 2 style).

Run: ``PYTHONPATH=src python examples/mx_mse_table.py [groups]``. Prints one row per scheme:
``mean((q - x)**2) / mean(x**2)`` over ``groups`` groups of 32 standard normal values.

- RTN-absmax / SR-absmax: Quartet's absmax quantizer (Tseng et al.): scale
  ``s = 2**(floor(log2 amax) - 2) * 4/3`` (the OCP floor exponent of the block, times 4/3, so
  stochastic rounding never overflows), elements ``Q(x / s)`` rounded to E2M1.
- RTN OCP floor / RTN RCEIL: plain MXFP4 with the two scale rules.
- NVFP4 and Hadamard rows for comparison.
"""

from __future__ import annotations

import sys

import numpy as np

import lowprec
from lowprec import blocks


def absmax(x: np.ndarray, rounding: str, seed: int = 0) -> np.ndarray:
    """Quartet's absmax MXFP4 quantizer along the last axis (groups of 32)."""
    _, scales = blocks.encode(x, "mxfp4")  # E8M0 codes of the OCP floor scale 2**(E - 2)
    x_scale = np.exp2(np.repeat(scales.astype(np.float64) - 127, 32, axis=-1)) * (4 / 3)
    v = (x / x_scale).astype(np.float64)
    kw = {"seed": seed} if rounding == "stochastic" else {}
    return lowprec.quantize(v, "float4_e2m1fn", rounding, overflow="saturate", **kw) * x_scale


def mse_table(groups: int = 200_000, seed: int = 0) -> dict[str, float]:
    """The relative MSE of each scheme on ``groups`` x 32 N(0, 1) values (float32)."""
    x = np.random.default_rng(seed).standard_normal((groups, 32)).astype(np.float32)
    p = float(np.mean(x.astype(np.float64) ** 2))

    def rel(q: np.ndarray) -> float:
        return float(np.mean((q.astype(np.float64) - x) ** 2)) / p

    h = blocks.hadamard(x, 32, signs=1)
    return {
        "SR-absmax": rel(absmax(x, "stochastic", seed)),
        "RTN-absmax": rel(absmax(x, "nearest_even")),
        "RTN, OCP floor": rel(blocks.quantize(x, "mxfp4")),
        "RTN, RCEIL": rel(blocks.quantize(x, "mxfp4_rceil")),
        "RTN, EVEN": rel(blocks.quantize(x, "mxfp4_even")),
        "RTN, floor, Hadamard (inverted)": rel(
            blocks.hadamard(blocks.quantize(h, "mxfp4"), 32, signs=1, inverse=True)
        ),
        "NVFP4 (RTN, 16 + e4m3 scale)": rel(blocks.quantize(x, "nvfp4")),
    }


def main() -> None:
    groups = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    print(f"Relative MSE, MXFP4, {groups} groups of 32 N(0,1) values")
    print(f"{'scheme':<36} {'MSE':>8}")
    for k, v in mse_table(groups).items():
        print(f"{k:<36} {v:8.4f}")


if __name__ == "__main__":
    main()
