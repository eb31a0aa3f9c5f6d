// Drivers of the fast float loops: per-chunk vectorised loops (fast_chunks.inc, one copy per
// instruction set), the exact rule for the elements they flag, OpenMP across chunks.
#include "fast_loops.h"

#include <atomic>
#include <cstring>
#include <limits>

#include "fast_common.h"
#include "lowprec/fast.h"

namespace lowprec::cpu {
namespace {

using namespace fastloops;

template <class F>
struct Lane;
template <>
struct Lane<float> {
  using type = int32_t;
  using utype = uint32_t;
};
template <>
struct Lane<double> {
  using type = int64_t;
  using utype = uint64_t;
};

}  // namespace

#define LOWPREC_FAST_CHUNKS "fast_chunks.inc"
#include "fast_copies.inc"

namespace {

#if LOWPREC_FAST_HAVE_AVX2
const char* const kIsaNames[] = {"avx512", "avx2", "baseline"};
constexpr int kIsaCount = 3;
bool cpu_has_avx2() {
  __builtin_cpu_init();  // harmless when libgcc's constructor already ran; needed if it has not
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
//: The features the avx512 copy is compiled for (fast_copies.inc); avx2 runs it too.
bool cpu_has_avx512() {
  return cpu_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
}
#else
const char* const kIsaNames[] = {"baseline"};
constexpr int kIsaCount = 1;
bool cpu_has_avx2() { return false; }
bool cpu_has_avx512() { return false; }
#endif

int best_isa() { return cpu_has_avx512() ? kIsaAvx512 : cpu_has_avx2() ? kIsaAvx2 : kIsaBaseline; }

std::atomic<int>& isa_choice() {
  static std::atomic<int> choice{best_isa()};
  return choice;
}

template <class F>
inline bool needs_exact(const F* x, int64_t j, const FastConsts& c) {
  using I = typename Lane<F>::type;
  I b;
  std::memcpy(&b, x + j, sizeof b);
  return fast_is_slow<I>(static_cast<I>(b & std::numeric_limits<I>::max()), b < 0, c);
}

template <int Mode, class F, class Out, class R>
int64_t encode_run(const F* x, Out* out, int64_t count, const FastConsts& c, const FloatParams& p, int ovf,
                   const R& rand, int n) {
  const int isa = isa_level();
  return run_chunks(
      count,
      [&](int64_t lo, int64_t hi) {
        return with_chunk_rand(isa, rand, lo, hi, [&](const auto& r) {
          using RC = std::decay_t<decltype(r)>;
          return LOWPREC_FAST_CALL(isa, encode_chunk<Mode, F, Out, RC>(x, out, lo, hi, c, r, n));
        });
      },
      [&](int64_t j) -> int64_t {
        if (!needs_exact(x, j, c)) return 0;
        const uint64_t code = encode_value(x[j], p, Mode, ovf, rand(j), n);
        out[j] = static_cast<Out>(code);
        return code == kEncodeError;
      });
}

template <int Mode, class F, class R>
void quantize_run(const F* x, F* out, int64_t count, const FastConsts& c, const FloatParams& p, int ovf,
                  const R& rand, int n) {
  const int isa = isa_level();
  run_chunks(
      count,
      [&](int64_t lo, int64_t hi) {
        if constexpr (Mode == kNearestEven) {
          if (c.fpu_rne) return LOWPREC_FAST_CALL(isa, quantize_chunk<Mode, F, R, true>(x, out, lo, hi, c, rand, n));
        }
        return with_chunk_rand(isa, rand, lo, hi, [&](const auto& r) {
          using RC = std::decay_t<decltype(r)>;
          return LOWPREC_FAST_CALL(isa, quantize_chunk<Mode, F, RC>(x, out, lo, hi, c, r, n));
        });
      },
      [&](int64_t j) -> int64_t {
        if (needs_exact(x, j, c)) {
          if constexpr (sizeof(F) == 4) {
            out[j] = quantize_f32(x[j], p, Mode, ovf, rand(j), n);
          } else {
            out[j] = quantize_f64(x[j], p, Mode, ovf, rand(j), n);
          }
        }
        return 0;
      });
}

// Calls fn(rand) with the random source of mode `Mode` for input F: none, the counter stream (in
// words for float32), or explicit bits.
template <int Mode, class F, class Fn>
auto with_rand(const RandomSource& rs, Fn&& fn) {
  if constexpr (Mode == kStochastic || Mode == kStochasticEqual) {
    return with_random_source<sizeof(F) == 4>(rs, fn);
  } else {
    return fn(NoRand{});
  }
}

template <int Mode, class F>
int64_t encode_mode(const F* x, void* out, int out_bytes, int64_t count, const FastConsts& c, const FloatParams& p,
                    int ovf, const RandomSource& rs) {
  return with_rand<Mode, F>(rs, [&](const auto& rand) -> int64_t {
    switch (out_bytes) {
      case 1: return encode_run<Mode>(x, static_cast<uint8_t*>(out), count, c, p, ovf, rand, rs.n);
      case 2: return encode_run<Mode>(x, static_cast<uint16_t*>(out), count, c, p, ovf, rand, rs.n);
      default: return encode_run<Mode>(x, static_cast<uint32_t*>(out), count, c, p, ovf, rand, rs.n);
    }
  });
}

template <int Mode, class F>
void quantize_mode(const F* x, F* out, int64_t count, const FastConsts& c, const FloatParams& p, int ovf,
                   const RandomSource& rs) {
  with_rand<Mode, F>(rs, [&](const auto& rand) { quantize_run<Mode>(x, out, count, c, p, ovf, rand, rs.n); });
}

// Calls fn(std::integral_constant<int, mode>{}) for a run-time rounding mode.
template <class Fn>
auto with_mode(int mode, Fn&& fn) {
  switch (mode) {
    case kNearestEven: return fn(std::integral_constant<int, kNearestEven>{});
    case kNearestAway: return fn(std::integral_constant<int, kNearestAway>{});
    case kNearestZero: return fn(std::integral_constant<int, kNearestZero>{});
    case kTowardZero: return fn(std::integral_constant<int, kTowardZero>{});
    case kTowardPositive: return fn(std::integral_constant<int, kTowardPositive>{});
    case kTowardNegative: return fn(std::integral_constant<int, kTowardNegative>{});
    case kToOdd: return fn(std::integral_constant<int, kToOdd>{});
    case kStochastic: return fn(std::integral_constant<int, kStochastic>{});
    default: return fn(std::integral_constant<int, kStochasticEqual>{});
  }
}

}  // namespace

bool fast_encode(const void* x, int x_bytes, void* out, int out_bytes, int64_t count, const FloatParams& p,
                 int mode, int ovf, const RandomSource& rs, int64_t* errors) {
  // 64-bit codes and uint32 random bits (but as words: float32 input, n <= 32) take the scalar
  // loops (rare; one loop copy fewer each)
  if (out_bytes == 8 || (is_stochastic(mode) && !random_fits(rs, x_bytes == 4))) return false;
  const FastConsts c = make_fast_consts(p, x_bytes == 4 ? 23 : 52, mode, ovf);
  if (!c.ok) return false;
  *errors = with_mode(mode, [&](auto m) -> int64_t {
    constexpr int M = decltype(m)::value;
    if (x_bytes == 4) return encode_mode<M>(static_cast<const float*>(x), out, out_bytes, count, c, p, ovf, rs);
    return encode_mode<M>(static_cast<const double*>(x), out, out_bytes, count, c, p, ovf, rs);
  });
  return true;
}

bool fast_quantize(const void* x, int x_bytes, void* out, int64_t count, const FloatParams& p, int mode, int ovf,
                   const RandomSource& rs) {
  if (is_stochastic(mode) && !random_fits(rs, x_bytes == 4)) return false;
  const FastConsts c = make_fast_consts(p, x_bytes == 4 ? 23 : 52, mode, ovf);
  if (!c.ok) return false;
  with_mode(mode, [&](auto m) {
    constexpr int M = decltype(m)::value;
    if (x_bytes == 4) {
      quantize_mode<M>(static_cast<const float*>(x), static_cast<float*>(out), count, c, p, ovf, rs);
    } else {
      quantize_mode<M>(static_cast<const double*>(x), static_cast<double*>(out), count, c, p, ovf, rs);
    }
  });
  return true;
}

const char* const* fast_isas(int* count) {
  // kIsaNames lists the levels from the best down: this CPU runs the last best_isa() + 1 of them
  *count = best_isa() + 1;
  return kIsaNames + (kIsaCount - *count);
}

const char* fast_isa() { return kIsaNames[kIsaCount - 1 - isa_choice().load()]; }

int fastloops::isa_level() { return isa_choice().load(); }

bool set_fast_isa(const char* name) {
  for (int level = 0; level <= best_isa(); ++level) {
    if (std::strcmp(name, kIsaNames[kIsaCount - 1 - level]) == 0) {
      isa_choice().store(level);
      return true;
    }
  }
  return false;
}

}  // namespace lowprec::cpu
