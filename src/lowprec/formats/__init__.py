"""The format model and the registry of named formats."""

from ._finfo import FInfo, finfo
from ._fixed import FixedFormat
from ._float import ENCODINGS, FloatFormat
from ._int import IntFormat
from ._registry import FORMATS, get_format, p3109

__all__ = [
    "ENCODINGS",
    "FORMATS",
    "FInfo",
    "FixedFormat",
    "FloatFormat",
    "IntFormat",
    "finfo",
    "get_format",
    "p3109",
]
