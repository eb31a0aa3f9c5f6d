"""The ``lowprec`` command line: ``formats``, ``cast`` and ``demo``.

Examples
--------
.. code-block:: console

    $ lowprec formats
    $ lowprec cast 0.1 300 --format float8_e4m3fn --rounding toward_zero
    $ lowprec demo --quick --out ./lowprec-demo
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from typing import TextIO

import numpy as np

__all__ = ["build_parser", "main"]


def _specials(fmt: object) -> str:
    parts = []
    if getattr(fmt, "has_inf", False):
        parts.append("inf")
    if getattr(fmt, "has_nan", False):
        parts.append("nan")
    if getattr(fmt, "has_negzero", False):
        parts.append("-0")
    return ",".join(parts) or "-"


def cmd_formats(args: argparse.Namespace, out: TextIO) -> int:
    """Print a table of every named format (P3109: the 8-bit family; others by name)."""
    import lowprec

    head = (
        f"{'name':<20} {'bits':>4} {'e':>2} {'m':>2} {'bias':>6} {'max':>12} {'min normal':>12} "
        f"{'min subnormal':>13}  specials"
    )
    print(head, file=out)
    print("-" * len(head), file=out)
    hidden = 0
    for name, fmt in lowprec.FORMATS.items():
        if name.startswith("p3109_") and fmt.nbits != 8 and not args.all:
            hidden += 1
            continue
        fi = lowprec.finfo(fmt)
        sub = f"{fi.min_subnormal:.4g}" if fmt.subnormals else "-"
        print(
            f"{name:<20} {fmt.nbits:>4} {fmt.ebits:>2} {fmt.mbits:>2} {fmt.exp_bias:>6} {fi.max:>12.6g} "
            f"{fi.min_normal:>12.6g} {sub:>13}  {_specials(fmt)}",
            file=out,
        )
    print("", file=out)
    print(
        "P3109 formats are named p3109_k<K>p<P><s|u><e|f>: K bits, precision P, signed/unsigned,\n"
        "extended (with Inf) or finite, e.g. p3109_k8p3se; any 2 <= K <= 16 works by name."
        + (f" {hidden} wider ones are hidden: `lowprec formats --all`." if hidden else ""),
        file=out,
    )
    return 0


def _binary(code: int, fmt: object) -> str:
    """Code as ``sign exponent mantissa`` bit groups."""
    e, m, signed = fmt.ebits, fmt.mbits, fmt.signed  # type: ignore[attr-defined]
    bits = format(code, f"0{e + m + int(signed)}b")
    groups = ([bits[0]] if signed else []) + [bits[int(signed) : int(signed) + e]]
    if m:
        groups.append(bits[int(signed) + e :])
    return " ".join(groups)


def cmd_cast(args: argparse.Namespace, out: TextIO) -> int:
    """Round each value to the format; print value, code (hex, binary) and errors."""
    import lowprec

    fmt = lowprec.get_format(args.format)
    try:
        x = np.array([float(v) for v in args.values], dtype=np.float64)
    except ValueError as exc:
        raise ValueError(f"cast needs numbers: {exc}") from None
    kw: dict[str, object] = {"overflow": args.overflow}
    if args.seed is not None:
        kw["seed"] = args.seed
    codes = lowprec.encode(x, fmt, args.rounding, **kw)
    vals = lowprec.decode(codes, fmt).astype(np.float64)
    hexw = (fmt.nbits + 3) // 4
    print(f"format {fmt} ({fmt.short}), rounding {args.rounding}", file=out)
    head = f"{'input':>14} {'rounded':>14} {'hex':>{hexw + 2}}  {'binary':<{fmt.nbits + 2}} {'abs err':>11} {'rel err':>11}"
    print(head, file=out)
    for xi, vi, ci in zip(x.tolist(), vals.tolist(), codes.ravel().tolist(), strict=True):
        if math.isfinite(xi) and math.isfinite(vi):
            ae = abs(vi - xi)
            re_ = ae / abs(xi) if xi != 0 else (0.0 if ae == 0 else math.inf)
            err = f"{ae:11.4g} {re_:11.4g}"
        else:
            err = f"{'-':>11} {'-':>11}"
        code = int(ci)
        print(
            f"{xi!r:>14} {vi!r:>14} {'0x' + format(code, f'0{hexw}X'):>{hexw + 2}}  "
            f"{_binary(code, fmt):<{fmt.nbits + 2}} {err}",
            file=out,
        )
    return 0


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    """Run the precision study (see :mod:`lowprec._demo`)."""
    from ._demo import run_demo

    run_demo(args.out, quick=args.quick, backend=args.backend, progress=not args.no_progress, stream=out)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``lowprec``."""
    p = argparse.ArgumentParser(prog="lowprec", description="Emulate low-precision number formats.")
    sub = p.add_subparsers(dest="command", required=True, metavar="{formats,cast,demo}")

    f = sub.add_parser("formats", help="list every named format")
    f.add_argument("--all", action="store_true", help="include the 16-bit P3109 family")
    f.set_defaults(func=cmd_formats)

    c = sub.add_parser("cast", help="round numbers to a format and show codes and errors")
    c.add_argument("values", nargs="+", help="numbers (Python float syntax: 0.1, 1e-3, inf, nan)")
    c.add_argument("--format", "-f", required=True, help="format name, e.g. float8_e4m3fn")
    c.add_argument("--rounding", "-r", default="nearest_even", help="rounding mode (default nearest_even)")
    c.add_argument("--overflow", "-o", default=None, help="saturate, infinity or nan (default: the format's)")
    c.add_argument("--seed", type=int, default=None, help="seed for stochastic rounding")
    c.set_defaults(func=cmd_cast)

    d = sub.add_parser("demo", help="precision study: harmonic-series stagnation, dot-product error")
    d.add_argument("--out", default="lowprec-demo", help="folder for the plot (default ./lowprec-demo)")
    d.add_argument("--quick", action="store_true", help="smaller sizes, a few seconds")
    d.add_argument("--backend", default=None, help="lowprec backend (default: cpp when built, else auto)")
    d.add_argument("--no-progress", action="store_true", help="no progress bars")
    d.set_defaults(func=cmd_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``lowprec``; returns the exit status (2 for bad input, with a clean message)."""
    parser = build_parser()
    args = parser.parse_args(argv)  # argparse exits with 2 on usage errors
    try:
        return args.func(args, sys.stdout)
    except BrokenPipeError:  # e.g. `lowprec formats | head`
        return 0
    except (ValueError, TypeError) as exc:
        print(f"lowprec {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
