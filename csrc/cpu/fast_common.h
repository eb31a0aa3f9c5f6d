// Shared by the vectorised CPU loops (fast_loops.cc, fixed_fast_loops.cc): the random sources as
// types (so each loop has no branch on them), the chunking, and the run-time instruction-set choice.
#pragma once

#include <cstdint>
#include <type_traits>

#include "kernels.h"
#include "lowprec/core.h"
#include "lowprec/fast.h"

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#define LOWPREC_FAST_HAVE_AVX2 1
#else
#define LOWPREC_FAST_HAVE_AVX2 0
#endif

namespace lowprec::cpu::fastloops {

constexpr int64_t kParallelMin = 1 << 15;  // elements: below, one thread
constexpr int64_t kChunk = 4096;           // elements per vectorised pass (16-32 KiB of input)

//: The copy of the loops in use now: kIsaBaseline, kIsaAvx2 or kIsaAvx512 (the best this CPU runs,
//: unless set_fast_isa said otherwise).
enum IsaLevel : int { kIsaBaseline = 0, kIsaAvx2 = 1, kIsaAvx512 = 2 };
int isa_level();

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
//: The counter stream of n <= 32 bits for loops on 32-bit lanes: the element rule takes it as a
//: 32-bit word (fast_elem), filled for a whole chunk by random_words before the chunk's loop, so
//: the 64-bit mixer runs in a loop of its own (vectorised) and the rounding loop stays 32 bits
//: wide. operator() is CounterRand's, for the elements redone by the exact rule.
struct CounterWords {
  CounterRand rand;
  inline uint64_t operator()(int64_t i) const { return rand(i); }
};
//: Explicit random integers (uint64 or uint32) of n <= 32 bits for loops on 32-bit lanes: as
//: CounterWords, the chunk loops take them as words (shifted to the top by with_chunk_rand).
template <class T>
struct ExplicitWords {
  const T* bits;
  int n;
  inline uint64_t operator()(int64_t i) const { return bits[i]; }
};
//: The random words of a chunk [lo, hi): w[j - lo] for element j.
struct WordRand {
  const uint32_t* w;
  int64_t lo;
  inline uint32_t operator()(int64_t j) const { return w[j - lo]; }
};

//: w[i] = the n random bits of element `first + i` of the stream of `key`, at the top of a word.
LOWPREC_FAST_INLINE void random_words_body(uint64_t key, uint64_t first, int64_t count, int n,
                                           uint32_t* __restrict w) {
  const uint32_t keep = ~uint32_t{0} << (32 - n);
  uint64_t z = key + (first + 1) * kGolden;
  for (int64_t i = 0; i < count; ++i) {
    w[i] = static_cast<uint32_t>(splitmix64(z) >> 32) & keep;
    z += kGolden;
  }
}

//: w[j] = explicit random integer bits[j] (n <= 32 bits) at the top of a 32-bit word, j < count.
template <class T>
inline void explicit_words(const T* bits, int64_t count, int n, uint32_t* __restrict w) {
  const int up = 32 - n;
  for (int64_t j = 0; j < count; ++j) w[j] = static_cast<uint32_t>(bits[j]) << up;
}

//: `call` (a chunk-loop call without namespace) on the copy of instruction-set level `isa`.
#if LOWPREC_FAST_HAVE_AVX2
#define LOWPREC_FAST_CALL(isa, ...)                  \
  ((isa) == kIsaAvx512 ? avx512::__VA_ARGS__         \
   : (isa) == kIsaAvx2 ? avx2::__VA_ARGS__           \
                       : baseline::__VA_ARGS__)
#else
#define LOWPREC_FAST_CALL(isa, ...) ((void)(isa), baseline::__VA_ARGS__)
#endif

#if LOWPREC_FAST_HAVE_AVX2
__attribute__((target("avx2"))) inline void random_words_avx2(uint64_t key, uint64_t first, int64_t count, int n,
                                                              uint32_t* w) {
  random_words_body(key, first, count, n, w);
}
__attribute__((target("avx2,avx512f,avx512dq,avx512vl"))) inline void random_words_avx512(uint64_t key, uint64_t first,
                                                                                        int64_t count, int n,
                                                                                        uint32_t* w) {
  random_words_body(key, first, count, n, w);
}
#endif
inline void random_words(int isa, uint64_t key, uint64_t first, int64_t count, int n, uint32_t* w) {
#if LOWPREC_FAST_HAVE_AVX2
  if (isa == kIsaAvx512) return random_words_avx512(key, first, count, n, w);
  if (isa == kIsaAvx2) return random_words_avx2(key, first, count, n, w);
#endif
  (void)isa;
  random_words_body(key, first, count, n, w);
}

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
//: bits. Words32: loops on 32-bit lanes, which take n <= 32 bits as words (CounterWords,
//: ExplicitWords, uint32 explicit bits included); uint32 bits otherwise go elsewhere (callers).
template <bool Words32 = false, class Fn>
auto with_random_source(const RandomSource& rs, Fn&& fn) {
  if (rs.bits == nullptr) {
    const CounterRand rand{splitmix64(rs.seed), rs.start, rs.n};
    if constexpr (Words32) {
      if (rs.n <= 32) return fn(CounterWords{rand});
    }
    return fn(rand);
  }
  if constexpr (Words32) {
    if (rs.n <= 32 && rs.bits_bytes == 4) return fn(ExplicitWords<uint32_t>{static_cast<const uint32_t*>(rs.bits), rs.n});
    if (rs.n <= 32) return fn(ExplicitWords<uint64_t>{static_cast<const uint64_t*>(rs.bits), rs.n});
  }
  return fn(ExplicitRand{static_cast<const uint64_t*>(rs.bits)});
}

//: Whether with_random_source<Words32> takes the explicit bits of rs: uint64, or (Words32, n <= 32)
//: uint32 as words; callers send the others to the scalar loops.
inline bool random_fits(const RandomSource& rs, bool words32) {
  return rs.bits == nullptr || rs.bits_bytes == 8 || (words32 && rs.n <= 32);
}

template <class R>
inline constexpr bool kExplicitWords =
    std::is_same_v<R, ExplicitWords<uint32_t>> || std::is_same_v<R, ExplicitWords<uint64_t>>;

//: Calls chunk(r) with the random source of chunk [lo, hi) (hi - lo <= kChunk): its random words
//: for CounterWords and ExplicitWords, `rand` itself otherwise.
template <class R, class Chunk>
int with_chunk_rand(int isa, const R& rand, int64_t lo, int64_t hi, const Chunk& chunk) {
  if constexpr (std::is_same_v<R, CounterWords>) {
    alignas(64) uint32_t w[kChunk];
    random_words(isa, rand.rand.key, rand.rand.start + static_cast<uint64_t>(lo), hi - lo, rand.rand.n, w);
    return chunk(WordRand{w, lo});
  } else if constexpr (kExplicitWords<R>) {
    alignas(64) uint32_t w[kChunk];
    explicit_words(rand.bits + lo, hi - lo, rand.n, w);
    return chunk(WordRand{w, lo});
  } else {
    return chunk(rand);
  }
}

}  // namespace lowprec::cpu::fastloops
