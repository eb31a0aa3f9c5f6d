// Conversion of the Python FloatParams tuple (src/lowprec/_params.py) to lowprec::FloatParams.
#pragma once

#include <nanobind/nanobind.h>

#include <stdexcept>

#include "lowprec/block.h"
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

//: Read a block geometry (P, L1, Q, L2, R, b1, b2) (lowprec.formats._block.block_geometry).
inline BlockGeometry geometry_from_tuple(const nb::tuple& t) {
  if (t.size() != 7) throw std::invalid_argument("geometry must be (P, L1, Q, L2, R, b1, b2)");
  BlockGeometry gm;
  gm.p = nb::cast<int64_t>(t[0]);
  gm.l1 = nb::cast<int64_t>(t[1]);
  gm.q = nb::cast<int64_t>(t[2]);
  gm.l2 = nb::cast<int64_t>(t[3]);
  gm.r = nb::cast<int64_t>(t[4]);
  gm.b1 = nb::cast<int64_t>(t[5]);
  gm.b2 = nb::cast<int64_t>(t[6]);
  if (gm.p < 0 || gm.l1 < 0 || gm.q < 0 || gm.l2 < 0 || gm.r < 0 || gm.b1 < 1 || gm.b2 < 1) {
    throw std::invalid_argument("bad block geometry");
  }
  return gm;
}

//: Read a block format: element and scale FloatParams, and (rule, elem_int, elem_bits, elem_mag_bits,
//: tensor scale g, max_elem * g).
inline BlockParams block_from_tuples(const nb::tuple& elem, const nb::tuple& scale, const nb::tuple& block) {
  if (block.size() != 6) throw std::invalid_argument("block must be (rule, elem_int, elem_bits, mag_bits, g, div)");
  BlockParams bp;
  bp.elem = params_from_tuple(elem);
  bp.scale = params_from_tuple(scale);
  bp.rule = nb::cast<int32_t>(block[0]);
  bp.elem_int = nb::cast<bool>(block[1]) ? 1 : 0;
  bp.elem_bits = nb::cast<int32_t>(block[2]);
  bp.elem_mag_bits = nb::cast<int32_t>(block[3]);
  bp.g = nb::cast<double>(block[4]);
  bp.div = nb::cast<double>(block[5]);
  if (bp.rule < kRuleFloor || bp.rule > kRuleAmax) throw std::invalid_argument("unknown scale rule");
  if (bp.elem_bits < 1 || bp.elem_bits > 16 || bp.elem_mag_bits < 1 || bp.elem_mag_bits > bp.elem_bits) {
    throw std::invalid_argument("element codes have 1..16 bits");
  }
  if (bp.elem.mbits > 20 || bp.scale.mbits > 15) throw std::invalid_argument("too many mantissa bits");
  if (bp.rule != kRuleAmax && bp.scale.mbits != 0) {
    throw std::invalid_argument("power-of-two scale rules need a scale format without mantissa bits");
  }
  if (bp.scale.sign_mask > 0xFF || bp.scale.nan_code < 0 || bp.scale.nan_code > 0xFF) {
    throw std::invalid_argument("scale formats have 8-bit codes and a NaN");
  }
  if (!(bp.g > 0) || !(bp.div > 0)) throw std::invalid_argument("g and div must be positive");
  return bp;
}

}  // namespace lowprec::bindings
