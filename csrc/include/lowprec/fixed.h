// lowprec fixed point: bit-exact conversion of float32/float64 values to HLS ap_fixed codes.
//
// Header-only, usable from host C++ and CUDA device code (LOWPREC_HD). It restates
// src/lowprec/reference/_fixed.py (`fixed_round_code` / `fixed_encode_reference`) with integer
// operations and must agree with it bit for bit:
//
//   * an input is reduced to v = (-1)**neg * m * 2**s in units of the LSB (m the float's integer
//     significand, s = its exponent + frac_bits);
//   * the floor f = floor(v) is kept as a 128-bit two's-complement pair (hi, lo), with `big` for
//     values beyond every 64-bit format (|v| >= 2**64; their low bits do not matter then), plus
//     what rounding needs of the remainder r = v - f: inexact, r > 1/2, r == 1/2, and
//     floor(r * 2**n) for stochastic rounding;
//   * rounding adds 0 or 1 to f (FixedRounding), then the overflow stage (FixedOverflow, with HLS's
//     N saturation bits) works on W-bit patterns, as overflow_adjust of the open Xilinx headers.
//
// The enums mirror lowprec._fixed_modes (same integer values; never renumber).
#pragma once

#include <cstdint>

#include "core.h"

namespace lowprec {

// ---- modes (lowprec._fixed_modes) ---------------------------------------------------------------
enum FixedRounding : int {
  kTrn = 0,
  kTrnZero = 1,
  kRnd = 2,
  kRndZero = 3,
  kRndMinInf = 4,
  kRndInf = 5,
  kRndConv = 6,
  kFixedToOdd = 7,
  kFixedStochastic = 8,
  kFixedStochasticEqual = 9,
  kTrnInf = 10,
};

enum FixedOverflow : int {
  kWrap = 0,
  kSat = 1,
  kSatZero = 2,
  kSatSym = 3,
  kWrapSm = 4,
};

LOWPREC_HD inline bool fixed_is_stochastic(int q) { return q == kFixedStochastic || q == kFixedStochasticEqual; }

//: A fixed-point format (lowprec.formats.FixedFormat) with its overflow saturation bits N.
struct FixedParams {
  int32_t bits;       // W, 1..64
  int32_t frac_bits;  // F = W - I (may be negative)
  int32_t is_signed;  // two's complement (1) or unsigned (0)
  int32_t sat_bits;   // HLS's N for WRAP / WRAP_SM, 0..W
};

//: uint64 with the low k bits set (k >= 64: all of them).
LOWPREC_HD inline uint64_t fixed_lowmask(int64_t k) {
  return k >= 64 ? ~uint64_t{0} : ((uint64_t{1} << k) - 1);
}

//: The W-bit pattern of (-1)**neg * m * 2**s (in LSB units) rounded with mode q and overflowed
//: with mode o. `r` holds nb random bits for the stochastic modes (1 <= nb <= 62).
LOWPREC_HD inline uint64_t fixed_core(bool neg, uint64_t m, int64_t s, const FixedParams& fp, int q, int o,
                                      uint64_t r, int nb) {
  const uint64_t all = ~uint64_t{0};
  uint64_t lo = 0, hi = 0;  // the floor, 128-bit two's complement
  bool big = false, inexact = false, gt = false, tie = false;
  uint64_t t = 0;  // floor(rem * 2**nb) (stochastic), for the distance above the floor
  if (m == 0) {
    // zero
  } else if (s >= 0) {
    if (s >= 64) {
      big = true;
      if (s < 128) hi = m << (s - 64);
    } else {
      lo = m << s;
      if (s > 0) hi = m >> (64 - s);
    }
    if (neg) {
      const uint64_t borrow = lo == 0 ? 1 : 0;
      lo = ~lo + 1;
      hi = ~hi + borrow;
    }
  } else {
    const int64_t k = -s;  // bits of m below the LSB
    uint64_t qm, rem;
    if (k < 64) {
      qm = m >> k;
      rem = m & fixed_lowmask(k);
    } else {
      qm = 0;
      rem = m;
    }
    inexact = rem != 0;
    bool rgt, rlt;  // rem against half an LSB
    if (k <= 64) {
      const uint64_t half = uint64_t{1} << (k - 1);
      rgt = rem > half;
      rlt = rem < half;
    } else {
      rgt = false;
      rlt = true;
    }
    uint64_t fl = 0, ce = 0;  // floor / ceil of rem * 2**nb (in units of 2**-k LSB: rem / 2**k)
    if (q == kFixedStochastic) {
      if (k <= nb) {
        fl = rem << (nb - k);
        ce = fl;
      } else {
        const int64_t d = k - nb;
        fl = d >= 64 ? 0 : rem >> d;
        ce = fl + ((rem & fixed_lowmask(d)) != 0 ? 1 : 0);
      }
    }
    if (!neg) {
      lo = qm;
      gt = rgt;
      tie = inexact && !rgt && !rlt;
      t = fl;
    } else if (inexact) {
      // floor of -(qm + rem) = -qm - 1, and the distance above it is 1 - rem
      lo = ~qm;
      hi = all;
      gt = rlt;
      tie = !rgt && !rlt;
      t = q == kFixedStochastic ? (uint64_t{1} << nb) - ce : 0;
    } else {
      lo = uint64_t{0} - qm;
      hi = qm != 0 ? all : 0;
    }
  }

  // ---- rounding ------------------------------------------------------------------------------
  const bool odd = (lo & 1) != 0;
  bool up;
  switch (q) {
    case kTrn: up = false; break;
    case kTrnZero: up = inexact && neg; break;
    case kTrnInf: up = inexact; break;
    case kRnd: up = gt || tie; break;
    case kRndZero: up = gt || (tie && neg); break;
    case kRndMinInf: up = gt; break;
    case kRndInf: up = gt || (tie && !neg); break;
    case kRndConv: up = gt || (tie && odd); break;
    case kFixedToOdd: up = inexact && !odd; break;
    case kFixedStochastic: up = t + r >= (uint64_t{1} << nb); break;
    case kFixedStochasticEqual: up = inexact && r >= (uint64_t{1} << (nb - 1)); break;
    default: up = false; break;
  }
  const int w = fp.bits;
  const bool ld = w < 64 ? ((lo >> w) & 1) != 0 : (hi & 1) != 0;  // lowest discarded bit of the floor
  uint64_t lo2 = lo, hi2 = hi;
  if (up) {
    lo2 = lo + 1;
    if (lo2 == 0) hi2 = hi + 1;
  }

  // ---- overflow ------------------------------------------------------------------------------
  const bool is_signed = fp.is_signed != 0;
  const int nsat = fp.sat_bits;
  const uint64_t mask = fixed_lowmask(w);
  const uint64_t msb = uint64_t{1} << (w - 1);
  const uint64_t cmax = msb - 1;
  bool in_range;
  if (big) {
    in_range = false;
  } else if (is_signed) {
    in_range = (hi2 == 0 && lo2 <= cmax) || (hi2 == all && lo2 >= ~cmax);
  } else {
    in_range = hi2 == 0 && lo2 <= mask;
  }
  uint64_t v = lo2 & mask;
  if (in_range) {
    if (o == kSatSym && is_signed && hi2 == all && lo2 == ~cmax) return msb | 1;
    return v;
  }
  const uint64_t mid = nsat > 1 ? (((uint64_t{1} << (nsat - 1)) - 1) << (w - nsat)) : 0;  // bits W-N..W-2
  switch (o) {
    case kWrap:
      if (nsat > 0) {
        if (is_signed) {
          v = neg ? (v & ~mid) : (v | mid);
          v = neg ? (v | msb) : (v & ~msb);
        } else {
          v |= fixed_lowmask(nsat) << (w - nsat);
        }
      }
      break;
    case kSat:
    case kSatSym:
      if (is_signed) {
        v = neg ? (msb | (o == kSatSym ? 1 : 0)) : cmax;
      } else {
        v = neg ? 0 : mask;
      }
      break;
    case kSatZero: v = 0; break;
    default: {  // kWrapSm (signed formats)
      const bool ro = ((v >> (w - 1)) & 1) != 0;
      if (nsat == 0) {
        if (ld != ro) {
          v = ~v & mask;
          v = ld ? (v | msb) : (v & ~msb);
        }
      } else {
        if (nsat == 1) {
          if (neg != ro) v = ~v & mask;
        } else {
          const bool lno = ((v >> (w - nsat)) & 1) != 0;
          if (lno == neg) v = ~v & mask;
          v = neg ? (v & ~mid) : (v | mid);
        }
        v = neg ? (v | msb) : (v & ~msb);
      }
      break;
    }
  }
  return v & mask;
}

//: A W-bit pattern as a uint64 holding the code: sign-extended two's complement (signed formats).
LOWPREC_HD inline uint64_t fixed_sign_extend(uint64_t p, const FixedParams& fp) {
  const int w = fp.bits;
  if (fp.is_signed && w < 64 && ((p >> (w - 1)) & 1)) return p | ~fixed_lowmask(w);
  return p;
}

//: The common case of fixed_core, without 128-bit arithmetic: 1 <= k <= 63 bits of m (< 2**63) below
//: the LSB and a rounded result inside the code range. Writes the code (sign-extended) and returns
//: true, or returns false (out of range: the caller runs fixed_core). Same decisions as fixed_core.
LOWPREC_HD inline bool fixed_core_fast(bool neg, uint64_t m, int k, const FixedParams& fp, int q, int o, uint64_t r,
                                       int nb, uint64_t* code) {
  const uint64_t qm = m >> k;
  const uint64_t rem = m & ((uint64_t{1} << k) - 1);
  const uint64_t half = uint64_t{1} << (k - 1);
  const bool inexact = rem != 0;
  const bool tie = rem == half;  // the distance above the floor is 1/2 (either sign)
  const bool gt = neg ? (inexact && rem < half) : rem > half;
  const int64_t f = neg ? -static_cast<int64_t>(qm) - static_cast<int64_t>(inexact) : static_cast<int64_t>(qm);
  const bool odd = (f & 1) != 0;
  bool up;
  switch (q) {
    case kTrn: up = false; break;
    case kTrnZero: up = inexact && neg; break;
    case kTrnInf: up = inexact; break;
    case kRnd: up = gt || tie; break;
    case kRndZero: up = gt || (tie && neg); break;
    case kRndMinInf: up = gt; break;
    case kRndInf: up = gt || (tie && !neg); break;
    case kRndConv: up = gt || (tie && odd); break;
    case kFixedToOdd: up = inexact && !odd; break;
    case kFixedStochastic: {
      uint64_t fl, ce;  // floor / ceil of rem * 2**nb / 2**k
      if (k <= nb) {
        fl = rem << (nb - k);
        ce = fl;
      } else {
        fl = rem >> (k - nb);
        ce = fl + ((rem & ((uint64_t{1} << (k - nb)) - 1)) != 0 ? 1 : 0);
      }
      const uint64_t t = !neg ? fl : (inexact ? (uint64_t{1} << nb) - ce : 0);
      up = t + r >= (uint64_t{1} << nb);
      break;
    }
    case kFixedStochasticEqual: up = inexact && r >= (uint64_t{1} << (nb - 1)); break;
    default: up = false; break;
  }
  const int64_t rr = f + (up ? 1 : 0);  // |f| < 2**63 - 1: no overflow
  const int w = fp.bits;
  if (fp.is_signed) {
    const int64_t cmax = static_cast<int64_t>((uint64_t{1} << (w - 1)) - 1);
    const int64_t cmin = -cmax - 1;
    if (rr < cmin || rr > cmax) return false;
    // SAT_SYM: the pattern MSB|1 for the minimum, i.e. -max (the minimum itself for 1-bit formats)
    *code = static_cast<uint64_t>((o == kSatSym && rr == cmin && w > 1) ? cmin + 1 : rr);
    return true;
  }
  if (rr < 0 || (w < 64 && static_cast<uint64_t>(rr) > fixed_lowmask(w))) return false;
  *code = static_cast<uint64_t>(rr);
  return true;
}

//: Whether a float64 input has no fixed-point code under overflow mode o (NaN; an infinity under a
//: wrapping mode). The Python API raises ValueError for those in encode and gives NaN in quantize.
LOWPREC_HD inline bool fixed_input_invalid(double x, int o) {
  const uint64_t b = bits_of(x);
  if (((b >> 52) & 0x7FF) != 0x7FF) return false;
  const bool nan = (b & ((uint64_t{1} << 52) - 1)) != 0;
  return nan || o == kWrap || o == kWrapSm;
}

//: Code (sign-extended in a uint64) of a float64 value (float32 widens exactly). An infinity
//: overflows; callers deal with NaN and wrapped infinities first (fixed_input_invalid).
LOWPREC_HD inline uint64_t fixed_encode_f64(double x, const FixedParams& fp, int q, int o, uint64_t r, int nb) {
  const uint64_t b = bits_of(x);
  const bool neg = (b >> 63) != 0;
  const int ef = static_cast<int>((b >> 52) & 0x7FF);
  const uint64_t frac = b & ((uint64_t{1} << 52) - 1);
  uint64_t m;
  int64_t s;
  if (ef == 0x7FF) {  // infinity: beyond every format
    m = 1;
    s = 4096;
  } else if (ef == 0) {  // zero or subnormal: frac * 2**-1074
    m = frac;
    s = -1074 + fp.frac_bits;
  } else {
    m = frac | (uint64_t{1} << 52);
    s = static_cast<int64_t>(ef) - 1075 + fp.frac_bits;
  }
  if (m == 0) return 0;  // zero is code 0 in every mode and format
  uint64_t code;
  if (s < 0 && s > -64 && fixed_core_fast(neg, m, static_cast<int>(-s), fp, q, o, r, nb, &code)) return code;
  return fixed_sign_extend(fixed_core(neg, m, s, fp, q, o, r, nb), fp);
}

//: The float64 nearest (ties to even) to code * 2**-frac_bits, the code a sign-extended uint64
//: (signed formats) or the unsigned code; as float(Fraction(code, 2**frac_bits)) in Python.
LOWPREC_HD inline double fixed_decode_f64(uint64_t code, const FixedParams& fp) {
  const bool neg = fp.is_signed && (code >> 63) != 0;
  const uint64_t m = neg ? (~code + 1) : code;  // |code| (2**63 for INT64_MIN)
  if (m == 0) return 0.0;
  if (m < (uint64_t{1} << 53)) {  // m is a float64: one multiplication by 2**-F rounds once
    const double v = static_cast<double>(m) * pow2(-fp.frac_bits);
    return neg ? -v : v;
  }
  const int lead = 63 - clz64(m);          // m in [2**lead, 2**(lead+1))
  const int e = lead - fp.frac_bits;       // the value is in [2**e, 2**(e+1)); e <= 1022
  const int prec = e >= -1022 ? 53 : e + 1075;  // significant bits float64 keeps there (>= 1)
  uint64_t t = m;
  int k = -fp.frac_bits;  // value = t * 2**k
  const int d = lead + 1 - prec;  // bits to drop
  if (d > 0) {
    t = m >> d;
    const uint64_t rem = m & fixed_lowmask(d);
    const uint64_t half = uint64_t{1} << (d - 1);
    if (rem > half || (rem == half && (t & 1))) ++t;
    k += d;
  }
  const double v = scale_pow2(t, k);  // t <= 2**53 and t * 2**k is a float64: exact
  return neg ? -v : v;
}

//: The value of x rounded to the format as a float64 (NaN for NaN, and for an infinity under a
//: wrapping mode), as fixed_quantize does.
LOWPREC_HD inline double fixed_quantize_f64(double x, const FixedParams& fp, int q, int o, uint64_t r, int nb) {
  if (fixed_input_invalid(x, o)) return quiet_nan(false);
  return fixed_decode_f64(fixed_encode_f64(x, fp, q, o, r, nb), fp);
}

}  // namespace lowprec
