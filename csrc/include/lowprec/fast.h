// lowprec fast element rule: branch-free rounding of one finite float32/float64 element, for loops
// that the compiler turns into SIMD code (host) or that run without divergence (CUDA).
//
// The same arithmetic as src/lowprec/_numba/_float_simd.py (`_fast_elem`), restated on integer
// lanes of the input's width (int32 for float32, int64 for float64):
//
//   * the element is rounded at bit  s = (P - M) + max(emin_b - e, 0)  of its significand
//     (e its biased exponent, at least 1; emin_b the format's smallest normal exponent in the
//     input's bias), one formula for results in the normal and the subnormal range;
//   * the truncated code is  (sig >> s) + (max(e - emin_b, 0) << M): the implicit bit of sig lands
//     on the exponent field, and a carry of the rounding increment rolls into the next binade;
//   * the rounded value's bits are the input's bits with the s low bits cleared plus the increment
//     at bit s (the carry again runs into the exponent); below the whole significand they are 0 or
//     the smallest subnormal;
//   * overflow and the sign rules are selects between per-call constants (FastConsts).
//
// Elements the rule does not cover are flagged `slow` (NaN and Inf inputs, negative inputs of
// unsigned formats, nonzero results below the smallest normal of formats without subnormals);
// loops redo exactly those with the exact element rule of core.h. Formats the rule does not fit
// at all (no zero, more mantissa bits than the input, a range beyond the input's, 64-bit codes,
// an overflow result that is a NaN the format cannot encode) get FastConsts::ok == false.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "lowprec/core.h"

// The fast rule must be inlined into its loops, or they cannot be vectorised.
#if defined(__CUDACC__)
#define LOWPREC_FAST_INLINE __forceinline__
#elif defined(__GNUC__) || defined(__clang__)
#define LOWPREC_FAST_INLINE __attribute__((always_inline)) inline
#else
#define LOWPREC_FAST_INLINE inline
#endif

