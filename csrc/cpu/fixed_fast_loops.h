// CPU loops of the fixed-point fast rule (lowprec/fixed_fast.h): vectorised, with the exact rule of
// fixed.h for the elements it does not cover; an AVX2 copy chosen at run time as for the float loops.
#pragma once

#include <cstdint>

#include "kernels.h"
#include "lowprec/fixed.h"

namespace lowprec::cpu {

//: fixed_encode (fixed_kernels.h) when the fast rule fits the format, modes and random source:
//: returns false (touching nothing) when it does not, else stores the error count in *errors.
bool fixed_fast_encode(const void* x, int x_bytes, uint64_t* out, int64_t count, const FixedParams& fp, int q,
                       int o, const RandomSource& rs, int64_t* errors);

//: fixed_quantize (fixed_kernels.h) for out_bytes == x_bytes when the fast rule fits; false otherwise.
bool fixed_fast_quantize(const void* x, int x_bytes, void* out, int out_bytes, int64_t count, const FixedParams& fp,
                         int q, int o, const RandomSource& rs);

}  // namespace lowprec::cpu
