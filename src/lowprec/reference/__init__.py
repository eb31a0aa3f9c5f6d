"""The exact reference: the oracle every fast path is tested against. Never imported by them.

``round_to_code`` / ``decode_code`` are the scalar definitions (Fractions); ``encode_reference``,
``decode_reference`` and ``quantize_reference`` are their exact vectorised twins.
"""

from ._float import decode_code, round_to_code
from ._random import random_bits_reference
from ._vector import decode_reference, encode_reference, quantize_reference

__all__ = [
    "decode_code",
    "decode_reference",
    "encode_reference",
    "quantize_reference",
    "random_bits_reference",
    "round_to_code",
]
