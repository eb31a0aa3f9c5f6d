"""The format model and the registry of named formats."""

from ._finfo import FInfo, finfo
from ._float import ENCODINGS, FloatFormat
from ._registry import FORMATS, get_format, p3109

__all__ = ["ENCODINGS", "FORMATS", "FInfo", "FloatFormat", "finfo", "get_format", "p3109"]
