// Drivers of the fixed-point fast loops: per-chunk vectorised loops (fixed_fast_chunks.inc, one copy
// per instruction set), the exact rule of fixed.h for the elements they flag, OpenMP across chunks.
#include "fixed_fast_loops.h"

#include <type_traits>

#include "fast_common.h"
#include "lowprec/fixed_fast.h"

namespace lowprec::cpu {

#define LOWPREC_FAST_NS baseline
#define LOWPREC_FAST_ATTR
#include "fixed_fast_chunks.inc"
#undef LOWPREC_FAST_NS
#undef LOWPREC_FAST_ATTR

#if LOWPREC_FAST_HAVE_AVX2
#define LOWPREC_FAST_NS avx2
#define LOWPREC_FAST_ATTR __attribute__((target("avx2")))
#include "fixed_fast_chunks.inc"
#undef LOWPREC_FAST_NS
#undef LOWPREC_FAST_ATTR
#endif

namespace {

using namespace fastloops;

template <int Group, class F, class R>
int64_t encode_run(const F* x, uint64_t* out, int64_t count, const FixedFastConsts& c, const FixedParams& fp,
                   int q, int o, const R& rand, int n) {
  const int64_t chunks = (count + kChunk - 1) / kChunk;
  const bool avx2 = use_avx2();
  int64_t errors = 0;
#pragma omp parallel for schedule(static) reduction(+ : errors) if (count >= kParallelMin)
  for (int64_t k = 0; k < chunks; ++k) {
    const int64_t lo = k * kChunk;
    const int64_t hi = lo + kChunk < count ? lo + kChunk : count;
    int slow;
#if LOWPREC_FAST_HAVE_AVX2
    if (avx2) {
      slow = avx2::fixed_encode_chunk<Group>(x, out, lo, hi, c, rand);
    } else
#endif
    {
      (void)avx2;
      slow = baseline::fixed_encode_chunk<Group>(x, out, lo, hi, c, rand);
    }
    if (!slow) continue;
    for (int64_t j = lo; j < hi; ++j) {
      const double v = static_cast<double>(x[j]);
      if (!fixed_fast_elem<Group>(v, rand(j), c).bad) continue;
      if (fixed_input_invalid(v, o)) {
        ++errors;
        out[j] = 0;
      } else {
        out[j] = fixed_encode_f64(v, fp, q, o, rand(j), n);
      }
    }
  }
  return errors;
}

template <int Group, class F, class R>
void quantize_run(const F* x, F* out, int64_t count, const FixedFastConsts& c, const FixedParams& fp, int q, int o,
                  const R& rand, int n) {
  const int64_t chunks = (count + kChunk - 1) / kChunk;
  const bool avx2 = use_avx2();
#pragma omp parallel for schedule(static) if (count >= kParallelMin)
  for (int64_t k = 0; k < chunks; ++k) {
    const int64_t lo = k * kChunk;
    const int64_t hi = lo + kChunk < count ? lo + kChunk : count;
    int slow;
#if LOWPREC_FAST_HAVE_AVX2
    if (avx2) {
      slow = avx2::fixed_quantize_chunk<Group>(x, out, lo, hi, c, rand);
    } else
#endif
    {
      (void)avx2;
      slow = baseline::fixed_quantize_chunk<Group>(x, out, lo, hi, c, rand);
    }
    if (!slow) continue;
    for (int64_t j = lo; j < hi; ++j) {
      const double v = static_cast<double>(x[j]);
      if (!fixed_fast_elem<Group>(v, rand(j), c).bad) continue;
      // NaN passes through, as in the scalar loops
      out[j] = v != v ? x[j] : static_cast<F>(fixed_quantize_f64(v, fp, q, o, rand(j), n));
    }
  }
}

// Calls fn(std::integral_constant<int, group>{}, rand) for the fast rule's group and random source.
template <class Fn>
auto with_group(const FixedFastConsts& c, const RandomSource& rs, Fn&& fn) {
  using std::integral_constant;
  switch (c.group) {
    case kTrn: return fn(integral_constant<int, kTrn>{}, NoRand{});
    case kTrnZero: return fn(integral_constant<int, kTrnZero>{}, NoRand{});
    case kRnd: return fn(integral_constant<int, kRnd>{}, NoRand{});
    case kRndMinInf: return fn(integral_constant<int, kRndMinInf>{}, NoRand{});
    case kRndConv: return fn(integral_constant<int, kRndConv>{}, NoRand{});
    case kFixedToOdd: return fn(integral_constant<int, kFixedToOdd>{}, NoRand{});
    case kTrnInf: return fn(integral_constant<int, kTrnInf>{}, NoRand{});
    case kFixedGroupMag: return fn(integral_constant<int, kFixedGroupMag>{}, NoRand{});
    default:
      return with_random_source(rs, [&](const auto& rand) {
        return fn(integral_constant<int, kFixedGroupStoch>{}, rand);
      });
  }
}

bool fits(int x_bytes, int q, const RandomSource& rs) {
  // uint32 random bits take the scalar loops (one loop copy fewer)
  return (x_bytes == 4 || x_bytes == 8) && !(fixed_is_stochastic(q) && rs.bits != nullptr && rs.bits_bytes != 8);
}

}  // namespace

bool fixed_fast_encode(const void* x, int x_bytes, uint64_t* out, int64_t count, const FixedParams& fp, int q,
                       int o, const RandomSource& rs, int64_t* errors) {
  if (!fits(x_bytes, q, rs)) return false;
  const FixedFastConsts c = make_fixed_fast_consts(fp, q, o, rs.n, x_bytes == 8);
  if (!c.ok) return false;
  *errors = with_group(c, rs, [&](auto g, const auto& rand) -> int64_t {
    constexpr int G = decltype(g)::value;
    if (x_bytes == 4) return encode_run<G>(static_cast<const float*>(x), out, count, c, fp, q, o, rand, rs.n);
    return encode_run<G>(static_cast<const double*>(x), out, count, c, fp, q, o, rand, rs.n);
  });
  return true;
}

bool fixed_fast_quantize(const void* x, int x_bytes, void* out, int out_bytes, int64_t count, const FixedParams& fp,
                         int q, int o, const RandomSource& rs) {
  if (out_bytes != x_bytes || !fits(x_bytes, q, rs)) return false;
  const FixedFastConsts c = make_fixed_fast_consts(fp, q, o, rs.n, x_bytes == 8);
  if (!c.ok) return false;
  with_group(c, rs, [&](auto g, const auto& rand) {
    constexpr int G = decltype(g)::value;
    if (x_bytes == 4) {
      quantize_run<G>(static_cast<const float*>(x), static_cast<float*>(out), count, c, fp, q, o, rand, rs.n);
    } else {
      quantize_run<G>(static_cast<const double*>(x), static_cast<double*>(out), count, c, fp, q, o, rand, rs.n);
    }
    return 0;
  });
  return true;
}

}  // namespace lowprec::cpu
