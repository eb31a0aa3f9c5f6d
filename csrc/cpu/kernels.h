// CPU loops over the lowprec core (csrc/include/lowprec/core.h), type-erased for the bindings.
#pragma once

#include <cstdint>

#include "lowprec/core.h"

namespace lowprec::cpu {

//: Where the random bits of the stochastic modes come from.
struct RandomSource {
  uint64_t seed = 0;           // stream seed (used when bits == nullptr)
  uint64_t start = 0;          // flat index of element 0 in the stream
  const void* bits = nullptr;  // explicit random integers, one per element, or nullptr
  int bits_bytes = 0;          // 4 (uint32) or 8 (uint64) when bits != nullptr
  int n = 0;                   // width of each random integer (1..52)
};

//: Encode `count` float32 (x_bytes == 4) or float64 (x_bytes == 8) values into codes of
//: `out_bytes` (1, 2, 4, 8) bytes each. Returns the number of elements whose result would be a NaN
//: in a format without NaN (their code is left as kEncodeError truncated to the code width).
int64_t encode(const void* x, int x_bytes, void* out, int out_bytes, int64_t count, const FloatParams& p,
               int mode, int ovf, const RandomSource& rs);

//: Round `count` values to the format, writing values of the input's dtype (x_bytes 4 or 8).
void quantize(const void* x, int x_bytes, void* out, int64_t count, const FloatParams& p, int mode, int ovf,
              const RandomSource& rs);

//: Values (float32 or float64: out_bytes 4 or 8) of `count` codes of `code_bytes` bytes each.
void decode(const void* codes, int code_bytes, void* out, int out_bytes, int64_t count, const FloatParams& p);

//: `count` random integers in [0, 2**n) of stream `seed`, from flat index `start` on.
void random_bits(uint64_t seed, uint64_t start, int64_t count, int n, uint64_t* out);

//: Whether the loops were compiled with OpenMP, and the maximum thread count they use.
int openmp_threads();

}  // namespace lowprec::cpu
