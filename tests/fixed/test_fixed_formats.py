from fractions import Fraction

import pytest

from lowprec._fixed_modes import FixedOverflow, FixedRounding, parse_fixed_overflow, parse_fixed_rounding
from lowprec.formats._fixed import FixedFormat
from lowprec.formats._int import IntFormat
from lowprec.rounding import Rounding


def test_properties():
    f = FixedFormat(8, 3)
    assert (f.frac_bits, f.min, f.max, f.resolution) == (5, Fraction(-4), Fraction(127, 32), Fraction(1, 32))
    u = FixedFormat(4, 6, signed=False)
    assert (u.frac_bits, u.min, u.max, u.resolution) == (-2, 0, 60, 4)
    n = FixedFormat.from_frac(4, 7)
    assert n.int_bits == -3 and n.max == Fraction(7, 128)
    assert FixedFormat(64, 1).max_code == 2**63 - 1 and FixedFormat(64, 0, False).max_code == 2**64 - 1
    assert FixedFormat.__lowprec_format__ == "fixed" and IntFormat.__lowprec_format__ == "int"
    assert hash(FixedFormat(8, 3)) == hash(FixedFormat(8, 3))


@pytest.mark.parametrize(
    "args, exc",
    [((0, 0), ValueError), ((65, 3), ValueError), ((8.0, 3), TypeError), ((8, 2000), ValueError),
     ((8, 3, 1), TypeError), ((8, -1070), ValueError)],
)  # fmt: skip
def test_bad_formats(args, exc):
    with pytest.raises(exc):
        FixedFormat(*args)


@pytest.mark.parametrize(
    "fmt, q, o, n, text",
    [
        (FixedFormat(8, 3), "RND_CONV", "SAT", 0, "ap_fixed<8,3,AP_RND_CONV,AP_SAT>"),
        (FixedFormat(8, 3, False), "TRN", "WRAP", 0, "ap_ufixed<8,3>"),
        (FixedFormat(8, 3), "RND", "WRAP", 0, "ap_fixed<8,3,AP_RND>"),
        (FixedFormat(8, 3), "TRN", "SAT_SYM", 0, "ap_fixed<8,3,AP_TRN,AP_SAT_SYM>"),
        (FixedFormat(6, 9), "TRN", "WRAP_SM", 2, "ap_fixed<6,9,AP_TRN,AP_WRAP_SM,2>"),
        (FixedFormat(5, -2, False), "RND_MIN_INF", "WRAP", 1, "ap_ufixed<5,-2,AP_RND_MIN_INF,AP_WRAP,1>"),
    ],
)
def test_hls_roundtrip(fmt, q, o, n, text):
    assert fmt.hls(q, o, n) == text
    assert FixedFormat.from_hls(text) == (fmt, FixedRounding[q], FixedOverflow[o], n)


def test_from_hls_variants():
    assert FixedFormat.from_hls(" ap_ufixed< 8 , 3, RND, sat > ")[:3] == (
        FixedFormat(8, 3, False), FixedRounding.RND, FixedOverflow.SAT)  # fmt: skip
    assert FixedFormat.from_hls("ap_int<12>")[0] == FixedFormat(12, 12)
    assert FixedFormat.from_hls("ap_uint<7>")[0] == FixedFormat(7, 7, False)
    for bad in ("ap_fixed<8>", "fixed<8,3>", "ap_fixed<8,3,AP_FOO>", "ap_fixed<8,3,AP_TRN,AP_SAT,x>",
                "ap_ufixed<8,3,AP_TRN,AP_WRAP_SM>", "ap_fixed<8,3,AP_TO_ODD>", "ap_fixed<a,3>"):  # fmt: skip
        with pytest.raises(ValueError):
            FixedFormat.from_hls(bad)
    with pytest.raises(ValueError):
        FixedFormat(8, 3).hls("STOCHASTIC")
    with pytest.raises(ValueError):
        FixedFormat(8, 3).hls("TRN", "SAT", 2)


def test_mode_parsing():
    assert parse_fixed_rounding("toward_negative") == FixedRounding.TRN
    assert parse_fixed_rounding("toward_zero") == FixedRounding.TRN_ZERO
    assert parse_fixed_rounding("nearest_even") == FixedRounding.RND_CONV
    assert parse_fixed_rounding("nearest_away") == FixedRounding.RND_INF
    assert parse_fixed_rounding("AP_RND_MIN_INF") == FixedRounding.RND_MIN_INF
    assert parse_fixed_rounding(Rounding.TOWARD_POSITIVE) == FixedRounding.TRN_INF
    assert parse_fixed_rounding("sr") == FixedRounding.STOCHASTIC
    assert parse_fixed_overflow("saturate") == FixedOverflow.SAT
    assert parse_fixed_overflow(None) == FixedOverflow.WRAP
    with pytest.raises(ValueError, match="did you mean"):
        parse_fixed_rounding("rnd_conf")
    with pytest.raises(ValueError):
        parse_fixed_overflow("clamp")
    with pytest.raises(TypeError):
        parse_fixed_rounding(3)


def test_int_format():
    f = IntFormat(8)
    assert (f.qmin, f.qmax, str(f)) == (-128, 127, "int8")
    assert IntFormat(4, signed=False).as_fixed() == FixedFormat(4, 4, False)
    with pytest.raises(ValueError):
        IntFormat(0)
