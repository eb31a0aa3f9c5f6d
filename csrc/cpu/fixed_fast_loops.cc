// Drivers of the fixed-point fast loops: per-chunk vectorised loops (fixed_fast_chunks.inc, one copy
// per instruction set), the exact rule of fixed.h for the elements they flag, OpenMP across chunks.
#include "fixed_fast_loops.h"

#include <type_traits>

#include "fast_common.h"
#include "lowprec/fixed_fast.h"

namespace lowprec::cpu {

#define LOWPREC_FAST_CHUNKS "fixed_fast_chunks.inc"
#include "fast_copies.inc"

namespace {

using namespace fastloops;

template <int Group, class F, class R>
int64_t encode_run(const F* x, uint64_t* out, int64_t count, const FixedFastConsts& c, const FixedParams& fp,
                   int q, int o, const R& rand, int n) {
  const int isa = isa_level();
  return run_chunks(
      count,
      [&](int64_t lo, int64_t hi) {
        return LOWPREC_FAST_CALL(isa, fixed_encode_chunk<Group>(x, out, lo, hi, c, rand));
      },
      [&](int64_t j) -> int64_t {
        const double v = static_cast<double>(x[j]);
        if (!fixed_fast_elem<Group>(v, rand(j), c).bad) return 0;
        const bool invalid = fixed_input_invalid(v, o);  // no code: 0, counted
        out[j] = invalid ? 0 : fixed_encode_f64(v, fp, q, o, rand(j), n);
        return invalid;
      });
}

template <int Group, class F, class R>
void quantize_run(const F* x, F* out, int64_t count, const FixedFastConsts& c, const FixedParams& fp, int q, int o,
                  const R& rand, int n) {
  const int isa = isa_level();
  run_chunks(
      count,
      [&](int64_t lo, int64_t hi) {
        return LOWPREC_FAST_CALL(isa, fixed_quantize_chunk<Group>(x, out, lo, hi, c, rand));
      },
      [&](int64_t j) -> int64_t {
        const double v = static_cast<double>(x[j]);
        if (fixed_fast_elem<Group>(v, rand(j), c).bad) {  // NaN passes through, as in the scalar loops
          out[j] = v != v ? x[j] : static_cast<F>(fixed_quantize_f64(v, fp, q, o, rand(j), n));
        }
        return 0;
      });
}

//: `rand`: NoRand, CounterWords or ExplicitWords (the stochastic modes take their bits as words).
template <int Group, int Kind, class R>
void quantize_run32(const float* x, float* out, int64_t count, const FixedFast32& c32, const FixedParams& fp, int q,
                    int o, const R& rand, int n) {
  const int isa = isa_level();
  run_chunks(
      count,
      [&](int64_t lo, int64_t hi) {
        return with_chunk_rand(isa, rand, lo, hi, [&](const auto& r) {
          using RC = std::decay_t<decltype(r)>;
          return LOWPREC_FAST_CALL(isa, fixed_quantize_chunk32<Group, Kind, RC>(x, out, lo, hi, c32, r));
        });
      },
      [&](int64_t j) -> int64_t {
        // the element's random word (its range test depends on the rounded value)
        const uint32_t w = Group == kFixedGroupStoch ? static_cast<uint32_t>(rand(j) << (32 - n)) : 0;
        if (fixed_fast_elem32<Group, Kind>(x[j], c32, w).bad) {  // NaN passes through, as in the scalar loops
          const double v = static_cast<double>(x[j]);
          out[j] = v != v ? x[j] : static_cast<float>(fixed_quantize_f64(v, fp, q, o, rand(j), n));
        }
        return 0;
      });
}

//: quantize_run32 for the overflow kind of c.
template <int G, class R>
void quantize32_kind(const float* x, float* out, int64_t count, const FixedFastConsts& c, const FixedFast32& c32,
                     const FixedParams& fp, int q, int o, const R& rand, int n) {
  if (c.kind == kKindClamp) {
    quantize_run32<G, kKindClamp>(x, out, count, c32, fp, q, o, rand, n);
  } else if (c.kind == kKindWrap) {
    quantize_run32<G, kKindWrap>(x, out, count, c32, fp, q, o, rand, n);
  } else {
    quantize_run32<G, kKindOther>(x, out, count, c32, fp, q, o, rand, n);
  }
}

//: Whether random source R suits the float32 lanes: none, or n <= 32 bits as words.
template <class R>
inline constexpr bool kLaneRand32 = std::is_same_v<R, NoRand> || std::is_same_v<R, CounterWords> || kExplicitWords<R>;

// Calls fn(std::integral_constant<int, group>{}, rand) for the fast rule's group and random source
// (Words32: n <= 32 bits as words, see with_random_source).
template <bool Words32 = false, class Fn>
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
      return with_random_source<Words32>(rs, [&](const auto& rand) {
        return fn(integral_constant<int, kFixedGroupStoch>{}, rand);
      });
  }
}

//: words: the caller takes n <= 32 random bits of float32 input as words (with_group<true>), so
//: uint32 random bits too; otherwise they take the scalar loops (one loop copy fewer).
bool fits(int x_bytes, int q, const RandomSource& rs, bool words) {
  return (x_bytes == 4 || x_bytes == 8) && !(fixed_is_stochastic(q) && !random_fits(rs, words && x_bytes == 4));
}

}  // namespace

bool fixed_fast_encode(const void* x, int x_bytes, uint64_t* out, int64_t count, const FixedParams& fp, int q,
                       int o, const RandomSource& rs, int64_t* errors) {
  if (!fits(x_bytes, q, rs, false)) return false;
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
  if (out_bytes != x_bytes || !fits(x_bytes, q, rs, true)) return false;
  const FixedFastConsts c = make_fixed_fast_consts(fp, q, o, rs.n, x_bytes == 8);
  if (!c.ok) return false;
  const FixedFast32 c32 = x_bytes == 4 ? make_fixed_fast32(c, fp, rs.n) : FixedFast32{};
  with_group<true>(c, rs, [&](auto g, const auto& rand) {
    constexpr int G = decltype(g)::value;
    if constexpr (kLaneRand32<std::decay_t<decltype(rand)>>) {
      if (c32.ok) {  // float32 lanes
        quantize32_kind<G>(static_cast<const float*>(x), static_cast<float*>(out), count, c, c32, fp, q, o, rand,
                           rs.n);
        return 0;
      }
    }
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
