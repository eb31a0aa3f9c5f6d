"""Shared set-up of the block-format tests: the ``rng`` fixture, and the helper module ``blockdata``
made importable."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:  # works under every pytest import mode
    sys.path.insert(0, _HERE)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
