// CPU loops over the fixed-point core (csrc/include/lowprec/fixed.h), type-erased for the bindings.
#pragma once

#include <cstdint>

#include "kernels.h"
#include "lowprec/fixed.h"

namespace lowprec::cpu {

//: Codes (int64 sign-extended / uint64, written as uint64) of `count` float32 (x_bytes 4) or float64
//: (8) values. Returns how many inputs have no code (NaN; an infinity under WRAP / WRAP_SM); their
//: codes are left as 0. Stochastic modes: rs.bits (uint32/uint64) or the counter-based stream.
int64_t fixed_encode(const void* x, int x_bytes, uint64_t* out, int64_t count, const FixedParams& fp, int q,
                     int o, const RandomSource& rs);

//: Rounded values (float32 or float64 by out_bytes) of float32/float64 values; NaN passes through
//: and an infinity under a wrapping mode gives NaN.
void fixed_quantize(const void* x, int x_bytes, void* out, int out_bytes, int64_t count, const FixedParams& fp,
                    int q, int o, const RandomSource& rs);

//: Values (float32 or float64 by out_bytes) of `count` codes (sign-extended uint64 for signed formats).
void fixed_decode(const uint64_t* codes, void* out, int out_bytes, int64_t count, const FixedParams& fp);

}  // namespace lowprec::cpu
