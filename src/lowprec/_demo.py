"""The ``lowprec demo`` precision study: harmonic-series stagnation and dot-product error growth.

Both experiments are recursive sums ``s <- round(s + term)``, which are inherently sequential;
each step is one :func:`lowprec.quantize` call on a small array that holds every independent run
(stochastic-rounding replicas, trials) at once. Deterministic runs stop at their stagnation
point: with a monotone rounding mode and non-increasing terms, once ``round(s + t_k) == s`` the sum
can never grow again, so the rest of the loop is known.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import TextIO

import numpy as np

EULER_GAMMA = 0.5772156649015329
HARMONIC_FORMATS = ("bfloat16", "float16", "float8_e4m3fn", "float8_e5m2")
HARMONIC_MODES = ("nearest_even", "nearest_away", "toward_zero", "stochastic")
DOT_FORMAT = "bfloat16"


@dataclasses.dataclass
class HarmonicRow:
    """One (format, rounding) run of the harmonic sum."""

    fmt: str
    rounding: str
    stagnation_k: int | None  #: first k whose term no longer changes the sum (None: still growing)
    last_growth_k: int  #: the last k whose term changed the sum (replica 0)
    final_sum: float  #: the sum after N terms (mean over replicas for stochastic rounding)
    final_std: float  #: standard deviation over replicas (0 for deterministic modes)
    trace_k: np.ndarray  #: checkpoints k
    trace_sum: np.ndarray  #: the sum at the checkpoints (replica 0)


@dataclasses.dataclass
class DotRow:
    """Relative error of a recursive-summation dot product at one length."""

    length: int
    rne: float  #: median relative error over trials, round to nearest even
    sr: float  #: same with stochastic rounding


@dataclasses.dataclass
class DemoResult:
    """Everything the demo computed, plus where the plot went."""

    n_terms: int
    harmonic: list[HarmonicRow]
    dot: list[DotRow]
    dot_format: str
    plot: Path | None
    seconds: float


def pick_backend() -> str:
    """The backend the demo runs on: the compiled C++ one when built (lowest per-call cost), else auto."""
    import lowprec

    return "cpp" if lowprec.backends().get("cpp", (False, ""))[0] else "auto"


def _progress(total: int, desc: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="step", leave=False, disable=None if enabled else True)


def harmonic_study(
    n_terms: int, *, replicas: int = 8, seed: int = 2024, backend: str = "auto", progress: bool = True
) -> list[HarmonicRow]:
    """Sum ``1/k`` for ``k = 1..n_terms`` in every format of :data:`HARMONIC_FORMATS` and mode.

    Terms are rounded to the format with the same mode; each addition is rounded once (the
    float64 sum of two format values is exact for these formats and magnitudes). Stochastic
    rounding runs ``replicas`` independent sums at once, with a fixed seed per step.
    """
    import lowprec

    k = np.arange(1, n_terms + 1, dtype=np.float64)
    checkpoints = np.unique(np.geomspace(1, n_terms, 200).astype(np.int64))
    rows: list[HarmonicRow] = []
    work = len(HARMONIC_FORMATS) * len(HARMONIC_MODES)
    with _progress(work * n_terms, "harmonic", progress) as bar:
        for fi, name in enumerate(HARMONIC_FORMATS):
            for mi, mode in enumerate(HARMONIC_MODES):
                stochastic = mode.startswith("stochastic")
                lanes = replicas if stochastic else 1
                base = seed + 1_000_003 * (fi * len(HARMONIC_MODES) + mi)
                extra = {"seed": base} if stochastic else {}
                terms = lowprec.quantize(
                    np.repeat((1.0 / k)[:, None], lanes, axis=1), name, mode, backend=backend, **extra
                )
                s = np.zeros(lanes)
                last_growth = 0
                trace = np.empty(len(checkpoints))
                ci = 0
                done = 0
                for step in range(n_terms):
                    if stochastic:
                        new = lowprec.quantize(
                            s + terms[step], name, mode, seed=base + step + 1, backend=backend
                        )
                    else:
                        new = lowprec.quantize(s + terms[step], name, mode, backend=backend)
                    if new[0] != s[0]:
                        last_growth = step + 1
                    elif not stochastic:
                        # monotone mode, non-increasing terms: the sum is stuck from here on
                        s = new
                        trace[ci:] = s[0]
                        break
                    s = new
                    while ci < len(checkpoints) and checkpoints[ci] == step + 1:
                        trace[ci] = s[0]
                        ci += 1
                    if (step + 1) % 512 == 0:
                        bar.update(512)
                        done += 512
                bar.update(n_terms - done)
                # SR that still grew in the second half of the run has not stagnated
                stagnation = None if last_growth > n_terms // 2 else last_growth + 1
                rows.append(
                    HarmonicRow(
                        name,
                        mode,
                        stagnation,
                        last_growth,
                        float(np.mean(s)),
                        float(np.std(s)) if stochastic else 0.0,
                        checkpoints,
                        trace,
                    )
                )
    return rows


def dot_study(
    lengths: list[int], *, trials: int = 8, seed: int = 7, backend: str = "auto", progress: bool = True
) -> list[DotRow]:
    """Relative error of ``sum(a_i * b_i)`` accumulated recursively in :data:`DOT_FORMAT`.

    ``a`` and ``b`` are uniform in [0, 1) and stored in the format; the products are rounded to
    nearest even in both runs, so the runs differ only in how the accumulation rounds (nearest
    even vs stochastic). The exact reference is the float64 running sum of the same products.
    """
    import lowprec

    n = max(lengths)
    rng = np.random.default_rng(seed)
    a = lowprec.quantize(rng.random((n, trials)), DOT_FORMAT, backend=backend)
    b = lowprec.quantize(rng.random((n, trials)), DOT_FORMAT, backend=backend)
    p = lowprec.quantize(a * b, DOT_FORMAT, backend=backend)
    exact = np.cumsum(p, axis=0)
    s_rne = np.zeros(trials)
    s_sr = np.zeros(trials)
    want = set(lengths)
    rows: list[DotRow] = []
    with _progress(n, f"dot product ({DOT_FORMAT})", progress) as bar:
        for i in range(n):
            s_rne = lowprec.quantize(s_rne + p[i], DOT_FORMAT, "nearest_even", backend=backend)
            s_sr = lowprec.quantize(s_sr + p[i], DOT_FORMAT, "stochastic", seed=seed + i, backend=backend)
            if i + 1 in want:
                ref = exact[i]
                rows.append(
                    DotRow(
                        i + 1,
                        float(np.median(np.abs(s_rne - ref) / ref)),
                        float(np.median(np.abs(s_sr - ref) / ref)),
                    )
                )
            if (i + 1) % 512 == 0:
                bar.update(512)
        bar.update(n % 512)
    return rows


def _fmt_k(row: HarmonicRow) -> str:
    if row.stagnation_k is None:
        return f"none (grew at {row.last_growth_k})"
    return str(row.stagnation_k)


def print_tables(res: DemoResult, out: TextIO) -> None:
    """The two result tables, as plain text."""
    n = res.n_terms
    exact = sum(1.0 / k for k in range(1, n + 1))
    print(
        f"Harmonic series sum_{{k=1}}^{{{n}}} 1/k  (exact {exact:.6f}; ln(N)+gamma = "
        f"{math.log(n) + EULER_GAMMA:.6f})",
        file=out,
    )
    print("stagnation k = first k whose term no longer changes the sum (replica 0 for stochastic)", file=out)
    head = (
        f"{'format':<16} {'rounding':<14} {'stagnation k':>22} {'final sum':>12} {'sr std':>9} {'rel err':>9}"
    )
    print(head, file=out)
    print("-" * len(head), file=out)
    for r in res.harmonic:
        std = f"{r.final_std:9.4f}" if r.rounding.startswith("stochastic") else f"{'':9}"
        print(
            f"{r.fmt:<16} {r.rounding:<14} {_fmt_k(r):>22} {r.final_sum:12.6g} {std} "
            f"{abs(r.final_sum - exact) / exact:9.2e}",
            file=out,
        )
    print("", file=out)
    print(
        f"Dot product of uniform [0,1) vectors, recursive summation in {res.dot_format} "
        "(median relative error over trials)",
        file=out,
    )
    head = f"{'length':>8} {'nearest_even':>14} {'stochastic':>14}"
    print(head, file=out)
    print("-" * len(head), file=out)
    for d in res.dot:
        print(f"{d.length:>8} {d.rne:14.3e} {d.sr:14.3e}", file=out)


def plot(res: DemoResult, path: Path) -> Path:
    """Two panels: harmonic partial sums per format/mode, and dot-product error vs length."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5))
    kk = np.arange(1, res.n_terms + 1)
    ax1.plot(kk, np.log(kk) + EULER_GAMMA, "k--", lw=1, label="ln(k) + gamma")
    colors = dict(zip(HARMONIC_FORMATS, ["C0", "C1", "C2", "C3"], strict=True))
    styles = {"nearest_even": "-", "nearest_away": ":", "toward_zero": "-.", "stochastic": "-"}
    for r in res.harmonic:
        if r.rounding in ("nearest_even", "stochastic"):
            lw = 2.0 if r.rounding == "stochastic" else 1.0
            alpha = 1.0 if r.rounding == "stochastic" else 0.6
            ax1.plot(
                r.trace_k,
                r.trace_sum,
                styles[r.rounding],
                color=colors[r.fmt],
                lw=lw,
                alpha=alpha,
                label=f"{r.fmt} {'SR' if r.rounding == 'stochastic' else 'RNE'}",
            )
    ax1.set_xscale("log")
    ax1.set_xlabel("k")
    ax1.set_ylabel("partial sum of 1/k")
    ax1.set_title("Harmonic series: RNE stagnates, SR keeps growing")
    ax1.legend(fontsize=7, ncol=2)
    lens = [d.length for d in res.dot]
    ax2.loglog(lens, [max(d.rne, 1e-12) for d in res.dot], "o-", label="nearest_even")
    ax2.loglog(lens, [max(d.sr, 1e-12) for d in res.dot], "s-", label="stochastic")
    ax2.set_xlabel("vector length")
    ax2.set_ylabel("relative error vs exact")
    ax2.set_title(f"Dot product, recursive summation in {res.dot_format}")
    ax2.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run_demo(
    out_dir: str | Path = "lowprec-demo",
    *,
    quick: bool = False,
    backend: str | None = None,
    progress: bool = True,
    stream: TextIO | None = None,
) -> DemoResult:
    """Run the whole study, print the tables and save ``precision_study.png`` into ``out_dir``.

    Parameters
    ----------
    out_dir
        Folder for the plot (created if needed).
    quick
        Smaller problem sizes (2**14 harmonic terms instead of 2**15, dot products up to 10**4
        instead of 10**5) for a fast run.
    backend
        lowprec backend; default: :func:`pick_backend`.
    progress
        Show tqdm progress bars (on stderr, only on a terminal).
    stream
        Where the tables go (default: stdout).
    """
    import sys

    t0 = time.perf_counter()
    stream = sys.stdout if stream is None else stream
    be = backend or pick_backend()
    n_terms = 2**14 if quick else 2**15
    lengths = [10, 100, 1000, 10_000] if quick else [10, 100, 1000, 10_000, 100_000]
    harm = harmonic_study(n_terms, backend=be, progress=progress)
    dot = dot_study(lengths, backend=be, progress=progress)
    res = DemoResult(n_terms, harm, dot, DOT_FORMAT, None, 0.0)
    print_tables(res, stream)
    res.plot = plot(res, Path(out_dir) / "precision_study.png")
    res.seconds = time.perf_counter() - t0
    print(f"\nplot written to {res.plot}  ({res.seconds:.1f} s, backend {be})", file=stream)
    return res