namespace lowprec {

//: Per-call constants of the fast rule for one format, input width, rounding mode and overflow policy.
struct FastConsts {
  bool ok;            // false: the fast rule does not fit this format and policy
  int32_t mbits;      // M, the format's stored mantissa bits
  int32_t sh;         // P - M: the rounding position of a normal result
  int32_t eminb;      // the format's emin in the input's biased exponent
  bool subnormals;    // the format has subnormals
  bool is_signed;     // the format has a sign bit
  bool negzero;       // the format has -0
  int64_t maxb;       // input-dtype bits of the largest finite value
  int64_t qminb;      // input-dtype bits of the smallest subnormal 2**(emin - M)
  int64_t signmask;   // sign bit of a code
  int64_t ovcode[2];  // code of an overflowing value: [positive, negative] (policy and mode applied)
  int64_t ovbits[2];  // input-dtype bits of the decoded overflow result (NaN: the quiet NaN of quantize_*)
  int64_t unit;       // 1, read at run time: GCC does not vectorise a constant shifted by per-lane counts
  int64_t topb;       // the biased exponent one above the largest finite value's
  bool fpu_rne;       // nearest-even quantize may run fast_rne_fpu (at least one mantissa bit, C finite)
};

namespace detail {

//: Input-dtype bits of a float64 value that is exact in the input dtype (P = 23: float32).
LOWPREC_HD inline int64_t input_bits(double v, int P) {
  if (P == 23) return static_cast<int64_t>(bits_of(static_cast<float>(v)));
  return static_cast<int64_t>(bits_of(v));
}

}  // namespace detail

//: The FastConsts of format `p` for float32 (P = 23) or float64 (P = 52) inputs.
LOWPREC_HD inline FastConsts make_fast_consts(const FloatParams& p, int P, int mode, int ovf) {
  FastConsts c{};
  const int bias = P == 23 ? 127 : 1023;
  const uint32_t fl = p.flags;
  c.ok = false;
  if (!(fl & kFlagZero) || p.mbits > P || p.emin < 1 - bias || p.emax > bias) return c;
  if ((p.sign_mask >> 63) != 0 || p.max_mag >= (int64_t{1} << 62)) return c;
  // codes of the input's width at most (float32: 8 exponent + 23 mantissa + sign bits)
  if (P == 23 && (p.sign_mask > (uint64_t{1} << 31) || p.max_mag >= (int64_t{1} << 31))) return c;
  for (int neg = 0; neg < 2; ++neg) {
    // a value beyond every format's range: the exact rule's overflow result
    const uint64_t code = encode_parts(neg != 0, kFinite, uint64_t{1} << P, p.emax + 2, P, p, mode, ovf, 0, 1);
    if (code == kEncodeError) return c;
    c.ovcode[neg] = static_cast<int64_t>(code);
    const double v = decode_to_f64(code, p);
    c.ovbits[neg] = v != v ? detail::input_bits(quiet_nan(false), P) : detail::input_bits(v, P);
  }
  c.mbits = p.mbits;
  c.sh = P - p.mbits;
  c.eminb = p.emin + bias;
  c.subnormals = (fl & kFlagSubnormals) != 0;
  c.is_signed = (fl & kFlagSigned) != 0;
  c.negzero = (fl & kFlagNegZero) != 0;
  c.maxb = detail::input_bits(decode_to_f64(static_cast<uint64_t>(p.max_mag), p), P);
  c.qminb = detail::input_bits(pow2(p.emin - p.mbits), P);
  c.signmask = static_cast<int64_t>(p.sign_mask);
  c.unit = 1;
  c.topb = (c.maxb >> P) + 1;
  // no subnormal takes part (the smallest step is at least twice the smallest normal), so a thread
  // that flushes subnormals (FTZ/DAZ) gets the same bits: its subnormal inputs round to 0 either way
  c.fpu_rne = p.mbits >= 1 && c.topb + c.sh <= (P == 23 ? 254 : 2046) && (c.qminb >> P) >= 2;
  c.ok = true;
  return c;
}

//: Result of the fast rule for one element.
template <class I>
struct FastResult {
  I slow;  // nonzero: the element needs the exact element rule (code and bits are then meaningless)
  I code;  // the code, sign included (in the lane type; the caller narrows it)
  I bits;  // the rounded value's bits in the input dtype, sign included
};

namespace detail {

// Conditions are lane masks (all ones or zero) of the lane type I, never bool: the vectoriser keeps
// mask arithmetic in SIMD registers but gives up on bool values that feed integer arithmetic.
template <class I>
LOWPREC_HD LOWPREC_FAST_INLINE I mask(bool c) {
  return c ? I(-1) : I(0);
}
template <class I>
LOWPREC_HD LOWPREC_FAST_INLINE I sel(I m, I a, I b) {
  return (a & m) | (b & ~m);
}
//: a << s and logical a >> s on the unsigned lane type with a count of the same width (0 <= s < width):
//: 64-bit lanes vectorise only so.
template <class I>
LOWPREC_HD LOWPREC_FAST_INLINE I shl(I a, I s) {
  using U = std::make_unsigned_t<I>;
  return static_cast<I>(static_cast<U>(a) << static_cast<U>(s));
}
template <class I>
LOWPREC_HD LOWPREC_FAST_INLINE I shr(I a, I s) {
  using U = std::make_unsigned_t<I>;
  return static_cast<I>(static_cast<U>(a) >> static_cast<U>(s));
}
template <class I>
LOWPREC_HD LOWPREC_FAST_INLINE I max0(I v) {
  return v > I(0) ? v : I(0);
}

//: Mask of the elements (magnitude bits `a`, sign mask `negm`) that need the exact rule.
template <class I>
LOWPREC_HD LOWPREC_FAST_INLINE I slow_mask(I a, I negm, I eminb, I unsigned_m, I nosub_m) {
  constexpr int P = sizeof(I) == 4 ? 23 : 52;
  constexpr I expf = sizeof(I) == 4 ? 0xFF : 0x7FF;
  const I exf = a >> P;
  const I e_eff = exf > I(1) ? exf : I(1);
  return mask<I>(exf == expf) | (negm & unsigned_m) | (nosub_m & mask<I>(e_eff < eminb) & mask<I>(a != I(0)));
}

//: The per-call constants of FastConsts in lane form. Every one is read unconditionally, up front: a
//: load under a select stops the vectoriser.
template <class I>
struct LaneConsts {
  I mb, eminb, sh, qminb, maxb, topb, signmask, ovcode_p, ovcode_n, ovbits_p, ovbits_n;
  I negzero_m, unsigned_m, nosub_m, mb0_m, unit;
};

template <class I>
LOWPREC_HD LOWPREC_FAST_INLINE LaneConsts<I> lane_consts(const FastConsts& c) {
  LaneConsts<I> k;
  k.mb = static_cast<I>(c.mbits);
  k.eminb = static_cast<I>(c.eminb);
  k.sh = static_cast<I>(c.sh);
  k.qminb = static_cast<I>(c.qminb);
  k.maxb = static_cast<I>(c.maxb);
  k.topb = static_cast<I>(c.topb);
  k.signmask = static_cast<I>(c.signmask);
  k.ovcode_p = static_cast<I>(c.ovcode[0]);
  k.ovcode_n = static_cast<I>(c.ovcode[1]);
  k.ovbits_p = static_cast<I>(c.ovbits[0]);
  k.ovbits_n = static_cast<I>(c.ovbits[1]);
  k.negzero_m = mask<I>(c.negzero);
  k.unsigned_m = mask<I>(!c.is_signed);
  k.nosub_m = mask<I>(!c.subnormals);
  k.mb0_m = mask<I>(c.mbits == 0);
  k.unit = static_cast<I>(c.unit);
  return k;
}

//: An element's sign mask, magnitude bits, exponent field, significand (implicit bit included) and
//: rounding position: bit s of the significand, s = P - M plus the binades below the format's emin,
//: clamped to s_c <= P + 2 (beyond P + 1 every bit goes, as at P + 2); bit = 2**s_c.
template <class I>
struct Position {
  I negm, a, exf, e_eff, sig, s, s_c, bit;
};

template <class I>
LOWPREC_HD LOWPREC_FAST_INLINE Position<I> position(I xb, const LaneConsts<I>& k) {
  constexpr int P = sizeof(I) == 4 ? 23 : 52;
  constexpr I one = 1;
  constexpr I zero = 0;
  constexpr I signbit = static_cast<I>(uint64_t{1} << (8 * sizeof(I) - 1));  // the top bit (a negative I)
  Position<I> q;
  q.negm = mask<I>(xb < zero);
  q.a = xb & ~signbit;
  q.exf = q.a >> P;
  q.e_eff = q.exf > one ? q.exf : one;
  q.sig = (q.a & ((one << P) - one)) | (mask<I>(q.exf != zero) & (one << P));
  q.s = k.sh + max0<I>(k.eminb - q.e_eff);
  q.s_c = q.s < P + 2 ? q.s : static_cast<I>(P + 2);
  q.bit = shl<I>(k.unit, q.s_c);
  return q;
}

//: The result's input-dtype bits from the rounded magnitude bits qb: the sign where kept, and the
//: overflow result beyond the largest finite value.
template <class I>
LOWPREC_HD LOWPREC_FAST_INLINE I signed_bits(I qb, I negm, I keep_sign, const LaneConsts<I>& k) {
  constexpr I signbit = static_cast<I>(uint64_t{1} << (8 * sizeof(I) - 1));
  return sel<I>(mask<I>(qb > k.maxb), sel<I>(negm, k.ovbits_n, k.ovbits_p), qb | (keep_sign & signbit));
}

}  // namespace detail

//: Whether an element of magnitude bits `a` (sign `neg`) needs the exact rule. I: int32_t (float32)
//: or int64_t (float64) lanes.
template <class I>
LOWPREC_HD LOWPREC_FAST_INLINE bool fast_is_slow(I a, bool neg, const FastConsts& c) {
  return detail::slow_mask<I>(a, detail::mask<I>(neg), static_cast<I>(c.eminb), detail::mask<I>(!c.is_signed),
                              detail::mask<I>(!c.subnormals)) != I(0);
}

//: The fast rule for the input bits `xb` (a float32 as int32, a float64 as int64). `r`: the element's
//: `n` random bits in the stochastic modes, as a uint64_t integer in [0, 2**n), or (float32 lanes,
//: n <= 32) as a uint32_t word holding them at its top (the low 32 - n bits zero), which keeps every
//: lane 32 bits wide. Straight-line code: every condition is a lane mask.
template <int Mode, class I, class R = uint64_t>
LOWPREC_HD LOWPREC_FAST_INLINE FastResult<I> fast_elem(I xb, R r, int n, const FastConsts& c) {
  using detail::mask;
  using detail::max0;
  using detail::sel;
  using detail::shl;
  using detail::shr;
  constexpr int P = sizeof(I) == 4 ? 23 : 52;
  constexpr I one = 1;
  constexpr I zero = 0;
  const detail::LaneConsts<I> k = detail::lane_consts<I>(c);
  const detail::Position<I> q = detail::position<I>(xb, k);
  const I negm = q.negm, a = q.a, e_eff = q.e_eff, sig = q.sig, s = q.s, s_c = q.s_c, bit = q.bit;
  const I rem = sig & (bit - one);
  const I half = bit >> 1;
  const I lo = shr<I>(sig, s_c) + shl<I>(max0<I>(e_eff - k.eminb), k.mb);  // truncated magnitude code
  const I inexact = mask<I>(rem != zero);
  const I odd = -(lo & one);
  I up;
  if constexpr (Mode == kNearestEven) {
    up = mask<I>(rem > half) | (mask<I>(rem == half) & odd & inexact);  // s == 0: rem == half == 0
  } else if constexpr (Mode == kNearestAway) {
    up = mask<I>(rem >= half) & inexact;
  } else if constexpr (Mode == kNearestZero) {
    up = mask<I>(rem > half);
  } else if constexpr (Mode == kTowardZero) {
    up = zero;
  } else if constexpr (Mode == kTowardPositive) {
    up = inexact & ~negm;
  } else if constexpr (Mode == kTowardNegative) {
    up = inexact & negm;
  } else if constexpr (Mode == kToOdd) {
    up = inexact & ~odd;
  } else if constexpr (Mode == kStochastic && std::is_same_v<R, uint32_t>) {
    static_assert(sizeof(I) == 4, "random words serve float32 lanes");
    // the rule below at 32-bit alignment: frac = floor(rem / 2**s * 2**32) cut to its top n bits
    // (rem < 2**24, so s > 32 + 23 leaves 0), and up iff frac + r carries out of 32 bits
    using U = uint32_t;
    const I lsh = max0<I>(32 - s);  // s <= 32: rem << (32 - s) fits (rem < 2**s); s == 0: rem == 0
    const I rsh = max0<I>(s - 32);
    const I wide = shl<I>(rem, lsh < 31 ? lsh : I(31));
    const I narrow = shr<I>(rem, rsh < 31 ? rsh : I(31));
    const U frac = static_cast<U>(sel<I>(mask<I>(s <= 32), wide, narrow)) & (~U(0) << (32 - n));
    up = mask<I>(static_cast<U>(frac + r) < r);
  } else if constexpr (Mode == kStochastic) {
    // floor(rem / 2**s * 2**n) + r >= 2**n, exactly (rem < 2**s, n <= 52)
    const int64_t d = static_cast<int64_t>(s) - n;
    const uint64_t rem64 = static_cast<uint64_t>(rem);
    const uint64_t frac = d >= 0 ? (rem64 >> (d < 63 ? d : 63)) : (rem64 << (-d < 63 ? -d : 63));
    up = mask<I>(frac + r >= (uint64_t{1} << n));
  } else if constexpr (std::is_same_v<R, uint32_t>) {  // kStochasticEqual, random word: its top bit
    up = inexact & mask<I>(static_cast<int32_t>(r) < 0);
  } else {  // kStochasticEqual
    up = inexact & mask<I>(r >= (uint64_t{1} << (n - 1)));
  }
  const I inc = up & one;
  const I mag = lo + inc;
  // the rounded magnitude in the input's bits; below the whole significand: 0 or the smallest subnormal
  const I sm = s < P ? s : static_cast<I>(P);
  const I qb_in = (a & ~(shl<I>(k.unit, sm) - one)) + shl<I>(inc, sm);
  const I qb = sel<I>(mask<I>(s <= P), qb_in, up & k.qminb);
  const I over = mask<I>(qb > k.maxb);
  const I keep_sign = negm & (mask<I>(mag != zero) | k.negzero_m);
  FastResult<I> res;
  res.slow = detail::slow_mask<I>(a, negm, k.eminb, k.unsigned_m, k.nosub_m);
  res.code = sel<I>(over, sel<I>(negm, k.ovcode_n, k.ovcode_p), mag | (keep_sign & k.signmask));
  res.bits = detail::signed_bits<I>(qb, negm, keep_sign, k);
  return res;
}

//: Whether `Mode` rounds by adding a constant below the rounding position (see fast_bits).
template <int Mode>
inline constexpr bool kAddendMode = Mode == kNearestEven || Mode == kNearestAway || Mode == kNearestZero ||
                                    Mode == kTowardZero || Mode == kTowardPositive || Mode == kTowardNegative;

//: The FastResult of a rule that forms no code (fast_bits, fast_rne_fpu): from the rounded magnitude
//: bits qb, the sign mask negm and the magnitude bits a of the input.
template <class I>
LOWPREC_HD LOWPREC_FAST_INLINE FastResult<I> bits_result(I qb, I negm, I a, const detail::LaneConsts<I>& k) {
  const I keep_sign = negm & (detail::mask<I>(qb != I(0)) | k.negzero_m);  // a zero keeps -0 if the format has it
  FastResult<I> res;
  res.slow = detail::slow_mask<I>(a, negm, k.eminb, k.unsigned_m, k.nosub_m);
  res.code = I(0);
  res.bits = detail::signed_bits<I>(qb, negm, keep_sign, k);
  return res;
}

//: (slow, bits) of the fast rule for the modes of kAddendMode: the same bits as fast_elem with fewer
//: operations, because no code is formed. With bit = 2**s and addend < bit, rounding the magnitude
//: bits `a` at position s <= P is (a + addend) & ~(bit - 1): the carry out of the dropped bits is the
//: increment and runs into the exponent by itself. Nearest-even's addend is bit/2 - 1 plus the kept
//: part's last bit, nearest-away's bit/2, nearest-zero's bit/2 - 1, the directed modes' 0 or bit - 1.
//: Past the significand (s > P) the result is 0 or the smallest subnormal, by the same carry test.
template <int Mode, class I>
LOWPREC_HD LOWPREC_FAST_INLINE FastResult<I> fast_bits(I xb, const FastConsts& c) {
  static_assert(kAddendMode<Mode>, "fast_bits: a mode that rounds by an addend");
  using detail::mask;
  const detail::LaneConsts<I> k = detail::lane_consts<I>(c);
  const detail::Position<I> q = detail::position<I>(xb, k);
  constexpr int P = sizeof(I) == 4 ? 23 : 52;
  constexpr I one = 1;
  constexpr I zero = 0;
  const I negm = q.negm, a = q.a, sig = q.sig, s_c = q.s_c, bit = q.bit;
  const I low = bit - one;
  const I half = bit >> 1;
  I addend;
  if constexpr (Mode == kNearestEven) {
    // the kept part's last bit; with no mantissa bits it also counts the binades above emin
    const I kept = detail::shr<I>(sig, s_c) + (k.mb0_m & detail::max0<I>(q.e_eff - k.eminb));
    addend = (half - one + (kept & one)) & low;
  } else if constexpr (Mode == kNearestAway) {
    addend = half;
  } else if constexpr (Mode == kNearestZero) {
    addend = (half - one) & low;
  } else if constexpr (Mode == kTowardPositive) {
    addend = low & ~negm;
  } else if constexpr (Mode == kTowardNegative) {
    addend = low & negm;
  } else {
    addend = zero;
  }
  const I tiny = mask<I>(sig + addend >= bit) & k.qminb;
  const I qb = detail::sel<I>(mask<I>(q.s <= P), (a + addend) & ~low, tiny);
  return bits_result<I>(qb, negm, a, k);
}

//: (slow, bits) of fast_elem<Mode> for the stochastic modes with a random word `w` (float32 lanes,
//: n <= 32 bits at the top of w), in fast_bits' addend form: the same bits with fewer operations.
//: Stochastic: floor(rem * 2**n / 2**s) + r >= 2**n  iff  rem + floor(w / 2**(32 - s)) >= 2**s
//: (for s >= n the addend is r * 2**(s - n) exactly; for s < n it drops r's low n - s bits, which
//: cannot change the sum's carry past an integer rem), so the addend (w >> 1) >> (31 - s) carries
//: into bit s exactly when the rule rounds up. Past the significand (s > P) the result is 0 or the
//: smallest subnormal: up iff f + w carries out of 32 bits, f = floor(sig * 2**32 / 2**s) (the
//: cut of f to n bits does not matter: w is a multiple of 2**(32 - n)). Stochastic-equal: the
//: addend is bit - 1 where w's top bit is set.
//: This overload takes the lane constants themselves (block_fast.h rounds on a block's grid with it).
template <int Mode>
LOWPREC_HD LOWPREC_FAST_INLINE FastResult<int32_t> fast_bits_word(int32_t xb, uint32_t w,
                                                                  const detail::LaneConsts<int32_t>& k) {
  static_assert(Mode == kStochastic || Mode == kStochasticEqual, "fast_bits_word: a stochastic mode");
  using I = int32_t;
  using U = uint32_t;
  using detail::mask;
  const detail::Position<I> q = detail::position<I>(xb, k);
  constexpr int P = 23;
  const I low = q.bit - I(1);
  I addend;
  I tiny_up;
  if constexpr (Mode == kStochastic) {
    const I sa = q.s < I(31) ? q.s : I(31);  // s <= P where the addend counts; s == 0 gives 0
    addend = static_cast<I>((w >> 1) >> static_cast<U>(I(31) - sa));
    const I u = detail::max0<I>(q.s - I(P + 1));  // s - 24 in the tiny lanes: f = (sig << 8) >> u
    const U f = ((static_cast<U>(q.sig) << 8) >> static_cast<U>(u < I(31) ? u : I(31))) & static_cast<U>(mask<I>(u < I(32)));
    tiny_up = mask<I>(f > ~w);
  } else {
    addend = low & mask<I>(static_cast<I>(w) < I(0));
    tiny_up = mask<I>(q.sig + addend >= q.bit);
  }
  const I qb = detail::sel<I>(mask<I>(q.s <= P), (q.a + addend) & ~low, tiny_up & k.qminb);
  return bits_result<I>(qb, q.negm, q.a, k);
}

template <int Mode>
LOWPREC_HD LOWPREC_FAST_INLINE FastResult<int32_t> fast_bits_word(int32_t xb, uint32_t w, const FastConsts& c) {
  return fast_bits_word<Mode>(xb, w, detail::lane_consts<int32_t>(c));
}

//: (slow, bits) of fast_bits<kNearestEven> by the FPU, for formats with FastConsts::fpu_rne. With
//: C = 2**(e - M + P) for e the exponent of |x| clamped to the format's range (C's ulp is the format's
//: step at |x|, and |x| < C), (|x| + C) - C is |x| rounded to the format's grid with ties to even in
//: one addition: C's significand is 1.0, so a tie's even sum is the even code (hence M >= 1). The
//: clamp keeps C finite; values beyond the largest binade are overflow either way.
template <class I>
LOWPREC_HD LOWPREC_FAST_INLINE FastResult<I> fast_rne_fpu(I xb, const FastConsts& c) {
  using detail::mask;
  using F = std::conditional_t<sizeof(I) == 4, float, double>;
  constexpr int P = sizeof(I) == 4 ? 23 : 52;
  constexpr I zero = 0;
  constexpr I signbit = static_cast<I>(uint64_t{1} << (8 * sizeof(I) - 1));
  const detail::LaneConsts<I> k = detail::lane_consts<I>(c);
  const I negm = mask<I>(xb < zero);
  const I a = xb & ~signbit;
  const I exf = a >> P;
  const I e_lo = exf > k.eminb ? exf : k.eminb;
  const I cb = ((e_lo < k.topb ? e_lo : k.topb) + k.sh) << P;
  F ax, big_c;
  std::memcpy(&ax, &a, sizeof ax);
  std::memcpy(&big_c, &cb, sizeof big_c);
  const F v = (ax + big_c) - big_c;
  I qb;
  std::memcpy(&qb, &v, sizeof qb);
  return bits_result<I>(qb, negm, a, k);
}

}  // namespace lowprec
