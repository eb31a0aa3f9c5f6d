"""lowprec: bit-exact emulation of low-precision number formats.

The public surface is declared here; everything else is private (leading underscore) or a
documented submodule (``lowprec.reference``, ``lowprec.torch``, ``lowprec.jax``). Importing
lowprec never imports torch or jax.
"""

from . import blocks as blocks
from . import fixed as fixed
from . import intquant as intquant
from ._api import _FAMILY_HANDLERS
from ._api import decode as decode
from ._api import encode as encode
from ._api import quantize as quantize
from ._dispatch import backends as backends
from ._fixed_api import family_handler as _fixed_family_handler
from ._fixed_api import fixed_decode as fixed_decode
from ._fixed_api import fixed_encode as fixed_encode
from ._fixed_api import fixed_quantize as fixed_quantize
from ._fixed_modes import FixedOverflow as FixedOverflow
from ._fixed_modes import FixedRounding as FixedRounding
from ._pack import from_ml_dtypes as from_ml_dtypes
from ._pack import pack as pack
from ._pack import to_ml_dtypes as to_ml_dtypes
from ._pack import unpack as unpack
from ._random_api import random_bits as random_bits
from ._version import __version__ as __version__
from .fixed import FixedArray as FixedArray
from .fixed import hls_accumulate as hls_accumulate
from .formats import FORMATS as FORMATS
from .formats import FInfo as FInfo
from .formats import FixedFormat as FixedFormat
from .formats import FloatFormat as FloatFormat
from .formats import IntFormat as IntFormat
from .formats import finfo as finfo
from .formats import get_format as get_format
from .formats import p3109 as p3109
from .formats._block import BLOCK_FORMATS as BLOCK_FORMATS
from .formats._block import BlockFormat as BlockFormat
from .rounding import Overflow as Overflow
from .rounding import Rounding as Rounding

_FAMILY_HANDLERS["block"] = blocks._handle
_FAMILY_HANDLERS["fixed"] = _fixed_family_handler
_FAMILY_HANDLERS["int"] = _fixed_family_handler

__all__ = [
    "BLOCK_FORMATS",
    "FORMATS",
    "BlockFormat",
    "FInfo",
    "FixedArray",
    "FixedFormat",
    "FixedOverflow",
    "FixedRounding",
    "FloatFormat",
    "GemmProfile",
    "IntFormat",
    "Overflow",
    "Rounding",
    "__version__",
    "backends",
    "blocks",
    "decode",
    "encode",
    "finfo",
    "fixed",
    "fixed_decode",
    "fixed_encode",
    "fixed_quantize",
    "from_ml_dtypes",
    "get_format",
    "hls_accumulate",
    "intquant",
    "matmul",
    "ops",
    "p3109",
    "pack",
    "quantize",
    "random_bits",
    "to_ml_dtypes",
    "unpack",
]


def __getattr__(name: str) -> object:
    """Import the emulated-arithmetic package on first use (it compiles Numba kernels)."""
    if name in ("ops", "matmul", "GemmProfile"):
        import importlib

        ops = importlib.import_module(".ops", __name__)
        return ops if name == "ops" else getattr(ops, name)
    raise AttributeError(f"module 'lowprec' has no attribute {name!r}")
