// lowprec block-scaled formats (MX, NVFP4, BFP): per-block scales and element rounding, bit-exact
// with src/lowprec/reference/_block.py (conventions: docs/block_formats.md).
//
// Header-only, usable from host C++ and CUDA device code (LOWPREC_HD). Inputs are float64 (float32
// widens exactly). A block's scale comes from the bits of its largest magnitude (amax), never from
// log2; its elements are rounded by core.h's encode_parts:
//
//   * power-of-two scales 2**e (rules floor, ceil, even, rceil; E8M0): x * 2**-e exactly, by
//     lowering the exponent of x's decomposition;
//   * the amax rule (NVFP4): the scale code is amax / (max_elem * g) rounded once (RNE, saturating)
//     to the scale format, and an element x / (scale * g) is computed by an exact integer long
//     division kept as a 53-bit round-to-odd significand, which rounds like the exact quotient in
//     every deterministic mode (and stochastic mode with element mbits + 1 + n <= 52).
//
// Blocks holding NaN or Inf get the scale format's NaN code, element codes 0, and NaN values.
#pragma once

#include <cstdint>

#include "core.h"

namespace lowprec {

enum BlockScaleRule : int {
  kRuleFloor = 0,
  kRuleCeil = 1,
  kRuleEven = 2,
  kRuleRceil = 3,
  kRuleAmax = 4,
};

//: Everything a block kernel needs about a block format (lowprec.formats.BlockFormat).
struct BlockParams {
  FloatParams elem;    // element format (the int_element model for integer elements)
  FloatParams scale;   // scale format
  int32_t rule;        // BlockScaleRule
  int32_t elem_int;    // integer elements: codes are two's complement on elem_bits bits, no -0
  int32_t elem_bits;   // bits of an element code
  int32_t elem_mag_bits;  // bits of an element's magnitude code
  double g;            // the tensor scale (1 without one)
  double div;          // max_elem * g (exact), the amax rule's divisor
  const double* elut = nullptr;  // optional host table: block_element_raw of every element code
};

//: A finite nonzero float64 magnitude (bits without the sign) as sig * 2**(e - 52), sig in [2**52, 2**53).
LOWPREC_HD inline void split_magnitude(uint64_t a, uint64_t* sig, int* e) {
  const int ef = static_cast<int>(a >> 52);
  const uint64_t frac = a & ((uint64_t{1} << 52) - 1);
  if (ef == 0) {
    const int shift = clz64(frac) - 11;
    *sig = frac << shift;
    *e = -1022 - shift;
  } else {
    *sig = frac | (uint64_t{1} << 52);
    *e = ef - 1023;
  }
}

//: A finite positive float64 as sig * 2**ex with sig odd (sig < 2**53).
LOWPREC_HD inline void odd_sig_exp(double v, uint64_t* sig, int* ex) {
  uint64_t s;
  int e;
  split_magnitude(bits_of(v) & ~(uint64_t{1} << 63), &s, &e);
  int ex2 = e - 52;
  while ((s & 1) == 0) {
    s >>= 1;
    ++ex2;
  }
  *sig = s;
  *ex = ex2;
}

//: (a_sig * 2**a_exp) / (b_sig * 2**b_exp) as q * 2**(e - 52) with q in [2**52, 2**53) truncated and
//: its last bit set when inexact (round to odd). Needs 0 < a_sig < 2**53 and 0 < b_sig < 2**53.
LOWPREC_HD inline void divide_r2o(uint64_t a_sig, int a_exp, uint64_t b_sig, int b_exp, uint64_t* q_out,
                                  int* e_out) {
  const uint64_t top = uint64_t{1} << 52;
  uint64_t q = a_sig / b_sig;
  uint64_t r = a_sig % b_sig;
  const int smax = clz64(b_sig);  // r < b_sig, so r << smax fits in 64 bits
  int k = 0;
  while (q < top) {
    const int room = q == 0 ? 52 : 52 - (63 - clz64(q));  // q << room stays below 2**53
    const int s = room < smax ? room : smax;
    r <<= s;
    q = (q << s) | (r / b_sig);
    r %= b_sig;
    k += s;
  }
  while (q >= (top << 1)) {  // a_sig / b_sig itself may have 53 bits or more only when b_sig == 1
    r |= q & 1;
    q >>= 1;
    --k;
  }
  if (r != 0) q |= 1;
  *q_out = q;
  *e_out = a_exp - b_exp - k + 52;
}

//: Scale exponent (before clamping) of a finite nonzero amax (magnitude bits) under a power-of-two rule.
LOWPREC_HD inline int block_pow2_exponent(uint64_t am, const BlockParams& bp) {
  uint64_t sig;
  int big_e;
  split_magnitude(am, &sig, &big_e);
  const int m_e = bp.elem.mbits;
  const uint64_t one = uint64_t{1} << 52;
  int bump = 0;
  if (bp.rule == kRuleCeil) {
    bump = sig != one;
  } else if (bp.rule == kRuleEven) {
    // the significand rounded (ties away) to m_e bits reaches 2: sig >= 2 - 2**-(m_e + 1)
    bump = sig >= 2 * one - (uint64_t{1} << (52 - m_e - 1));
  } else if (bp.rule == kRuleRceil) {
    // amax's significand above the largest element's: ceil(log2(amax / max_elem)) = E - emax + 1
    const uint64_t smax = (static_cast<uint64_t>(bp.elem.max_mag) & ((uint64_t{1} << m_e) - 1)) | (uint64_t{1} << m_e);
    bump = sig > (smax << (52 - m_e));
  }
  return big_e + bump - bp.elem.emax;
}

//: The scale of a block: its code, and (out) the exponent e of a power-of-two scale or the value of
//: an amax-rule scale. `am` is the largest magnitude (float64 bits without the sign); `bad` whether
//: the block holds NaN or Inf.
LOWPREC_HD inline uint64_t block_scale(uint64_t am, bool bad, const BlockParams& bp, int* e_out, double* sval_out) {
  const FloatParams& ps = bp.scale;
  *e_out = 0;
  *sval_out = 1.0;
  if (bad) return static_cast<uint64_t>(ps.nan_code);
  const uint64_t min_code = (ps.flags & kFlagZero) ? 1 : 0;  // the smallest positive scale code
  if (bp.rule != kRuleAmax) {
    int e = am == 0 ? ps.emin : block_pow2_exponent(am, bp);
    e = e < ps.emin ? ps.emin : (e > ps.emax ? ps.emax : e);
    *e_out = e;
    return static_cast<uint64_t>(e - ps.emin) + min_code;  // E8M0: a power of two per code
  }
  uint64_t code;
  if (am == 0) {
    code = min_code;
  } else {
    uint64_t a_sig, d_sig;
    int a_e, d_ex;
    split_magnitude(am, &a_sig, &a_e);
    odd_sig_exp(bp.div, &d_sig, &d_ex);
    uint64_t q;
    int qe;
    divide_r2o(a_sig, a_e - 52, d_sig, d_ex, &q, &qe);
    code = encode_parts(false, kFinite, q, qe, 52, ps, kNearestEven, kSaturate, 0, 0);
    if ((code & ~ps.sign_mask) == 0) code = min_code;
  }
  *sval_out = decode_to_f64(code, ps);
  return code;
}

//: Element code (the element format's code, sign-magnitude) of x in a block with scale exponent e
//: (power-of-two rules) or divisor d = sval * g given as d_sig * 2**d_ex (amax rule); saturating.
LOWPREC_HD inline uint64_t block_element_code(double x, const BlockParams& bp, int e, uint64_t d_sig, int d_ex,
                                              int mode, uint64_t r, int n) {
  const uint64_t b = bits_of(x);
  const bool neg = (b >> 63) != 0;
  const uint64_t a = b & ~(uint64_t{1} << 63);
  if (a == 0) return encode_parts(neg, kZero, 0, 0, 52, bp.elem, mode, kSaturate, r, n);
  uint64_t sig;
  int ex;
  split_magnitude(a, &sig, &ex);
  if (bp.rule != kRuleAmax) return encode_parts(neg, kFinite, sig, ex - e, 52, bp.elem, mode, kSaturate, r, n);
  uint64_t q;
  int qe;
  divide_r2o(sig, ex - 52, d_sig, d_ex, &q, &qe);
  return encode_parts(neg, kFinite, q, qe, 52, bp.elem, mode, kSaturate, r, n);
}

//: The stored element code: integer elements as two's complement on elem_bits bits.
LOWPREC_HD inline uint64_t block_store_code(uint64_t c, const BlockParams& bp) {
  if (!bp.elem_int) return c;
  const uint64_t mag = c & ((uint64_t{1} << bp.elem_mag_bits) - 1);
  const uint64_t v = (c & bp.elem.sign_mask) ? (uint64_t{0} - mag) : mag;
  return v & ((uint64_t{1} << bp.elem_bits) - 1);
}

//: The value of element code c (the element format's code) before scaling; integers have no -0.
LOWPREC_HD inline double block_element_raw(uint64_t c, const BlockParams& bp) {
  if (bp.elem_int && (c & ((uint64_t{1} << bp.elem_mag_bits) - 1)) == 0) return 0.0;
  return decode_to_f64(c, bp.elem);
}

//: The dequantized value of element code c (element format's code) in a block of scale e / sval.
LOWPREC_HD inline double block_element_value(uint64_t c, const BlockParams& bp, int e, double sval) {
  const double ev = bp.elut != nullptr ? bp.elut[c] : block_element_raw(c, bp);
  if (bp.rule != kRuleAmax) return ev * pow2(e);  // exact: element bits x a power of two in range
  return ev * sval * bp.g;
}

//: Geometry of a block pass: the array viewed as (P, L1, Q, L2, R) in C order, blocks of b1 x b2
//: over L1 and L2 (b1 = L1 = 1 for 1-D blocks); see lowprec.formats._block.block_geometry.
struct BlockGeometry {
  int64_t p, l1, q, l2, r;
  int64_t b1, b2;
  LOWPREC_HD int64_t nb1() const { return (l1 + b1 - 1) / b1; }
  LOWPREC_HD int64_t nb2() const { return (l2 + b2 - 1) / b2; }
  LOWPREC_HD int64_t blocks() const { return p * nb1() * q * nb2() * r; }
  //: Block `b` of one column rr (numbered over (P, nb1, Q, nb2)): its outer indices pp, qq and its
  //: element ranges [i1_0, i1_1) x [i2_0, i2_1).
  LOWPREC_HD void span(int64_t b, int64_t* pp, int64_t* qq, int64_t* i1_0, int64_t* i1_1, int64_t* i2_0,
                       int64_t* i2_1) const {
    const int64_t n2 = nb2(), n1 = nb1();
    const int64_t j2 = b % n2;
    int64_t t = b / n2;
    *qq = t % q;
    t /= q;
    const int64_t j1 = t % n1;
    *pp = t / n1;
    *i1_0 = j1 * b1;
    *i1_1 = *i1_0 + b1 < l1 ? *i1_0 + b1 : l1;
    *i2_0 = j2 * b2;
    *i2_1 = *i2_0 + b2 < l2 ? *i2_0 + b2 : l2;
  }
};

//: The scale of block `blk` (C order over (P, nb1, Q, nb2, R)), then every element through
//: `emit(idx, code, value)` where idx is the flat index of the element, `code` its stored code and
//: `value` its dequantized value (NaN for blocks with NaN/Inf). `rand(idx)` gives the random bits.
template <class In, class Rand, class Emit>
LOWPREC_HD inline uint64_t block_run(const In* x, const BlockGeometry& gm, int64_t blk, const BlockParams& bp,
                                     int mode, const Rand& rand, int n, bool want_values, Emit&& emit) {
  const int64_t rr = blk % gm.r;
  int64_t pp, qq, i1_0, i1_1, i2_0, i2_1;
  gm.span(blk / gm.r, &pp, &qq, &i1_0, &i1_1, &i2_0, &i2_1);
  // pass 1: amax (magnitude bits order like values) and NaN/Inf
  uint64_t am = 0;
  bool bad = false;
  const uint64_t finite_lim = uint64_t{0x7FF} << 52;
  for (int64_t i1 = i1_0; i1 < i1_1; ++i1) {
    const int64_t base = ((pp * gm.l1 + i1) * gm.q + qq) * gm.l2;
    for (int64_t i2 = i2_0; i2 < i2_1; ++i2) {
      const uint64_t a = bits_of(static_cast<double>(x[(base + i2) * gm.r + rr])) & ~(uint64_t{1} << 63);
      bad = bad || a >= finite_lim;
      am = a > am ? a : am;
    }
  }
  int e;
  double sval;
  const uint64_t scode = block_scale(am, bad, bp, &e, &sval);
  uint64_t d_sig = 1;
  int d_ex = 0;
  if (bp.rule == kRuleAmax && !bad) odd_sig_exp(sval * bp.g, &d_sig, &d_ex);
  const bool sr = is_stochastic(mode);
  // pass 2: elements
  for (int64_t i1 = i1_0; i1 < i1_1; ++i1) {
    const int64_t base = ((pp * gm.l1 + i1) * gm.q + qq) * gm.l2;
    for (int64_t i2 = i2_0; i2 < i2_1; ++i2) {
      const int64_t idx = (base + i2) * gm.r + rr;
      if (bad) {
        emit(idx, uint64_t{0}, quiet_nan(false));
        continue;
      }
      const uint64_t c = block_element_code(static_cast<double>(x[idx]), bp, e, d_sig, d_ex, mode,
                                            sr ? rand(idx) : 0, sr ? n : 0);
      emit(idx, block_store_code(c, bp), want_values ? block_element_value(c, bp, e, sval) : 0.0);
    }
  }
  return scode;
}

}  // namespace lowprec
