// Shared by the vectorised CPU loops (fast_loops.cc, fixed_fast_loops.cc): the random sources as
// types (so each loop has no branch on them), the chunking, and the run-time instruction-set choice.
#pragma once

#include <cstdint>

#include "kernels.h"
#include "lowprec/core.h"

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#define LOWPREC_FAST_HAVE_AVX2 1
#else
#define LOWPREC_FAST_HAVE_AVX2 0
#endif

namespace lowprec::cpu::fastloops {

constexpr int64_t kParallelMin = 1 << 15;  // elements: below, one thread
constexpr int64_t kChunk = 4096;           // elements per vectorised pass (16-32 KiB of input)

//: Whether the loops use their AVX2 copy now (the CPU has it and set_fast_isa did not say otherwise).
bool use_avx2();

// The random integer of element i, one type per source.
struct NoRand {
  inline uint64_t operator()(int64_t) const { return 0; }
};
struct CounterRand {
  uint64_t key;
  uint64_t start;
  int n;
  inline uint64_t operator()(int64_t i) const { return random_bits_keyed(key, start + static_cast<uint64_t>(i), n); }
};
struct ExplicitRand {
  const uint64_t* bits;
  inline uint64_t operator()(int64_t i) const { return bits[i]; }
};

//: Calls fn(rand) with the random source of rs: the counter stream of rs.seed, or explicit uint64
//: bits (callers send uint32 bits to the scalar loops).
template <class Fn>
auto with_random_source(const RandomSource& rs, Fn&& fn) {
  if (rs.bits == nullptr) return fn(CounterRand{splitmix64(rs.seed), rs.start, rs.n});
  return fn(ExplicitRand{static_cast<const uint64_t*>(rs.bits)});
}

}  // namespace lowprec::cpu::fastloops
