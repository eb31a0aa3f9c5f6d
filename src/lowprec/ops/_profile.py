"""``GemmProfile``: the parameters of an emulated hardware GEMM (block-FMA accumulator model)."""

from __future__ import annotations

import dataclasses
from typing import Literal

from ..formats._float import FloatFormat
from ..formats._registry import get_format
from ..rounding import parse_rounding

__all__ = ["FP22", "GemmProfile"]

ReduceOrder = Literal["sequential", "tree", "permutation"]


@dataclasses.dataclass(frozen=True)
class GemmProfile:
    """How an emulated GEMM ``C = A @ B + C0`` rounds (see ``docs/gemm.md``).

    Each output element is a dot product over K. K is cut into ``split_k`` contiguous slices; each
    slice is accumulated from a carry-in (``C0`` for slice 0, else 0) by chained *block FMAs*: a block
    of ``block_size`` exact products plus the carry-in is aligned to the largest exponent among them,
    each term truncated (toward zero) to ``acc precision + extra_align_bits`` significant bits below
    that exponent, summed exactly, and rounded once to ``acc_format`` with ``block_rounding``.
    ``extra_align_bits=None`` keeps every bit (exact block sum, one rounding). Every
    ``promote_interval`` elements the carry is added into a separate ``promote_format`` register
    (round to nearest even) and restarts at 0. Slice results are rounded to ``partial_format`` and
    combined in ``reduce_order`` (each addition rounded to ``partial_format``, nearest even); the
    result is rounded to ``out_format`` with ``out_rounding``.

    Parameters
    ----------
    name
        Label only.
    a_format, b_format
        Input formats: A and B are rounded (nearest even) to them first, as a GPU receives them.
        ``b_format=None`` means ``a_format``. Products of the two must be exact in float64.
    block_size
        Number of products per block FMA (1: a scalar FMA chain).
    extra_align_bits
        ``neab``: bits kept on alignment beyond the accumulator precision (may be negative);
        ``None``: unbounded alignment (exact block sums).
    acc_format, block_rounding, acc_subnormals
        The carried accumulator, how each block result is rounded to it, and whether it keeps
        subnormals (``False`` flushes them per the format model).
    fused
        ``True``: products enter exactly. ``False``: each product is first rounded to ``acc_format``
        (with ``block_rounding``), i.e. a separate multiply then add.
    promote_interval, promote_format
        Promotion of the carried sum every ``promote_interval`` elements of K (``None``: never),
        as in DeepSeek-V3's FP8 GEMM.
    split_k, partial_format, reduce_order, reduce_seed
        Split-K slices, the workspace format of their partial sums, and the order in which they are
        combined: ``sequential`` (slice 0, 1, ...), ``tree`` (adjacent pairs, level by level) or
        ``permutation`` (a sequential order permuted by ``numpy.random.default_rng(reduce_seed)``,
        standing in for atomic adds).
    out_format, out_rounding
        Output format and rounding of the final value.
    exact
        Ignore the accumulator model: the exact ``A @ B + C0`` (inputs after rounding to their
        formats) rounded once to ``out_format`` with ``out_rounding``.
    """

    name: str = "custom"
    a_format: str = "float32"
    b_format: str | None = None
    block_size: int = 1
    extra_align_bits: int | None = None
    acc_format: str | FloatFormat = "float32"
    block_rounding: str = "nearest_even"
    acc_subnormals: bool = True
    fused: bool = True
    promote_interval: int | None = None
    promote_format: str = "float32"
    split_k: int = 1
    partial_format: str = "float32"
    reduce_order: ReduceOrder = "sequential"
    reduce_seed: int = 0
    out_format: str = "float32"
    out_rounding: str = "nearest_even"
    exact: bool = False

    def __post_init__(self) -> None:
        fa, fb = self.formats()[:2]
        if (fa.mbits + 1) + (fb.mbits + 1) > 53:
            raise ValueError(f"products of {fa} and {fb} are not exact in float64 (more than 53 bits)")
        for f in self.formats():
            if f.emax_ > 300 or f.emin_ - f.mbits < -400:
                raise ValueError(f"{f}: the GEMM model needs formats within 2**-400 .. 2**300")
            if f.mbits + 1 > 51:
                raise ValueError(f"{f}: accumulation formats may have at most 51 significant bits")
        if self.block_size < 1 or self.split_k < 1:
            raise ValueError("block_size and split_k must be >= 1")
        if self.promote_interval is not None and self.promote_interval < 1:
            raise ValueError("promote_interval must be >= 1 or None")
        if self.extra_align_bits is not None:
            keep = self.align_bits
            if not 2 <= keep <= 46:
                raise ValueError(f"acc precision + extra_align_bits must lie in [2, 46], got {keep}")
        if self.reduce_order not in ("sequential", "tree", "permutation"):
            raise ValueError(
                f"reduce_order must be sequential, tree or permutation, not {self.reduce_order!r}"
            )
        for r in (self.block_rounding, self.out_rounding):
            if parse_rounding(r).is_stochastic:
                raise ValueError("GEMM profiles use deterministic rounding modes")

    def formats(self) -> tuple[FloatFormat, ...]:
        """(a, b, acc, promote, partial, out) formats, resolved."""
        names = (self.a_format, self.b_format or self.a_format, self.acc_format, self.promote_format,
                 self.partial_format, self.out_format)  # fmt: skip
        out = []
        for n in names:
            f = get_format(n)
            if not isinstance(f, FloatFormat):
                raise TypeError(f"{n} is not a floating-point format")
            out.append(f)
        if not self.acc_subnormals:
            out[2] = out[2].replace(subnormals=False)
        return tuple(out)

    @property
    def align_bits(self) -> int | None:
        """Significant bits kept on alignment (accumulator precision + ``extra_align_bits``)."""
        if self.extra_align_bits is None:
            return None
        return get_format(self.acc_format).mbits + 1 + self.extra_align_bits

    def replace(self, **changes: object) -> GemmProfile:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def preset(cls, name: str) -> GemmProfile:
        """A named profile.

        ============================ =================================================================
        ``ieee_fp32_sequential``     fp32 inputs, a sequential chain of IEEE fp32 FMAs (RNE).
        ``v100_fp16``                fp16 in, blocks of 4, no extra alignment bits, RZ into fp32
                                     (Fasi et al., PeerJ CS 7:e330, 2021; Khattak & Mikaitis,
                                     arXiv 2512.07004).
        ``a100_bf16``                bf16 in, blocks of 8, 1 extra bit, RZ (Khattak & Mikaitis).
        ``a100_tf32``                tf32 in, blocks of 4, 1 extra bit, RZ (Khattak & Mikaitis).
        ``h100_bf16``                bf16 in, blocks of 16, 2 extra bits, RZ (Khattak & Mikaitis).
        ``h100_fp8``                 e4m3 in, blocks of 32, 14 significant bits kept on alignment
                                     (fp32 precision + neab with neab = -10) and an accumulator of
                                     14 significant bits, ``FP22`` = e8m13 (``extra_align_bits=0``
                                     relative to it), every block result truncated (RZ) to it
                                     (Khattak & Mikaitis; DeepSeek-V3 report, arXiv 2412.19437,
                                     §3.3.2 "around 14 bits" and §3.5.2; SageAttention2's FP22).
        ``h100_fp8_promote128``      ``h100_fp8`` with promotion to fp32 every 128 elements of K
                                     (DeepSeek-V3 §3.3.2, N_C = 128).
        ``b200_bf16``                bf16 in, blocks of 32, 2 extra bits, RZ (Khattak & Mikaitis).
        ``exact``                    fp32 in, the exact result rounded once to fp32 (RNE).
        ============================ =================================================================

        These presets encode published models; they are not validated against hardware here.
        The DeepSeek-V3 authors' own issue #197 reports an H100 FP8 test closer to fp32 than
        14 bits: validate a profile on the hardware before relying on it.
        """
        try:
            return _PRESETS[name]
        except KeyError:
            raise ValueError(f"unknown GEMM preset {name!r}; choose from {', '.join(_PRESETS)}") from None

    @classmethod
    def presets(cls) -> tuple[str, ...]:
        """Names accepted by :meth:`preset`."""
        return tuple(_PRESETS)


