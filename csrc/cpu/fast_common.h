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

//: `call` (a chunk-loop call without namespace) on the copy of the current instruction set.
#if LOWPREC_FAST_HAVE_AVX2
#define LOWPREC_FAST_CALL(avx2_flag, ...) ((avx2_flag) ? avx2::__VA_ARGS__ : baseline::__VA_ARGS__)
#else
#define LOWPREC_FAST_CALL(avx2_flag, ...) ((void)(avx2_flag), baseline::__VA_ARGS__)
#endif

//: Runs chunk(lo, hi) over [0, count) in pieces of kChunk elements, on OpenMP threads from
//: kParallelMin elements on; a chunk returns whether some element needs the exact rule, and then
//: fix(j) redoes every element j of it that does (returning 1 for an element without a result,
//: 0 otherwise). Returns the sum of fix's results.
template <class Chunk, class Fix>
int64_t run_chunks(int64_t count, const Chunk& chunk, const Fix& fix) {
  const int64_t chunks = (count + kChunk - 1) / kChunk;
  int64_t errors = 0;
#pragma omp parallel for schedule(static) reduction(+ : errors) if (count >= kParallelMin)
  for (int64_t k = 0; k < chunks; ++k) {
    const int64_t lo = k * kChunk;
    const int64_t hi = lo + kChunk < count ? lo + kChunk : count;
    if (!chunk(lo, hi)) continue;
    for (int64_t j = lo; j < hi; ++j) errors += fix(j);
  }
  return errors;
}

//: Calls fn(rand) with the random source of rs: the counter stream of rs.seed, or explicit uint64
//: bits (callers send uint32 bits to the scalar loops).
template <class Fn>
auto with_random_source(const RandomSource& rs, Fn&& fn) {
  if (rs.bits == nullptr) return fn(CounterRand{splitmix64(rs.seed), rs.start, rs.n});
  return fn(ExplicitRand{static_cast<const uint64_t*>(rs.bits)});
}

}  // namespace lowprec::cpu::fastloops
