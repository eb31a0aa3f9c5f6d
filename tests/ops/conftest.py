"""Shared set-up of the lowprec.ops tests: make the helper modules ``opsref`` and ``gemmkit`` importable."""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:  # works under every pytest import mode
    sys.path.insert(0, _HERE)
