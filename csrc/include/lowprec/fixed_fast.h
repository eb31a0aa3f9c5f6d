// lowprec fixed-point fast element rule: one float64 element rounded to a fixed-point format in
// float64 arithmetic, branch-free, for loops that the compiler vectorises (host) or that run without
// divergence (CUDA).
//
// The arithmetic of src/lowprec/_numba/_fixed.py (`_fast`): v = x * 2**F is exact, and while
// |v| < 2**50 every floor, ceil, remainder and halving of v is exact in float64, so each HLS mode
// is a few float operations; the overflow modes are a clamp, a float wrap (exact for W <= 51) or a
// range test. The integer result R (|R| < 2**51) becomes a code through the 1.5 * 2**52 trick
// (no float-to-int64 conversion, which AVX2 lacks) and a value as R * 2**-F (exact, as the exact
// rule's decode computes it).
//
// Elements the rule does not cover are flagged (NaN, Inf, |v| >= 2**50, a v that underflowed,
// a result out of range under SAT_ZERO-free non-clamping modes); loops redo them with the exact
// rule of fixed.h. Formats and modes it does not fit get FixedFastConsts::ok == false.
#pragma once

#include <cmath>
#include <cstdint>

#include "lowprec/core.h"
#include "lowprec/fast.h"
#include "lowprec/fixed.h"

