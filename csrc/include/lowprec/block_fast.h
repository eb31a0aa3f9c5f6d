// lowprec block-scaled formats: vectorisable element rules for float32 input, bit-exact with
// block.h's exact rule where they apply (the Numba twins are in src/lowprec/_numba/_block_fast.py).
//
// Power-of-two scales (block_elem32, Numba `_elem32`): a block of scale 2**e rounds its elements on
// the grid "element format x 2**e". When that grid is exact in float32 (its smallest normal is a
// float32 normal, its largest value is finite), every element is rounded on its own float32 bits,
// in int32 lanes: shift right by 23 - M (more below the grid's smallest normal), decide the carry
// with the rounding mode, and rebuild the value with the carry running into the exponent (normal
// range) or by a magic-number subtraction (subnormal range, exact: c = 2**23 * Q has ulp Q);
// saturation is a min against the grid's largest value. Round-to-nearest-even can instead use the
// FPU (block_elem32_rne). The amax rule (NVFP4; block_elem_div) divides in float64, below; for FP4
// elements it compares against per-block thresholds instead (block_elem_steps).
// Quantize only (values, not codes); the stochastic modes by fast.h's fast_bits_word on the block's
// grid (block_lane_consts; power-of-two scales, n <= 32 random bits as 32-bit words). Blocks the
// rules do not cover (NaN/Inf, a grid beyond float32) are the caller's.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "block.h"
#include "fast.h"

