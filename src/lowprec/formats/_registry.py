"""Named formats: ml_dtypes names, IEEE/tf32/fp22, and the P3109 binaryKpP family."""

from __future__ import annotations

import difflib
import re

from ._float import FloatFormat

__all__ = ["FORMATS", "get_format", "p3109"]


def _f(name: str, e: int, m: int, **kw: object) -> FloatFormat:
    return FloatFormat(e, m, name=name, **kw)  # type: ignore[arg-type]


def p3109(k: int, p: int, signed: bool = True, extended: bool = True) -> FloatFormat:
    """The P3109 format binaryKpP (signed or unsigned, extended or finite).

    Signed formats have ``K-P`` exponent bits and bias ``2**(K-P-1)``; unsigned ones have
    ``K-P+1`` exponent bits and bias ``2**(K-P)``. None has -0; NaN is 0x80 (signed) or all ones
    (unsigned); extended formats add +-Inf at the top magnitude.
    """
    if not (2 <= k <= 16 and 1 <= p < k + (0 if signed else 1)):
        raise ValueError(f"no P3109 format with K={k}, P={p} ({'signed' if signed else 'unsigned'})")
    e = k - p if signed else k - p + 1
    bias = 1 << (e - 1)
    name = f"p3109_k{k}p{p}{'s' if signed else 'u'}{'e' if extended else 'f'}"
    if extended:
        enc = "p3109"
    else:
        enc = "fnuz" if signed else "fn"
    return FloatFormat(e, p - 1, bias, signed=signed, subnormals=p > 1, encoding=enc, name=name)  # type: ignore[arg-type]


_NAMED = [
    _f("float64", 11, 52),
    _f("float32", 8, 23),
    _f("tf32", 8, 10),
    _f("fp22", 8, 13),  # the FP8 tensor-core accumulator (DeepSeek-V3 §3.5.2, SageAttention2)
    _f("float16", 5, 10),
    _f("bfloat16", 8, 7),
    _f("float8_e5m2", 5, 2),
    _f("float8_e5m2fnuz", 5, 2, bias=16, encoding="fnuz"),
    _f("float8_e4m3", 4, 3),
    _f("float8_e4m3fn", 4, 3, encoding="fn"),
    _f("float8_e4m3fnuz", 4, 3, bias=8, encoding="fnuz"),
    _f("float8_e4m3b11fnuz", 4, 3, bias=11, encoding="fnuz"),
    _f("float8_e3m4", 3, 4),
    _f("float8_e8m0fnu", 8, 0, signed=False, subnormals=False, encoding="fn", zero=False),
    _f("float6_e2m3fn", 2, 3, encoding="finite"),
    _f("float6_e3m2fn", 3, 2, encoding="finite"),
    _f("float4_e2m1fn", 2, 1, encoding="finite"),
]

#: Every named format, by name.
FORMATS: dict[str, FloatFormat] = {f.name: f for f in _NAMED}  # type: ignore[misc]
for _k in (8, 16):
    for _s in (True, False):
        for _p in range(1, _k + (0 if _s else 1)):
            for _x in (True, False):
                try:
                    _fmt = p3109(_k, _p, _s, _x)
                except ValueError:  # K=16 with a small P has values beyond float64
                    continue
                FORMATS[_fmt.name] = _fmt  # type: ignore[index]

_ALIASES = {
    "fp64": "float64",
    "double": "float64",
    "fp32": "float32",
    "single": "float32",
    "fp16": "float16",
    "half": "float16",
    "bf16": "bfloat16",
    "e4m3": "float8_e4m3fn",
    "e5m2": "float8_e5m2",
    "fp8_e4m3": "float8_e4m3fn",
    "fp8_e5m2": "float8_e5m2",
    "e8m0": "float8_e8m0fnu",
    "e2m1": "float4_e2m1fn",
    "fp4_e2m1": "float4_e2m1fn",
    "e2m3": "float6_e2m3fn",
    "e3m2": "float6_e3m2fn",
}

_P3109_RE = re.compile(r"^p3109_k(\d+)p(\d+)([su])([ef])$")


def get_format(fmt: object) -> FloatFormat:
    """Resolve a format name (or pass a format object through).

    Raises
    ------
    ValueError
        For an unknown name; the message names close matches.
    TypeError
        For something that is neither a name nor a format.
    """
    if isinstance(fmt, FloatFormat):
        return fmt
    if hasattr(fmt, "__lowprec_format__"):
        return fmt  # type: ignore[return-value]  # fixed/int/block formats from sibling modules
    if not isinstance(fmt, str):
        raise TypeError(f"format must be a name or a format object, not {type(fmt).__name__}")
    key = fmt.strip().lower()
    if key in FORMATS:
        return FORMATS[key]
    if key in _ALIASES:
        return FORMATS[_ALIASES[key]]
    m = _P3109_RE.match(key)
    if m:
        return p3109(int(m[1]), int(m[2]), m[3] == "s", m[4] == "e")
    from ._block import BLOCK_FORMATS, get_block_format  # block formats name float ones: import late

    try:
        return get_block_format(key)  # type: ignore[return-value]
    except KeyError:
        pass
    names = list(FORMATS) + list(_ALIASES) + list(BLOCK_FORMATS)
    close = difflib.get_close_matches(key, names, n=4, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(f"unknown format {fmt!r}.{hint} `lowprec formats` lists every named format.")