namespace lowprec {

//: Rounding-mode groups of the fast rule: the FixedRounding values 0..10 of single modes, and:
constexpr int kFixedGroupMag = 11;    // RND_ZERO, RND_INF: the magnitude rounded, ties down / up
constexpr int kFixedGroupStoch = 12;  // STOCHASTIC, STOCHASTIC_EQUAL

//: Overflow kinds of the fast rule.
enum FixedFastKind : int { kKindClamp = 0, kKindWrap = 1, kKindOther = 2 };

//: Per-call constants of the fixed-point fast rule.
struct FixedFastConsts {
  bool ok;          // false: the fast rule does not fit the format, modes and random bits
  int group;        // kTrn..kTrnInf, kFixedGroupMag or kFixedGroupStoch
  int kind;         // FixedFastKind
  bool alt;         // ties up (group Mag) / STOCHASTIC_EQUAL (group Stoch)
  bool under;       // v can underflow to 0 for a nonzero input: such elements take the exact rule
  bool zero_oor;    // SAT_ZERO: out of range gives 0
  double scale;     // 2**F
  double inv_scale; // 2**-F
  double cmin, cmax;  // the code range
  double lo_c, hi_c;  // the clamp bounds (SAT_SYM: -cmax below)
  double two_w, inv_two_w;  // 2**W, 2**-W (the float wrap)
  double p2n;       // 2**nb (stochastic modes)
  double lim;       // |v| bound of the rule (0: every element takes the exact rule)
};

//: The FixedFastConsts of a format, rounding mode q, overflow mode o and nb random bits.
//: `wide_input`: float64 inputs (float32 ones cannot underflow when scaled by 2**F, F > -900).
LOWPREC_HD inline FixedFastConsts make_fixed_fast_consts(const FixedParams& fp, int q, int o, int nb,
                                                         bool wide_input) {
  FixedFastConsts c{};
  c.ok = false;
  const int w = fp.bits;
  const int fb = fp.frac_bits;
  if (fb < -1022 || fb > 1022 || w < 1 || w > 64) return c;
  if (fixed_is_stochastic(q) && nb > 52) return c;
  const bool sgn = fp.is_signed != 0;
  // code range as doubles (exact: powers of two, or one less when below 2**53; wider ranges never
  // bind because |R| < 2**51)
  c.cmin = sgn ? -pow2(w - 1) : 0.0;
  c.cmax = sgn ? (w - 1 <= 52 ? pow2(w - 1) - 1.0 : pow2(w - 1)) : (w <= 52 ? pow2(w) - 1.0 : pow2(w));
  c.lo_c = (o == kSatSym && sgn && w > 1) ? -c.cmax : c.cmin;
  c.hi_c = c.cmax;
  if (o == kSat || o == kSatSym) {
    c.kind = kKindClamp;
  } else if (o == kWrap && fp.sat_bits == 0 && w <= 51) {
    c.kind = kKindWrap;
  } else {
    c.kind = kKindOther;
  }
  switch (q) {
    case kRndZero:
    case kRndInf: c.group = kFixedGroupMag; break;
    case kFixedStochastic:
    case kFixedStochasticEqual: c.group = kFixedGroupStoch; break;
    default: c.group = q; break;
  }
  c.alt = q == kRndInf || q == kFixedStochasticEqual;
  c.zero_oor = o == kSatZero;
  c.under = fb < (wide_input ? 0 : -900);
  c.scale = pow2(fb);
  c.inv_scale = pow2(-fb);
  c.two_w = w <= 51 ? pow2(w) : 0.0;
  c.inv_two_w = w <= 51 ? pow2(-w) : 0.0;
  c.p2n = fixed_is_stochastic(q) ? pow2(nb) : 1.0;
  c.lim = 1125899906842624.0;  // 2**50
  c.ok = true;
  return c;
}

namespace detail {

//: `r` (below 2**52) as a float64, exactly, from the bits of 2**52 + r (AVX2 converts no 64-bit integer).
LOWPREC_HD LOWPREC_FAST_INLINE double u52_to_f64(uint64_t r) {
  return double_from_bits(0x4330000000000000ull | r) - 4503599627370496.0;
}

//: The int64 (as its uint64 bits) of an integer-valued float64 R with |R| < 2**51.
LOWPREC_HD LOWPREC_FAST_INLINE uint64_t small_f64_to_u64(double rr) {
  constexpr double magic = 6755399441055744.0;  // 1.5 * 2**52: R + magic keeps R in its low bits
  return bits_of(rr + magic) - bits_of(magic);
}

}  // namespace detail

//: Result of the fixed-point fast rule for one element.
struct FixedFastResult {
  int64_t bad;  // 1: the element needs the exact rule (rr is then meaningless), else 0 (an integer,
                // not a bool: a bool member keeps the result in memory and the loop scalar)
  double rr;    // the rounded and overflowed integer R (-0 made +0)
};

//: v (float64, or float32 in the float32 lanes) rounded to an integer by a single rounding mode
//: that rounds v itself, not its magnitude (TRN, TRN_INF, TRN_ZERO, RND_CONV, RND, RND_MIN_INF,
//: TO_ODD): exact while |v| is below 2**50 in float64, 2**22 in float32.
template <int Group, class T>
LOWPREC_HD LOWPREC_FAST_INLINE T fixed_round_single(T v) {
  const T one = 1, half = static_cast<T>(0.5), zero = 0;
  if constexpr (Group == kTrn) {
    return std::floor(v);
  } else if constexpr (Group == kTrnInf) {
    return std::ceil(v);
  } else if constexpr (Group == kTrnZero) {
    return std::trunc(v);
  } else if constexpr (Group == kRndConv) {
    return std::nearbyint(v);  // ties to even under the default rounding mode
  } else if constexpr (Group == kRnd) {
    const T f = std::floor(v);
    return f + (v - f >= half ? one : zero);
  } else if constexpr (Group == kRndMinInf) {
    const T cl = std::ceil(v);
    return cl - (cl - v >= half ? one : zero);
  } else {
    static_assert(Group == kFixedToOdd, "fixed_round_single: a single rounding of v");
    const T f = std::floor(v);
    const T h = f * half;
    return f + ((v != f) & (std::floor(h) == h) ? one : zero);
  }
}

//: The fixed-point fast rule for the float64 `x` (a float32 input widened), group `Group`.
//: `r`: the element's nb random bits in the stochastic modes. Straight-line code.
template <int Group>
LOWPREC_HD LOWPREC_FAST_INLINE FixedFastResult fixed_fast_elem(double x, uint64_t r, const FixedFastConsts& c) {
  // every constant is read unconditionally up front: a load under a select stops the vectoriser
  const double scale = c.scale, lim = c.lim, p2n = c.p2n;
  const double cmin = c.cmin, cmax = c.cmax, lo_c = c.lo_c, hi_c = c.hi_c;
  const double two_w = c.two_w, inv_two_w = c.inv_two_w;
  const bool alt = c.alt, under = c.under, zero_oor = c.zero_oor;
  const int kind = c.kind;
  const double v = x * scale;
  double rr;
  if constexpr (Group < kFixedGroupMag) {  // a single mode (RND_ZERO, RND_INF, stochastic: groups)
    rr = fixed_round_single<Group>(v);
  } else {  // in magnitude: RND_ZERO, RND_INF, the stochastic modes
    const double a = std::fabs(v);
    const double fa = std::floor(a);
    const double ra = a - fa;  // exact
    const bool neg = v < 0.0;
    bool up;
    if constexpr (Group == kFixedGroupMag) {
      up = (ra > 0.5) | ((ra == 0.5) & alt);
    } else {
      // floor(rem * 2**n) + r >= 2**n, in float64: every operand is an integer below 2**53
      const double sc = ra * p2n;  // exact
      const double rf = detail::u52_to_f64(r);
      const bool up_pos = std::floor(sc) + rf >= p2n;
      const bool up_neg = (ra != 0.0) & (rf < std::ceil(sc));  // 2**n - ceil(...) + r < 2**n
      const bool up_eq = (ra != 0.0) & ((rf >= p2n * 0.5) != neg);
      // selects of bools spelt as logic: the vectoriser takes these, not a ?: between bools
      up = (alt & up_eq) | (!alt & ((neg & up_neg) | (!neg & up_pos)));
    }
    const double m = fa + (up ? 1.0 : 0.0);
    rr = neg ? -m : m;
  }
  bool ok = (std::fabs(v) < lim) & ((v != 0.0) | (x == 0.0) | !under);
  const double clamped = rr < lo_c ? lo_c : (rr > hi_c ? hi_c : rr);
  const double wrapped = rr - two_w * std::floor((rr - cmin) * inv_two_w);  // exact: W <= 51
  const bool in_range = (rr >= cmin) & (rr <= cmax);
  const double ranged = (zero_oor & !in_range) ? 0.0 : rr;
  // the kind is the same for every element: a blend of bit patterns under per-call masks (a select
  // on a loop-invariant condition does not vectorise)
  const uint64_t m_clamp = kind == kKindClamp ? ~uint64_t{0} : 0;
  const uint64_t m_wrap = kind == kKindWrap ? ~uint64_t{0} : 0;
  const uint64_t m_other = kind == kKindOther ? ~uint64_t{0} : 0;
  rr = double_from_bits((bits_of(clamped) & m_clamp) | (bits_of(wrapped) & m_wrap) | (bits_of(ranged) & m_other));
  ok = ok & ((kind != kKindOther) | in_range | zero_oor);
  FixedFastResult res;
  res.bad = ok ? 0 : 1;
  res.rr = rr + 0.0;  // -0 becomes +0
  return res;
}

//: Per-call constants of the float32-lane form of the fast rule (make_fixed_fast32): float32 input
//: and output, a deterministic mode or a stochastic one with n <= 32 random bits, 0 <= F <= 100 and
//: W <= 24 (W <= 22 for the float wrap). Then
//: v = x * 2**F is exact (or overflows, and is flagged), every floor, ceil, remainder and halving
//: of v is exact in float32 while |v| < 2**22, the clamp, the wrap (R - cmin < 2**23) and the
//: range test are exact, and R * 2**-F is the code's value, a float32 (the twin of Numba's
//: `f32_lanes`). Twice the lanes of the float64 form, and the overflow kind is a template argument.
struct FixedFast32 {
  bool ok;
  bool alt;       // RND_INF (group Mag): ties up; STOCHASTIC_EQUAL (group Stoch)
  bool zero_oor;  // SAT_ZERO
  float scale, inv_scale, cmin, cmax, lo_c, hi_c, two_w, inv_two_w;
  uint32_t keep;  // the stochastic modes: the top n bits of a random word (n <= 32)
};

//: The FixedFast32 of c; `n`: the random bits of the stochastic modes, which take n <= 32 (as
//: random words at the top of 32 bits, see fixed_fast_elem32).
LOWPREC_HD inline FixedFast32 make_fixed_fast32(const FixedFastConsts& c, const FixedParams& fp, int n) {
  FixedFast32 f{};
  const int w = fp.bits, fb = fp.frac_bits;
  const bool stoch_ok = c.group != kFixedGroupStoch || (n >= 1 && n <= 32);
  f.ok = c.ok && stoch_ok && fb >= 0 && fb <= 100 && w <= (c.kind == kKindWrap ? 22 : 24);
  if (!f.ok) return f;
  f.keep = c.group == kFixedGroupStoch ? ~uint32_t{0} << (32 - n) : 0;
  f.alt = c.alt;
  f.zero_oor = c.zero_oor;
  f.scale = static_cast<float>(c.scale);  // powers of two and integers below 2**24: exact
  f.inv_scale = static_cast<float>(c.inv_scale);
  f.cmin = static_cast<float>(c.cmin);
  f.cmax = static_cast<float>(c.cmax);
  f.lo_c = static_cast<float>(c.lo_c);
  f.hi_c = static_cast<float>(c.hi_c);
  f.two_w = static_cast<float>(c.two_w);
  f.inv_two_w = static_cast<float>(c.inv_two_w);
  return f;
}

//: Result of the float32-lane rule for one element.
struct FixedFast32Result {
  int32_t bad;  // 1: the element needs the exact rule (rr is then meaningless), else 0
  float rr;     // the rounded and overflowed integer R (-0 made +0)
};

//: The fast rule in float32 lanes for float32 `x`: `Group`, overflow kind `Kind`. `r`: in the
//: stochastic modes, the element's n random bits at the top of a word (the low 32 - n bits zero).
template <int Group, int Kind>
LOWPREC_HD LOWPREC_FAST_INLINE FixedFast32Result fixed_fast_elem32(float x, const FixedFast32& c, uint32_t r) {
  const float v = x * c.scale;
  float rr;
  if constexpr (Group == kFixedGroupStoch) {
    // fixed_fast_elem's rule at 32-bit alignment. g = ra * 2**32 (exact), its floor gf and whether
    // it has a fraction (ra < 1 - 2**-24, so gf + 1 < 2**32): positives round up iff
    // floor(ra * 2**n) + r >= 2**n, i.e. (gf cut to n bits) + r carries out of 32 bits; negatives
    // grow in magnitude iff r < ra * 2**n, i.e. r (as a word) < gf + (g has a fraction)
    const float a = std::fabs(v);
    const float fa = std::floor(a);
    const float ra = a - fa;  // exact while |v| < 2**22
    const bool neg = v < 0.0f;
    const float g = ra * 4294967296.0f;
    const bool top = g >= 2147483648.0f;
    const float gl = top ? g - 2147483648.0f : g;  // exact; below 2**31
    const int32_t gi = static_cast<int32_t>(gl);   // its floor
    const uint32_t gf = static_cast<uint32_t>(gi) + (top ? 0x80000000u : 0u);
    const uint32_t frac = gf & c.keep;
    const bool up_pos = static_cast<uint32_t>(frac + r) < r;
    const bool up_neg = r < gf + (gl != static_cast<float>(gi) ? 1u : 0u);
    const bool up_eq = (ra != 0.0f) & ((static_cast<int32_t>(r) < 0) != neg);
    const bool up = (c.alt & up_eq) | (!c.alt & ((neg & up_neg) | (!neg & up_pos)));
    const float m = fa + (up ? 1.0f : 0.0f);
    rr = neg ? -m : m;
  } else if constexpr (Group != kFixedGroupMag) {
    (void)r;
    rr = fixed_round_single<Group>(v);
  } else {  // RND_ZERO, RND_INF
    const float a = std::fabs(v);
    const float fa = std::floor(a);
    const float ra = a - fa;
    const float m = fa + ((ra > 0.5f) | ((ra == 0.5f) & c.alt) ? 1.0f : 0.0f);
    rr = v < 0.0f ? -m : m;
  }
  bool ok = std::fabs(v) < 4194304.0f;  // 2**22 (false for NaN and infinities)
  if constexpr (Kind == kKindClamp) {
    rr = rr < c.lo_c ? c.lo_c : (rr > c.hi_c ? c.hi_c : rr);
  } else if constexpr (Kind == kKindWrap) {
    rr = rr - c.two_w * std::floor((rr - c.cmin) * c.inv_two_w);
  } else {
    const bool in_range = (rr >= c.cmin) & (rr <= c.cmax);
    rr = (c.zero_oor & !in_range) ? 0.0f : rr;
    ok = ok & (in_range | c.zero_oor);
  }
  FixedFast32Result res;
  res.bad = ok ? 0 : 1;
  res.rr = rr + 0.0f;
  return res;
}

}  // namespace lowprec
