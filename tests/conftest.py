"""Shared test configuration: version banner, CUDA/C++ skip policy."""

from __future__ import annotations

import os

import numpy as np
import pytest


def pytest_report_header(config: pytest.Config) -> list[str]:
    import lowprec

    lines = [f"lowprec {lowprec.__version__}, numpy {np.__version__}"]
    for name, (ok, why) in lowprec.backends().items():
        lines.append(f"  backend {name}: {'available' if ok else 'unavailable (' + why + ')'}")
    return lines


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip CUDA tests without a device; with LOWPREC_REQUIRE_CUDA=1 a missing device fails them."""
    import lowprec

    ok, why = lowprec.backends()["cuda"]
    has_device = False
    if ok:
        try:
            import torch

            has_device = torch.cuda.is_available()
        except Exception:
            has_device = False
    if has_device:
        return
    if os.environ.get("LOWPREC_REQUIRE_CUDA") == "1":
        return  # the CUDA tests run and fail loudly instead of skipping
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=f"no CUDA device ({why})"))
