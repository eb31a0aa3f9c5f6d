"""Shared set-up of the backend tests: make the helper module ``cppkit`` importable."""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:  # works under every pytest import mode
    sys.path.insert(0, _HERE)
