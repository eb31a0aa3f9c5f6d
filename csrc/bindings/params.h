// Conversion of the Python FloatParams tuple (src/lowprec/_params.py) to lowprec::FloatParams.
#pragma once

#include <nanobind/nanobind.h>

#include <stdexcept>

#include "lowprec/core.h"
#include "lowprec/fixed.h"

namespace lowprec::bindings {

namespace nb = nanobind;

//: Read the 8 fields of lowprec._params.FloatParams (a NamedTuple), in order.
inline FloatParams params_from_tuple(const nb::tuple& t) {
  if (t.size() != 8) throw std::invalid_argument("params must be the 8 fields of lowprec._params.FloatParams");
  FloatParams p;
  p.mbits = nb::cast<int32_t>(t[0]);
  p.emin = nb::cast<int32_t>(t[1]);
  p.emax = nb::cast<int32_t>(t[2]);
  p.max_mag = nb::cast<int64_t>(t[3]);
  p.inf_mag = nb::cast<int64_t>(t[4]);
  p.nan_code = nb::cast<int64_t>(t[5]);
  p.sign_mask = nb::cast<uint64_t>(t[6]);
  p.flags = nb::cast<uint32_t>(t[7]);
  if (p.mbits < 0 || p.mbits > 52) throw std::invalid_argument("params: mbits must be in 0..52");
  return p;
}

//: Check a rounding mode / overflow policy / random-bit width.
inline void check_mode(int mode, int ovf, int n) {
  if (mode < kNearestEven || mode > kStochasticEqual) throw std::invalid_argument("unknown rounding mode");
  if (ovf < kSaturate || ovf > kNan) throw std::invalid_argument("unknown overflow policy");
  if (is_stochastic(mode) && (n < 1 || n > 52)) {
    throw std::invalid_argument("stochastic rounding needs 1 <= n <= 52 random bits");
  }
}

//: Read (bits, frac_bits, signed, sat_bits) of a fixed-point format (lowprec._cpp.fixed_params).
inline FixedParams fixed_from_tuple(const nb::tuple& t) {
  if (t.size() != 4) throw std::invalid_argument("fixed params must be (bits, frac_bits, signed, sat_bits)");
  FixedParams p;
  p.bits = nb::cast<int32_t>(t[0]);
  p.frac_bits = nb::cast<int32_t>(t[1]);
  p.is_signed = nb::cast<bool>(t[2]) ? 1 : 0;
  p.sat_bits = nb::cast<int32_t>(t[3]);
  return p;
}

//: Check a fixed-point format, its modes and the random-bit width.
inline void check_fixed(const FixedParams& p, int q, int o, int n) {
  if (p.bits < 1 || p.bits > 64) throw std::invalid_argument("fixed point: bits must be in 1..64");
  if (p.frac_bits < -1022 || p.frac_bits > 1074) {
    throw std::invalid_argument("fixed point: frac_bits must be in -1022..1074");
  }
  if (p.sat_bits < 0 || p.sat_bits > p.bits) throw std::invalid_argument("fixed point: sat_bits must be in 0..bits");
  if (q < kTrn || q > kTrnInf) throw std::invalid_argument("unknown fixed-point rounding mode");
  if (o < kWrap || o > kWrapSm) throw std::invalid_argument("unknown fixed-point overflow mode");
  if (p.sat_bits && o != kWrap && o != kWrapSm) {
    throw std::invalid_argument("fixed point: saturation bits only apply to WRAP and WRAP_SM");
  }
  if (o == kWrapSm && !p.is_signed) throw std::invalid_argument("fixed point: WRAP_SM needs a signed format");
  if (fixed_is_stochastic(q) && (n < 1 || n > 62)) {
    throw std::invalid_argument("stochastic rounding needs 1 <= n <= 62 random bits");
  }
}

}  // namespace lowprec::bindings
