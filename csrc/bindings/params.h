// Conversion of the Python FloatParams tuple (src/lowprec/_params.py) to lowprec::FloatParams.
#pragma once

#include <nanobind/nanobind.h>

#include <stdexcept>

#include "lowprec/core.h"

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

}  // namespace lowprec::bindings
