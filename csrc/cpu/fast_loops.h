// CPU loops of the fast float rule (lowprec/fast.h): vectorised, with the exact rule of core.h for
// the elements it does not cover. An AVX2 copy of the loops is chosen at run time where the CPU has it.
#pragma once

#include <cstdint>

#include "kernels.h"

namespace lowprec::cpu {

//: Encode as lowprec::cpu::encode does, when the fast rule fits the format, input and policy:
//: returns false (and touches nothing) when it does not; otherwise stores the error count in *errors.
bool fast_encode(const void* x, int x_bytes, void* out, int out_bytes, int64_t count, const FloatParams& p,
                 int mode, int ovf, const RandomSource& rs, int64_t* errors);

//: Quantize as lowprec::cpu::quantize does, when the fast rule fits; returns false otherwise.
bool fast_quantize(const void* x, int x_bytes, void* out, int64_t count, const FloatParams& p, int mode, int ovf,
                   const RandomSource& rs);

//: The instruction sets the fast loops were compiled for, best first ("avx512", "avx2", "baseline").
const char* const* fast_isas(int* count);

//: The instruction set the fast loops use now.
const char* fast_isa();

//: Use the loops of instruction set `name` (one of fast_isas() that this CPU runs); false when it cannot.
bool set_fast_isa(const char* name);

}  // namespace lowprec::cpu