#: The H100 FP8 tensor-core accumulator: fp32's exponent range with 13 fraction bits (14 significant),
#: block results truncated to it (DeepSeek-V3 §3.5.2; SageAttention2's "FP22"; Khattak & Mikaitis).
FP22 = get_format("fp22")  # e8m13, in the format registry as "fp22"


def _nv(name: str, fmt: str, block: int, neab: int, **kw: object) -> GemmProfile:
    return GemmProfile(name=name, a_format=fmt, block_size=block, extra_align_bits=neab,
                       block_rounding="toward_zero", **kw)  # type: ignore[arg-type]  # fmt: skip


_PRESETS: dict[str, GemmProfile] = {
    "ieee_fp32_sequential": GemmProfile(name="ieee_fp32_sequential"),
    "v100_fp16": _nv("v100_fp16", "float16", 4, 0),
    "a100_bf16": _nv("a100_bf16", "bfloat16", 8, 1),
    "a100_tf32": _nv("a100_tf32", "tf32", 4, 1),
    "h100_bf16": _nv("h100_bf16", "bfloat16", 16, 2),
    "h100_fp8": _nv("h100_fp8", "float8_e4m3fn", 32, 0, acc_format=FP22),
    "h100_fp8_promote128": _nv(
        "h100_fp8_promote128", "float8_e4m3fn", 32, 0, acc_format=FP22, promote_interval=128
    ),
    "b200_bf16": _nv("b200_bf16", "bfloat16", 32, 2),
    "exact": GemmProfile(name="exact", exact=True),
}
