// Conversion of the flattened GemmProfile (lowprec.ops._gemm_cpp.gemm_args) to lowprec::GemmParams.
#pragma once

#include <nanobind/nanobind.h>

#include <stdexcept>

#include "lowprec/gemm.h"
#include "params.h"

namespace lowprec::bindings {

//: formats: FloatParams of (acc, promote, partial, out); ints: (amode, aovf, povf, wovf, omode, oovf,
//: block, keep, fused, promote, exact, tree, f32, sh); hi: the largest finite acc value (sh >= 0).
inline GemmParams gemm_from_tuples(const nb::tuple& formats, const nb::tuple& ints, double hi, int nsplit) {
  if (formats.size() != 4 || ints.size() != 14) throw std::invalid_argument("gemm: 4 formats and 14 ints");
  GemmParams g;
  g.acc = params_from_tuple(nb::cast<nb::tuple>(formats[0]));
  g.prom = params_from_tuple(nb::cast<nb::tuple>(formats[1]));
  g.part = params_from_tuple(nb::cast<nb::tuple>(formats[2]));
  g.out = params_from_tuple(nb::cast<nb::tuple>(formats[3]));
  int32_t v[14];
  for (int i = 0; i < 14; ++i) v[i] = nb::cast<int32_t>(ints[i]);
  g.amode = v[0], g.aovf = v[1], g.povf = v[2], g.wovf = v[3], g.omode = v[4], g.oovf = v[5];
  g.block = v[6], g.keep = v[7], g.fused = v[8], g.promote = v[9], g.exact = v[10], g.tree = v[11];
  g.f32 = v[12], g.sh = v[13];
  g.hi = hi;
  g.nsplit = nsplit;
  check_mode(g.amode, g.aovf, 0);
  check_mode(g.omode, g.oovf, 0);
  check_mode(kNearestEven, g.povf, 0);
  check_mode(kNearestEven, g.wovf, 0);
  if (is_stochastic(g.amode) || is_stochastic(g.omode)) {
    throw std::invalid_argument("gemm: deterministic rounding modes only");
  }
  if (g.block < 1 || g.keep > 62 || g.promote < 0) throw std::invalid_argument("gemm: bad block/keep/promote");
  if (g.sh >= 0 && (g.sh < 29 || g.sh > 51)) throw std::invalid_argument("gemm: sh must be -1 or in 29..51");
  if (g.nsplit < 1) throw std::invalid_argument("gemm: nsplit must be >= 1");
  return g;
}

}  // namespace lowprec::bindings
