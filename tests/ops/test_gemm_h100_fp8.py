"""The H100 FP8 accumulator model on hand vectors: 14-bit alignment window, truncation toward zero,
an FP22 (e8m13) accumulator that every block result is truncated to, and promotion every 128."""

from __future__ import annotations

import numpy as np
import pytest

from lowprec.ops import GemmProfile, matmul
from lowprec.ops._profile import FP22

E4M3 = "float8_e4m3fn"


def _dot(a: list[float], b: list[float], prof: str | GemmProfile, c: float | None = None) -> float:
    cc = None if c is None else np.array([[c]])
    return float(matmul(np.array([a]), np.array([b]).T, prof, c=cc)[0, 0])


@pytest.mark.parametrize("preset", ["h100_fp8", "h100_fp8_promote128"])
def test_accumulator_is_fp22(preset: str) -> None:
    prof = GemmProfile.preset(preset)
    assert prof.formats()[2] == FP22 and FP22.mbits == 13 and FP22.ebits == 8
    assert prof.align_bits == 14
    # 1.875 + 1.875 + 2^-12 + 2^-13 lies in the 14-bit window of the block (e* = 0, unit 2^-13), but
    # the sum 3.75 + 2^-12 + 2^-13 needs 15 bits: the block result is truncated to 14 (FP22, RZ).
    a = [1.875, 1.875, 2.0**-6, 2.0**-6]
    b = [1.0, 1.0, 2.0**-6, 2.0**-7]
    assert _dot(a, b, prof) == 3.75 + 2.0**-12
    assert _dot(a, b, prof.replace(acc_format="float32", extra_align_bits=-10)) == 3.75 + 2.0**-12 + 2.0**-13
    assert _dot(a, b, "exact") == 3.75 + 2.0**-12 + 2.0**-13


def test_carry_in_truncated_to_14_bits() -> None:
    """C0 with more than 13 fraction bits loses its 10 low ones even with A = B = 0 (SageAttention2)."""
    c = 1.0 + 2.0**-13 + 2.0**-14 + 2.0**-23
    assert _dot([0.0] * 4, [0.0] * 4, "h100_fp8", c=c) == 1.0 + 2.0**-13
    assert _dot([0.0] * 4, [0.0] * 4, "h100_bf16", c=c) == c  # 26 bits kept: unchanged


def test_alignment_truncates_toward_zero() -> None:
    """Terms below the window of the largest exponent are dropped; magnitudes truncate (sign kept)."""
    # 448 = 1.75 * 2^8: window unit 2^(8 + 1 - 14) = 2^-5; 7.5 and 2^-5 fit, 2^-6 does not
    assert _dot([448.0, 7.5], [1.0, 1.0], "h100_fp8") == 455.5  # DeepGEMM issue #37's vector
    assert _dot([448.0, 2.0**-3], [1.0, 2.0**-3], "h100_fp8") == 448.0
    assert _dot([448.0, 2.0**-3], [1.0, -(2.0**-3)], "h100_fp8") == 448.0  # not 448 - 2^-5 (floor)
    assert _dot([-448.0, 2.0**-3], [1.0, 2.0**-3], "h100_fp8") == -448.0
    assert _dot([448.0, 2.0**-3, 2.0**-3], [1.0, 2.0**-3, 2.0**-3], "h100_fp8") == 448.0  # each dropped
    assert _dot([448.0, 2.0**-3, 2.0**-3], [1.0, 2.0**-3, 2.0**-3], "exact") == 448.0 + 2.0**-5
    # the 3 x 2^-9 = 0.75 * 2^-7 inside one block survive only if the block holds no large term
    small = [2.0**-3] * 3
    assert _dot([*small, 448.0], [2.0**-6] * 3 + [1.0], "h100_fp8") == 448.0


def test_promotion_every_128_restarts_the_window() -> None:
    """A large sum swamps small products without promotion; promoting every 128 keeps them."""
    k = 256
    a = np.full(k, 2.0**-3)
    b = np.full(k, 2.0**-3)
    a[0] = 448.0
    b[0] = 1.0
    # without promotion the carry (>= 448) keeps the window at unit 2^-5: every 2^-6 product is lost
    assert _dot(list(a), list(b), "h100_fp8") == 448.0
    # with promotion: products 1..127 are lost behind 448 (first 128), products 128..255 (128 of them,
    # sum 2) accumulate exactly in a fresh FP22 register and are added to 448 in fp32
    assert _dot(list(a), list(b), "h100_fp8_promote128") == 450.0
    assert _dot(list(a), list(b), "exact") == 448.0 + 255 * 2.0**-6