namespace lowprec {

//: The element grid of one power-of-two block in float32 (make_block_grid32).
struct BlockGrid32 {
  int32_t thr;        // biased float32 exponent of the grid's smallest normal (>= 1)
  int32_t s0;         // 23 - element mantissa bits
  int32_t cb;         // float32 bits of c = 2**23 * Q, Q the grid's smallest step
  int32_t zero_sign;  // -1: a zero result keeps the input's sign (float elements); 0: integer elements
  float c;
  float maxv;  // the grid's largest value
};

//: Whether the fast rules cover the element format of `bp`: signed, with zero, subnormals and at least
//: one mantissa bit, and -0 for float elements (integer elements have none; the rules drop it).
LOWPREC_HD inline bool block_fast_elem_ok(const BlockParams& bp) {
  const int need = kFlagSubnormals | kFlagZero | kFlagSigned;
  return (bp.elem.flags & need) == need && bp.elem.mbits >= 1 && bp.elem.mbits <= 22 &&
         (bp.elem_int || (bp.elem.flags & kFlagNegZero));
}

//: Whether block_elem32 covers `bp`: a power-of-two rule and block_fast_elem_ok.
LOWPREC_HD inline bool block_fast32_fits(const BlockParams& bp) {
  return bp.rule != kRuleAmax && block_fast_elem_ok(bp);
}

//: The largest magnitude of x[0:n] as float32 bits (NaN above Inf, so one max finds both). Inlined into
//: the loops, so that a block's amax and elements stay in one vectorised pass.
LOWPREC_HD LOWPREC_FAST_INLINE int32_t block_amax32(const float* x, int64_t n) {
  int32_t am = 0;
  for (int64_t j = 0; j < n; ++j) {
    int32_t b;
    std::memcpy(&b, x + j, sizeof b);
    b &= 0x7FFFFFFF;
    am = b > am ? b : am;
  }
  return am;
}

//: Per-call constants of the fast block rule (make_block_fast32), from a format of block_fast32_fits.
struct BlockFast32 {
  int32_t rule;       // kRuleFloor, kRuleCeil, kRuleEven or kRuleRceil
  int32_t emax_e;     // element emax
  int32_t even_thr;   // "even": amax's 23-bit fraction from which the scale goes up (2**23 - 2**(22 - m))
  int32_t rceil_thr;  // "rceil": the element max's 24-bit significand aligned to amax's
  int32_t s_emin, s_emax, min_code;  // scale exponent range, code of 2**s_emin
  int32_t emin_e, mbits;              // element emin and mantissa bits
  int32_t maxv_bits;                  // float32 bits of the element format's largest value
  int32_t zero_sign;                  // -1: float elements (zeros keep their sign); 0: integer elements
};

LOWPREC_HD inline BlockFast32 make_block_fast32(const BlockParams& bp) {
  BlockFast32 f;
  const int m = bp.elem.mbits;
  f.rule = bp.rule;
  f.emax_e = bp.elem.emax;
  f.even_thr = (1 << 23) - (1 << (22 - m));
  const int64_t smax = (static_cast<int64_t>(bp.elem.max_mag) & ((int64_t{1} << m) - 1)) | (int64_t{1} << m);
  f.rceil_thr = static_cast<int32_t>(smax << (23 - m));
  f.s_emin = bp.scale.emin;
  f.s_emax = bp.scale.emax;
  f.min_code = (bp.scale.flags & kFlagZero) ? 1 : 0;
  f.emin_e = bp.elem.emin;
  f.mbits = m;
  f.maxv_bits = static_cast<int32_t>(bits_of(static_cast<float>(decode_to_f64(static_cast<uint64_t>(bp.elem.max_mag), bp.elem))));
  f.zero_sign = bp.elem_int ? 0 : -1;
  return f;
}

//: The scale exponent of a block whose amax (float32 bits) is a finite normal float32: block.h's
//: block_pow2_exponent and clamp, on the float32 bits.
LOWPREC_HD LOWPREC_FAST_INLINE int32_t block_exp32(int32_t am, const BlockFast32& f) {
  const int32_t frac = am & 0x7FFFFF;
  int32_t bump = 0;
  if (f.rule == kRuleCeil) {
    bump = frac != 0;
  } else if (f.rule == kRuleEven) {
    bump = frac >= f.even_thr;
  } else if (f.rule == kRuleRceil) {
    bump = (frac | 0x800000) > f.rceil_thr;
  }
  const int32_t e = (am >> 23) - 127 + bump - f.emax_e;
  return e < f.s_emin ? f.s_emin : (e > f.s_emax ? f.s_emax : e);
}

//: The element grid of a block with scale 2**e; false when it is not exact in float32 (its smallest
//: normal below float32's, or its largest value beyond float32's range).
LOWPREC_HD LOWPREC_FAST_INLINE bool block_grid32(const BlockFast32& f, int32_t e, BlockGrid32* g) {
  const int32_t t32 = f.emin_e + e + 127;
  const int32_t cexp = t32 - f.mbits + 23;
  const int32_t mexp = ((f.maxv_bits >> 23) & 0xFF) + e;
  if (t32 < 1 || cexp > 254 || mexp > 254) return false;
  g->thr = t32;
  g->s0 = 23 - f.mbits;
  g->cb = static_cast<int32_t>(static_cast<uint32_t>(cexp) << 23);
  g->zero_sign = f.zero_sign;
  const int32_t mb = f.maxv_bits + static_cast<int32_t>(static_cast<uint32_t>(e) << 23);
  std::memcpy(&g->c, &g->cb, sizeof g->c);
  std::memcpy(&g->maxv, &mb, sizeof g->maxv);
  return true;
}

//: The rounded value's float32 bits of the float32 bits `xi` on the grid `g` (deterministic `Mode`).
template <int Mode>
LOWPREC_HD LOWPREC_FAST_INLINE int32_t block_elem32(int32_t xi, const BlockGrid32& g) {
  using I = int32_t;
  using detail::mask;
  using detail::max0;
  using detail::sel;
  using detail::shl;
  using detail::shr;
  static_assert(Mode >= kNearestEven && Mode <= kToOdd, "block_elem32: a deterministic mode");
  constexpr I one = 1;
  constexpr I zero = 0;
  const I thr = g.thr, s0 = g.s0, cb = g.cb, zero_sign = g.zero_sign;
  const float c = g.c, maxv = g.maxv;
  const I negm = mask<I>(xi < zero);
  const I a = xi & I(0x7FFFFFFF);
  const I exf = a >> 23;
  const I d = thr - (exf > one ? exf : one);  // float32 subnormals share the step of exponent field 1
  const I subm = mask<I>(d > zero);
  const I s0d = s0 + max0<I>(d);
  const I s = s0d < I(25) ? s0d : I(25);  // sig < 2**24: shifts past 25 decide alike
  const I sig = (a & I(0x7FFFFF)) | (mask<I>(exf != zero) & I(0x800000));
  const I lo = shr<I>(sig, s);
  const I unit = shl<I>(one, s);
  const I rem = sig & (unit - one);
  const I half = shr<I>(unit, one);
  const I odd = -(lo & one);
  const I inexact = mask<I>(rem != zero);
  I up;
  if constexpr (Mode == kNearestEven) {
    up = mask<I>(rem > half) | (mask<I>(rem == half) & odd);
  } else if constexpr (Mode == kNearestAway) {
    up = mask<I>(rem >= half);
  } else if constexpr (Mode == kNearestZero) {
    up = mask<I>(rem > half);
  } else if constexpr (Mode == kTowardZero) {
    up = zero;
  } else if constexpr (Mode == kTowardPositive) {
    up = ~negm;
  } else if constexpr (Mode == kTowardNegative) {
    up = negm;
  } else {  // kToOdd
    up = ~odd;
  }
  const I inc = up & inexact & one;
  float v_sub, v_norm;
  const I sub_bits = cb + lo + inc;
  const I norm_bits = shl<I>(shr<I>(a, s0) + inc, s0);
  std::memcpy(&v_sub, &sub_bits, sizeof v_sub);
  std::memcpy(&v_norm, &norm_bits, sizeof v_norm);
  v_sub -= c;  // exact: the grid's subnormal range as k * Q
  v_sub = v_sub < maxv ? v_sub : maxv;
  v_norm = v_norm < maxv ? v_norm : maxv;  // saturate (a carry past float32's range gives Inf bits)
  I vs, vn;
  std::memcpy(&vs, &v_sub, sizeof vs);
  std::memcpy(&vn, &v_norm, sizeof vn);
  const I vb = sel<I>(subm, vs, vn);
  const I keep = negm & (zero_sign | mask<I>(vb != zero));
  return vb | (keep & I(0x80000000u));
}

//: The grid g as the lane constants of a float format, for fast.h's stochastic rule with random words
//: (fast_bits_word): smallest normal at biased exponent g.thr, normal rounding position g.s0, smallest
//: step Q = c / 2**23, largest value g.maxv; saturating (the overflow result is the largest value, with
//: the sign), zeros keeping their sign for float elements (g.zero_sign); never "slow" (the blocks the
//: rule takes have finite elements). The stochastic modes of the power-of-two rule round each element
//: by fast_bits_word<Mode>(x, w, block_lane_consts(g)).bits (Numba twin: `_word_consts`).
LOWPREC_HD LOWPREC_FAST_INLINE detail::LaneConsts<int32_t> block_lane_consts(const BlockGrid32& g) {
  detail::LaneConsts<int32_t> k{};
  int32_t maxb;
  std::memcpy(&maxb, &g.maxv, sizeof maxb);
  const int32_t qe = (g.cb >> 23) - 23;  // Q's biased exponent: a float32 subnormal below 1 (qe >= -21)
  k.mb = 23 - g.s0;
  k.eminb = g.thr;
  k.sh = g.s0;
  k.qminb = qe >= 1 ? static_cast<int32_t>(static_cast<uint32_t>(qe) << 23) : int32_t{1} << (22 + qe);
  k.maxb = maxb;
  k.topb = (maxb >> 23) + 1;
  k.ovbits_p = maxb;
  k.ovbits_n = static_cast<int32_t>(static_cast<uint32_t>(maxb) | 0x80000000u);
  k.negzero_m = g.zero_sign;
  k.unit = 1;
  return k;
}

//: block_elem32<kNearestEven> by the FPU: (|x| + C) - C with C = 2**23 times the grid step at |x|
//: (C = 2**(max(e_x, emin) - M + 23): its ulp is that step, and |x| < C) rounds |x| to the grid with
//: ties to even in one addition (a tie's even sum is the even grid code: C's significand is 1.0). For
//: blocks whose amax's biased exponent plus 23 - M stays below 255 (block_rne32_ok), or C overflows.
LOWPREC_HD LOWPREC_FAST_INLINE int32_t block_elem32_rne(int32_t xi, const BlockGrid32& g) {
  using I = int32_t;
  using detail::mask;
  const I a = xi & I(0x7FFFFFFF);
  const I exf = a >> 23;
  const I cbits = ((exf > g.thr ? exf : g.thr) + g.s0) << 23;
  float ax, c;
  std::memcpy(&ax, &a, sizeof ax);
  std::memcpy(&c, &cbits, sizeof c);
  float v = (ax + c) - c;
  v = v < g.maxv ? v : g.maxv;
  I vb;
  std::memcpy(&vb, &v, sizeof vb);
  const I keep = mask<I>(xi < 0) & (g.zero_sign | mask<I>(vb != 0));
  return vb | (keep & I(0x80000000u));
}

//: Whether block_elem32_rne may round a block of amax bits `am` on grid `g`: C stays finite, and the
//: grid's smallest step is at least twice float32's smallest normal, so that no subnormal takes part
//: (a thread that flushes subnormals, FTZ/DAZ, gets the same bits).
LOWPREC_HD LOWPREC_FAST_INLINE bool block_rne32_ok(int32_t am, const BlockGrid32& g) {
  return (am >> 23) + g.s0 <= 254 && (g.cb >> 23) >= 25;
}

// ---- the amax rule (NVFP4) -------------------------------------------------------------------------
// The scale is sat(RNE_scale(amax / (max_elem * g))) and an element's quotient |x| / (s * g). Both are
// formed by one correctly rounded float64 division, which cannot change a rounding decision for a
// 24-bit x when the bit bound of block_div_fits holds: the exact quotient is then either exactly a
// point of the grid (values and midpoints) or separated from each by a relative gap of at least
// 2**-(bits + 1), far above float64's half ulp (the Numba twin: `flat_amax_kernel`, `_round_grid`).
// The stochastic modes do not divide: block_elem_div_word decides by exact compares and an fma, for
// any tensor scale (block_div_word_fits).

//: Per-call constants of the amax-rule fast path (make_block_div).
struct BlockDiv {
  double den;        // max_elem * g
  double g;          // the tensor scale
  double s_maxv;     // the scale format's largest value
  int32_t s_max_sig, s_max_ex;  // the largest as s_max_sig * 2**s_max_ex
  double maxv;       // the element format's largest value
  int32_t s_mbits;   // scale mantissa bits
  int32_t s_emin;    // scale emin (biased float64 exponent - 1023)
  int64_t thr;       // biased float64 exponent of the element format's smallest normal
  int64_t mbits;     // element mantissa bits
  int32_t zero_sign; // as BlockFast32
};

//: Significant bits of a positive finite double (its odd significand's length).
LOWPREC_HD inline int odd_sig_bits(double v) {
  uint64_t sig;
  int ex;
  odd_sig_exp(v, &sig, &ex);
  return 64 - clz64(sig);
}

//: Whether the amax-rule fast path computes `bp` exactly: block_fast_elem_ok, a scale format with zero
//: and subnormals, and the bit bound on the scale's and the elements' quotients (stochastic modes with
//: n random bits: the 2**-n steps between grid points are decision points too, `n` more grid bits).
LOWPREC_HD inline bool block_div_fits(const BlockParams& bp, int n = 0) {
  if (bp.rule != kRuleAmax || !block_fast_elem_ok(bp)) return false;
  if ((bp.scale.flags & (kFlagSubnormals | kFlagZero)) != (kFlagSubnormals | kFlagZero)) return false;
  if (!(bp.g > 0.0) || !(bp.div > 0.0)) return false;
  const int g_bits = odd_sig_bits(bp.g);
  const int den_bits = odd_sig_bits(bp.div);
  const int div_bits = bp.scale.mbits + 1 + g_bits;
  const int grid_bits = bp.elem.mbits + 2 + n;
  const int a = bp.scale.mbits + 2 + den_bits, b = grid_bits + div_bits;
  return (a > 24 ? a : 24) + 2 <= 52 && (b > 24 ? b : 24) + 2 <= 52;
}

LOWPREC_HD inline BlockDiv make_block_div(const BlockParams& bp) {
  BlockDiv d;
  d.den = bp.div;
  d.g = bp.g;
  d.s_maxv = decode_to_f64(static_cast<uint64_t>(bp.scale.max_mag), bp.scale);
  uint64_t msig;
  int mex;
  odd_sig_exp(d.s_maxv, &msig, &mex);
  d.s_max_sig = static_cast<int32_t>(msig);
  d.s_max_ex = mex;
  d.maxv = decode_to_f64(static_cast<uint64_t>(bp.elem.max_mag), bp.elem);
  d.s_mbits = bp.scale.mbits;
  d.s_emin = bp.scale.emin;
  d.thr = bp.elem.emin + 1023;
  d.mbits = bp.elem.mbits;
  d.zero_sign = bp.elem_int ? 0 : -1;
  return d;
}

//: 2**k for -1022 <= k <= 1023, from its bits: core.h's pow2 without its subnormal branch, which would
//: cost a select per lane in the vectorised loops (every k here is in the normal range).
LOWPREC_HD LOWPREC_FAST_INLINE double pow2_bits(int64_t k) {
  const int64_t b = (k + 1023) << 52;
  double v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

//: The scale of a block whose amax (float32 bits) is finite, as sig * 2**ex (sig a positive integer):
//: block.h's block_scale on the float64 quotient's bits (RNE on the scale grid, saturating, a zero
//: scale made the smallest one).
LOWPREC_HD LOWPREC_FAST_INLINE void block_amax_scale_parts(int32_t am, const BlockDiv& d, int32_t* sig, int32_t* ex) {
  float a;
  std::memcpy(&a, &am, sizeof a);
  const double qs = static_cast<double>(a) / d.den;  // a normal float64, or 0
  int64_t qb;
  std::memcpy(&qb, &qs, sizeof qb);
  int64_t e = (qb >> 52) - 1023;
  e = e > d.s_emin ? e : d.s_emin;
  const double k = ::rint(qs * pow2_bits(d.s_mbits - e));  // the significand on the scale grid
  const int32_t x = static_cast<int32_t>(e - d.s_mbits);
  const bool over = k * pow2_bits(x) > d.s_maxv;
  *sig = k == 0.0 ? 1 : (over ? d.s_max_sig : static_cast<int32_t>(k));
  *ex = k == 0.0 ? d.s_emin - d.s_mbits : (over ? d.s_max_ex : x);
}

//: The dequantized value of float32 `x` in a block of divisor `div` = scale * g (deterministic Mode):
//: the quotient |x| / div rounded on the element grid with the CPU's rounding instructions (y is q in
//: units of its grid step, exact), saturated, signed, times div (exact), rounded once to float32.
template <int Mode>
LOWPREC_HD LOWPREC_FAST_INLINE float block_elem_div(float x, double div, const BlockDiv& d) {
  static_assert(Mode >= kNearestEven && Mode <= kToOdd, "block_elem_div: a deterministic mode");
  const double xv = static_cast<double>(x);
  const double q = ::fabs(xv) / div;  // -0 too: the sign is applied last
  int64_t qb;
  std::memcpy(&qb, &q, sizeof qb);
  const int64_t eb = qb >> 52;
  const int64_t e = eb > d.thr ? eb : d.thr;
  const double y = q * pow2_bits(d.mbits - e + 1023);
  int32_t xi;
  std::memcpy(&xi, &x, sizeof xi);
  const bool neg = xi < 0;  // the sign bit (-0 included)
  double k;
  if constexpr (Mode == kNearestEven) {
    k = ::rint(y);
  } else if constexpr (Mode == kNearestAway) {
    k = ::floor(y + 0.5);  // exact: y < 2**(M + 1), its ulp is at most 2**-1
  } else if constexpr (Mode == kNearestZero) {
    k = ::ceil(y - 0.5) + 0.0;  // + 0.0: ceil(-0.3) is -0
  } else if constexpr (Mode == kTowardZero) {
    k = ::trunc(y);
  } else if constexpr (Mode == kTowardPositive) {
    k = neg ? ::trunc(y) : ::ceil(y);  // on the magnitude
  } else if constexpr (Mode == kTowardNegative) {
    k = neg ? ::ceil(y) : ::trunc(y);
  } else {  // kToOdd: truncate, and make an inexact result odd
    const double t = ::trunc(y);
    k = (t != y && t - 2.0 * ::floor(t * 0.5) == 0.0) ? t + 1.0 : t;
  }
  double v = k * pow2_bits(e - 1023 - d.mbits);
  v = v < d.maxv ? v : d.maxv;
  const bool keep = neg && (d.zero_sign != 0 || v != 0.0);  // integer elements have no -0
  return static_cast<float>((keep ? -v : v) * div);
}

//: Whether block_elem_div_word rounds `bp` exactly in the stochastic modes (n <= 32 random bits), for
//: any tensor scale: block_div_fits(bp), which bounds the products of a grid point and the divisor to
//: 50 significant bits; element significands of at most 20 bits (c below stays an exact float64
//: integer); and u = step * div * 2**-32 a float64 normal even for the smallest scale and step (so
//: that it is exact).
LOWPREC_HD inline bool block_div_word_fits(const BlockParams& bp) {
  if (!block_div_fits(bp) || bp.elem.mbits > 20) return false;
  int ge = 0;
  ::frexp(bp.g, &ge);  // g < 2**ge
  const int u_exp = (bp.scale.emin - bp.scale.mbits) + (ge - 1) + (bp.elem.emin - bp.elem.mbits) - 32;
  return u_exp >= -1020;
}

//: block_elem_div for the stochastic modes, with the element's random word `w` (its n <= 32 random bits
//: at the top; Numba twin `_run64_sr`) and rdiv = fl(1 / div), under block_div_word_fits. The quotient
//: a / div (a = |x|) is approximated by q = a * rdiv, within a relative 2**-52 (two roundings). A grid
//: point times div, P = k * step * div, has at most 50 significant bits, so a float32 a != P lies at a
//: relative 2**-50 or more from P: q cannot pass P in either direction, and floor(q / step) and q's
//: binade are the exact quotient's, except when a == P exactly and q falls just below it. One exact
//: compare, a >= (k + 1) * step * div, moves k up there (the result is then P itself, whatever the
//: binade: its dropped fraction is 0). Then, with the dropped fraction f = a / (step * div) - k, the
//: reference's rule floor(f * 2**n) + r >= 2**n is, for the word w = r * 2**(32 - n),
//: f * 2**32 >= 2**32 - w, that is a >= u * c with u = step * div * 2**-32 and c = (k + 1) * 2**32 - w
//: (an integer below 2**53): decided exactly by the sign of fma(u, c, -a). Stochastic-equal: w's top
//: bit and a != k * step * div. No division; the rounded value (k + up) * step is exact, saturated,
//: signed, times div (exact) and rounded once to float32. (GCC keeps the loop scalar; four-lane AVX2
//: intrinsics measured no faster.)
template <int Mode>
LOWPREC_HD LOWPREC_FAST_INLINE float block_elem_div_word(float x, uint32_t w, double div, double rdiv,
                                                         const BlockDiv& d) {
  static_assert(Mode == kStochastic || Mode == kStochasticEqual, "block_elem_div_word: a stochastic mode");
  const double a = ::fabs(static_cast<double>(x));
  const double q = a * rdiv;
  int64_t qb;
  std::memcpy(&qb, &q, sizeof qb);
  const int64_t eb = qb >> 52;
  const int64_t e = eb > d.thr ? eb : d.thr;
  const double step = pow2_bits(e - 1023 - d.mbits);
  const double k0 = ::floor(q * pow2_bits(d.mbits - e + 1023));
  const double k = a >= (k0 + 1.0) * step * div ? k0 + 1.0 : k0;  // exact products
  bool up;
  if constexpr (Mode == kStochastic) {
    const double wd = static_cast<double>(static_cast<int32_t>(w ^ 0x80000000u)) + 2147483648.0;  // exact
    const double u = step * div * 2.3283064365386963e-10;  // * 2**-32: exact
    const double c = (k + 1.0) * 4294967296.0 - wd;
    up = ::fma(u, c, -a) <= 0.0;
  } else {
    up = static_cast<int32_t>(w) < 0 && a != k * step * div;
  }
  double v = (up ? k + 1.0 : k) * step;
  v = v < d.maxv ? v : d.maxv;
  int32_t xi;
  std::memcpy(&xi, &x, sizeof xi);
  const bool keep = xi < 0 && (d.zero_sign != 0 || v != 0.0);  // integer elements have no -0
  return static_cast<float>((keep ? -v : v) * div);
}

// ---- the step rule: the amax rule for FP4 elements --------------------------------------------------
// An element format of at most kSteps + 1 magnitudes (NVFP4's e2m1) in a mode whose decision does not
// depend on the sign (nearest even / away / zero, toward zero) rounds by thresholds: the element takes
// its k-th magnitude v_k when |x| passes the k-th decision point p_k (the midpoint below v_k, or for
// toward zero v_k itself) times the block's divisor div = S * 2**E * g, S the scale's integer
// significand. As float32 bit patterns, the thresholds and the values fl32(v_k * div) -- the ones
// block_elem_div stores -- are those of div = S * gn (gn = g / 2**ge in [1, 2)) plus (E + ge) << 23,
// as long as all of them stay normal and finite: so they are tabled per call for every S, and a block
// adds its exponent (block_step_grid). Each element is then seven int32 compares and selects
// (block_elem_steps). C++ only: the Numba kernels divide (their twin of block_elem_div).

constexpr int kSteps = 7;
constexpr int kStepSig = 32;  // scale significands S <= kStepSig: scale formats of at most 4 mantissa bits

//: Per-call tables of the step rule (make_block_steps).
struct BlockSteps {
  int32_t t[kStepSig + 1][8];  // thresholds of divisor S * gn as float32 bits, lanes 0..6, increasing
  int32_t v[kStepSig + 1][8];  // lane k: the value of magnitude k, fl32(v_k * S * gn) as float32 bits (v_0 = 0)
  int32_t elo[kStepSig + 1];   // the exponents E + ge for which every threshold and value of S stays
  int32_t ehi[kStepSig + 1];   //   a normal, finite float32
  int32_t ge;                  // g = gn * 2**ge
};

//: Whether the step rule covers `bp` in `mode` (on top of block_div_fits, which decides the scale).
LOWPREC_HD inline bool block_steps_fit(const BlockParams& bp, int mode) {
  const bool sign_free =
      mode == kNearestEven || mode == kNearestAway || mode == kNearestZero || mode == kTowardZero;
  return sign_free && !bp.elem_int && bp.elem.max_mag >= 1 && bp.elem.max_mag <= kSteps &&
         bp.scale.mbits <= 4 && bp.g > 0.0;
}

//: The int32 threshold T with a > T iff a > t (up == 0) or a >= t (up == 1) for every non-negative
//: float32 bit pattern a, for a double t in float32's normal range: t's float32 bits rounded down (its
//: float64 bits truncated), one less where t is exact in float32 and a tie passes.
LOWPREC_HD inline int32_t step_bits(double t, bool up) {
  int64_t b;
  std::memcpy(&b, &t, sizeof b);
  const int64_t r = (b >> 29) - (int64_t{896} << 23);  // rebias 1023 -> 127, keep 23 mantissa bits
  const bool exact = (b & ((int64_t{1} << 29) - 1)) == 0;
  return static_cast<int32_t>(r - (exact && up ? 1 : 0));
}

LOWPREC_HD inline BlockSteps make_block_steps(const BlockParams& bp, int mode) {
  BlockSteps s;
  int ge = 0;
  const double gn = 2.0 * ::frexp(bp.g, &ge);  // in [1, 2)
  s.ge = ge - 1;
  const int kmax = static_cast<int>(bp.elem.max_mag);
  for (int sig = 0; sig <= kStepSig; ++sig) {  // row 0 (no scale has S = 0) is filled as S = 1
    const double dv = (sig > 0 ? sig : 1) * gn;
    double prev = 0.0;
    s.v[sig][0] = 0;
    for (int k = 1; k <= kmax; ++k) {
      const double v = decode_to_f64(static_cast<uint64_t>(k), bp.elem);
      const double p = mode == kTowardZero ? v : (prev + v) / 2;
      const bool up = mode == kTowardZero || mode == kNearestAway || (mode == kNearestEven && k % 2 == 0);
      s.t[sig][k - 1] = step_bits(p * dv, up);
      s.v[sig][k] = static_cast<int32_t>(bits_of(static_cast<float>(v * dv)));
      prev = v;
    }
    // lanes past the largest magnitude: copies of its lane (a magnitude above the last threshold
    // passes the copies too, and lands on the last value)
    for (int k = kmax; k < 8; ++k) s.t[sig][k] = s.t[sig][kmax - 1];
    for (int k = kmax + 1; k < 8; ++k) s.v[sig][k] = s.v[sig][kmax];
    // t[0] + (e << 23) >= 2**-126 (one above, for the tie adjustment), v[7] + (e << 23) finite
    s.elo[sig] = (0x00800001 - s.t[sig][0] + (1 << 23) - 1) >> 23;
    s.ehi[sig] = (0x7F7FFFFF - s.v[sig][7]) >> 23;
  }
  return s;
}

//: One block's thresholds and values (float32 bits): an element above k > 0 thresholds takes value
//: v[k], one above none is 0 (v[0] is shifted like the others, for a vectorised shift, and unused).
struct alignas(32) StepGrid {
  int32_t t[8];
  int32_t v[8];
};

//: The step grid of a block whose divisor is sig * 2**ex * g (sig <= kStepSig); false where a
//: threshold or value would leave float32's normal range (the block then takes block_elem_div).
LOWPREC_HD LOWPREC_FAST_INLINE bool block_step_grid(const BlockSteps& s, int32_t sig, int32_t ex, StepGrid* g) {
  const int32_t e = ex + s.ge;
  if (e < s.elo[sig] || e > s.ehi[sig]) return false;
  const int32_t sh = static_cast<int32_t>(static_cast<uint32_t>(e) << 23);
  for (int k = 0; k < 8; ++k) {
    g->t[k] = s.t[sig][k] + sh;
    g->v[k] = s.v[sig][k] + sh;
  }
  return true;
}

//: The dequantized float32 bits of float32 bits `xi` by the step rule (float elements: the sign is kept,
//: -0 included).
LOWPREC_HD LOWPREC_FAST_INLINE int32_t block_elem_steps(int32_t xi, const StepGrid& g) {
  const int32_t a = xi & 0x7FFFFFFF;
  int n = 0;
  for (int k = 0; k < kSteps; ++k) n += a > g.t[k];
  return (n > 0 ? g.v[n] : 0) | (xi ^ a);
}

}  // namespace lowprec
