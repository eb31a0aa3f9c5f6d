"""Block-scaled formats: MX (OCP v1.0), NVFP4, block floating point, with any block size and scale rule.

A block format stores, for every block of ``block`` consecutive elements along ``axis`` (or every
``b1 x b2`` tile over two axes), one shared *scale* code and one *element* code per element. The
value of an element is ``element x block scale (x tensor scale)``. See ``docs/block_formats.md``.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from fractions import Fraction

from ._float import FloatFormat

__all__ = [
    "BLOCK_FORMATS",
    "SCALE_RULES",
    "BlockFormat",
    "bfp",
    "block_geometry",
    "get_block_format",
    "int_element",
]

#: Scale rules and what they compute (``amax`` is the largest magnitude in the block).
SCALE_RULES: dict[str, str] = {
    "floor": "OCP MX: X = 2**(floor(log2 amax) - emax_elem); values above the element max clip",
    "ceil": "X = 2**(ceil(log2 amax) - emax_elem)",
    "even": "torchao EVEN: round amax's significand to the element's mantissa width (ties away), then floor",
    "rceil": "X = 2**ceil(log2(amax / max_elem)): the smallest power of two with which nothing clips",
    "amax": "NVFP4: X = amax / max_elem (/ tensor scale) rounded once (RNE) to the scale format",
}
_POW2_RULES = ("floor", "ceil", "even", "rceil")
_INT_RE = re.compile(r"^int(\d+)$")


def int_element(bits: int) -> FloatFormat:
    """The float model of a ``bits``-bit two's-complement block element (MXINT8, BFP mantissas).

    An ``N``-bit integer element ``k`` has value ``k * 2**-(N-2)`` (OCP MXINT8: ``N = 8``, scale
    ``2**-6``). Rounding uses the symmetric sign-magnitude range ``|k| <= 2**(N-1) - 1``, which is
    exactly the float format ``e1m(N-2)`` with bias 1 (its magnitude code *is* ``|k|``, so
    ties-to-even means ties to the even integer). The two's-complement code ``-2**(N-1)`` is never
    produced but decodes to ``-2``.
    """
    if not 2 <= bits <= 16:
        raise ValueError(f"integer block elements have 2 to 16 bits, got {bits}")
    return FloatFormat(1, bits - 2, bias=1, encoding="finite", subnormals=bits > 2, name=f"int{bits}")


@dataclasses.dataclass(frozen=True)
class BlockFormat:
    """A block-scaled format.

    Parameters
    ----------
    element
        Element format: a float format of at most 16 bits (object or name, e.g.
        ``"float4_e2m1fn"``) or ``"intN"`` for ``N``-bit two's-complement integers scaled by
        ``2**-(N-2)`` (MXINT8, BFP; ``2 <= N <= 16``).
    scale
        Scale format of at most 8 bits: ``"float8_e8m0fnu"`` (power-of-two scales) or e.g.
        ``"float8_e4m3fn"`` (NVFP4's UE4M3; only positive codes are used).
    block
        Elements per block along ``axis`` (int), or a 2-tuple ``(b1, b2)`` for 2-D tiles over two axes.
    axis
        Default axis (int) or axes (2-tuple) of the blocks; calls may override it. A 2-D block
        with the default ``-1`` uses the last two axes.
    scale_rule
        One of :data:`SCALE_RULES`: ``floor`` (OCP), ``ceil``, ``even``, ``rceil`` need a scale
        format with no mantissa bits (E8M0); ``amax`` (NVFP4) needs a scale format with NaN and at
        most 15 mantissa bits.
    tensor_scale
        Add a float32 per-tensor scale ``g = RNE_f32(amax_tensor / (max_elem * max_scale))``
        (``amax`` rule only); values are ``element x block scale x g``.
    name
        Display name; not part of equality.
    """

    element: FloatFormat | str
    scale: FloatFormat | str
    block: int | tuple[int, int]
    axis: int | tuple[int, int] = -1
    scale_rule: str = "floor"
    tensor_scale: bool = False
    name: str | None = dataclasses.field(default=None, compare=False)

    __lowprec_format__ = "block"

    def __post_init__(self) -> None:
        from ._registry import get_format  # lazy: the registry may import this module

        set_ = object.__setattr__
        el = self.element
        if isinstance(el, str) and _INT_RE.match(el.strip().lower()):
            el = el.strip().lower()
            int_element(int(el[3:]))  # validates the width
        else:
            el = get_format(el)
            if not isinstance(el, FloatFormat):
                raise TypeError(f"block elements must be float formats or 'intN', not {el}")
        set_(self, "element", el)
        sc = get_format(self.scale)
        if not isinstance(sc, FloatFormat):
            raise TypeError(f"the scale format must be a float format, not {sc}")
        set_(self, "scale", sc)
        blk = self.block
        if isinstance(blk, (tuple, list)):
            if len(blk) != 2 or not all(isinstance(b, int) and b >= 1 for b in blk):
                raise ValueError(f"a 2-D block is a pair of positive ints, got {blk!r}")
            blk = (int(blk[0]), int(blk[1]))
        elif not isinstance(blk, int) or blk < 1:
            raise ValueError(f"block must be a positive int or a pair of them, got {blk!r}")
        set_(self, "block", blk)
        set_(self, "axis", _norm_axis(self.axis, blk))
        if self.scale_rule not in SCALE_RULES:
            close = difflib.get_close_matches(str(self.scale_rule), list(SCALE_RULES), n=2)
            raise ValueError(f"unknown scale rule {self.scale_rule!r}; choose one of {', '.join(SCALE_RULES)}"
                             + (f" (did you mean {close[0]!r}?)" if close else ""))  # fmt: skip
        if self.scale_rule in _POW2_RULES:
            if sc.mbits != 0 or not sc.has_nan:
                raise ValueError(f"scale rule {self.scale_rule!r} needs a power-of-two scale format with NaN "
                                 f"(E8M0), not {sc}")  # fmt: skip
            if self.tensor_scale:
                raise ValueError("tensor_scale is only supported with scale_rule='amax' (NVFP4)")
        else:
            if not sc.has_nan or sc.mbits > 15:
                raise ValueError(
                    f"scale rule 'amax' needs a scale format with NaN and <= 15 mantissa bits, not {sc}"
                )
        if self.element_format.nbits > 16:  # element codes are stored as uint8 / uint16
            raise ValueError(f"block elements have at most 16 bits, not {self.element_format.nbits} ({el})")
        if sc.nbits > 8:  # scale codes are stored as uint8
            raise ValueError(f"block scale formats have at most 8 bits, not {sc.nbits} ({sc})")
        sig_bits = self.element_format.mbits + 1 + sc.mbits + 1 + (24 if self.tensor_scale else 0)
        if sig_bits > 53:
            raise ValueError(
                "element x scale (x tensor scale) must be exact in float64: too many mantissa bits"
            )

    # ---- derived ---------------------------------------------------------------------------------
    @property
    def element_is_int(self) -> bool:
        """Whether elements are two's-complement integers (MXINT8, BFP)."""
        return isinstance(self.element, str)

    @property
    def element_format(self) -> FloatFormat:
        """The float format elements are rounded to (``int_element(N)`` for integer elements)."""
        if isinstance(self.element, str):
            return int_element(int(self.element[3:]))
        return self.element

    @property
    def element_bits(self) -> int:
        """Bits of one element code."""
        return self.element_format.nbits

    @property
    def element_emax(self) -> int:
        """Exponent of the largest element (``emax_elem`` of the OCP scale rule)."""
        return self.element_format.emax_

    @property
    def element_max(self) -> Fraction:
        """The largest element value."""
        return self.element_format.max_finite

    @property
    def block_shape(self) -> tuple[int, ...]:
        """The block as a tuple: ``(b,)`` or ``(b1, b2)``."""
        return self.block if isinstance(self.block, tuple) else (self.block,)

    @property
    def pow2_scale(self) -> bool:
        """Whether block scales are powers of two."""
        return self.scale_rule in _POW2_RULES

    def replace(self, **changes: object) -> BlockFormat:
        """A copy with some fields changed (the name is dropped unless given)."""
        changes.setdefault("name", None)
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def __str__(self) -> str:
        if self.name:
            return self.name
        blk = "x".join(str(b) for b in self.block_shape)
        el = self.element if isinstance(self.element, str) else self.element.name or self.element.short
        ts = " +tensor scale" if self.tensor_scale else ""
        return f"BlockFormat({el} x{blk}, scale {self.scale}, {self.scale_rule}{ts})"


def block_geometry(
    shape: tuple[int, ...], fmt: BlockFormat, axis: object = None
) -> tuple[tuple[int, int, int, int, int], tuple[int, int], tuple[int, ...]]:
    """How blocks tile an array of ``shape``: ``(dims, bdims, scale_shape)``.

    The array is viewed (zero-copy in C order) as ``dims = (P, L1, Q, L2, R)`` where ``L1``/``L2``
    are the block axes (``L1 = 1`` for 1-D blocks) and ``bdims = (b1, b2)`` the block extents
    along them. Scales have shape ``scale_shape``: ``shape`` with each block axis of length ``L``
    replaced by ``ceil(L / b)``, i.e. ``(P, nb1, Q, nb2, R)`` in C order.
    """
    ax = _norm_axis(fmt.axis if axis is None else axis, fmt.block)
    nd = len(shape)

    def pos(a: int) -> int:
        if not -nd <= a < nd:
            raise ValueError(f"axis {a} is out of range for an array of {nd} dimensions")
        return a % nd

    def prod(s: tuple[int, ...]) -> int:
        out = 1
        for v in s:
            out *= int(v)
        return out

    if isinstance(ax, tuple):
        (a1, a2), (b1, b2) = (pos(ax[0]), pos(ax[1])), fmt.block  # type: ignore[misc]
        if a1 == a2:
            raise ValueError("the two block axes must differ")
        if a1 > a2:
            a1, a2, b1, b2 = a2, a1, b2, b1
    else:
        a1, a2, b1, b2 = -1, pos(ax), 1, int(fmt.block)  # type: ignore[arg-type]
    l2 = int(shape[a2])
    if a1 < 0:
        dims = (prod(shape[:a2]), 1, 1, l2, prod(shape[a2 + 1 :]))
    else:
        dims = (prod(shape[:a1]), int(shape[a1]), prod(shape[a1 + 1 : a2]), l2, prod(shape[a2 + 1 :]))
    sshape = list(shape)
    sshape[a2] = -(-l2 // b2)
    if a1 >= 0:
        sshape[a1] = -(-int(shape[a1]) // b1)
    return dims, (b1, b2), tuple(sshape)


def _norm_axis(axis: object, block: int | tuple[int, int]) -> int | tuple[int, int]:
    if isinstance(block, tuple):
        if isinstance(axis, (int,)) and not isinstance(axis, bool):
            if axis != -1:
                raise ValueError("a 2-D block needs two axes, e.g. axis=(-2, -1)")
            return (-2, -1)
        if not isinstance(axis, (tuple, list)) or len(axis) != 2:
            raise ValueError(f"a 2-D block needs two axes, got {axis!r}")
        return (int(axis[0]), int(axis[1]))
    if isinstance(axis, (tuple, list)):
        raise ValueError(f"a 1-D block takes one axis, got {axis!r}")
    return int(axis)  # type: ignore[arg-type]


def bfp(width: int, block: int = 16, scale: str = "float8_e8m0fnu") -> BlockFormat:
    """Block floating point: a shared E8M0 exponent and ``width``-bit two's-complement mantissas.

    ``bfp(8, 32)`` is MXINT8. The scale rule is OCP ``floor``.
    """
    suffix = "" if block == 16 else f"_b{block}"
    return BlockFormat(f"int{width}", scale, block, name=f"bfp{width}{suffix}")


def _mx(name: str, element: str, block: int | tuple[int, int] = 32) -> BlockFormat:
    return BlockFormat(element, "float8_e8m0fnu", block, name=name)


def _presets() -> dict[str, BlockFormat]:
    fs = [
        _mx("mxfp8_e4m3", "float8_e4m3fn"),
        _mx("mxfp8_e5m2", "float8_e5m2"),
        _mx("mxfp6_e3m2", "float6_e3m2fn"),
        _mx("mxfp6_e2m3", "float6_e2m3fn"),
        _mx("mxfp4", "float4_e2m1fn"),
        _mx("mxint8", "int8"),
        BlockFormat("float4_e2m1fn", "float8_e4m3fn", 16, scale_rule="amax", name="nvfp4"),
        BlockFormat(
            "float4_e2m1fn", "float8_e4m3fn", 16, scale_rule="amax", tensor_scale=True, name="nvfp4_ts"
        ),
        BlockFormat("float4_e2m1fn", "float8_e4m3fn", (16, 16), scale_rule="amax", name="nvfp4_2d"),
    ]
    fs += [bfp(w) for w in (4, 6, 8, 12, 16)]
    return {f.name: f for f in fs}  # type: ignore[misc]


#: Named block formats. ``<name>_b<N>`` (or ``_b<N>x<M>``) changes the block of any of them, and
#: ``<name>_<rule>`` its scale rule (``mxfp4_rceil``, ``mxfp8_e4m3_b64_rceil``).
BLOCK_FORMATS: dict[str, BlockFormat] = _presets()
_ALIASES = {"mxfp8": "mxfp8_e4m3", "mxfp6": "mxfp6_e2m3", "mxfp4_e2m1": "mxfp4"}
_SUFFIX_RE = re.compile(
    r"^(?P<base>.+?)(?:_b(?P<b1>\d+)(?:x(?P<b2>\d+))?)?(?:_(?P<rule>floor|ceil|even|rceil))?$"
)
_BFP_RE = re.compile(r"^bfp(\d+)$")


def get_block_format(name: object) -> BlockFormat:
    """Resolve a block-format name (or pass a :class:`BlockFormat` through).

    Raises
    ------
    KeyError
        For a name that is not a block format (so a registry can fall through to other families).
    """
    if isinstance(name, BlockFormat):
        return name
    if not isinstance(name, str):
        raise TypeError(f"block format must be a name or a BlockFormat, not {type(name).__name__}")
    key = name.strip().lower()
    if key in BLOCK_FORMATS:
        return BLOCK_FORMATS[key]
    m = _SUFFIX_RE.match(key)
    if m:
        base = _ALIASES.get(m["base"], m["base"])
        f = BLOCK_FORMATS.get(base)
        if f is None and _BFP_RE.match(base):
            f = bfp(int(base[3:]))
        if f is not None:
            ch: dict[str, object] = {"name": key}
            if m["b1"]:
                ch["block"] = (int(m["b1"]), int(m["b2"])) if m["b2"] else int(m["b1"])
                ch["axis"] = -1
            if m["rule"]:
                ch["scale_rule"] = m["rule"]
            return f.replace(**ch)
    raise KeyError(f"unknown block format {name!r}; named ones: {', '.join(BLOCK_FORMATS)}")
