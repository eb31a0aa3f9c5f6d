// lowprec core: bit-exact rounding of float32/float64 values to a low-precision float format.
//
// Header-only and usable from host C++ and CUDA device code alike (LOWPREC_HD). Everything here
// restates src/lowprec/reference/_vector.py (`encode_reference`) with integer operations on the
// IEEE 754 bit patterns of the input, and must agree with it bit for bit:
//
//   * the input magnitude is split as  a = sig * 2**(e - P)  with sig in [2**P, 2**(P+1))
//     (P = 23 for float32, 52 for float64; input subnormals are normalised with a
//     count-leading-zeros), so e = floor(log2(a)) without frexp/log2;
//   * the quantum 2**qexp is the spacing of the format's grid around a; the s = qexp - (e - P)
//     low bits of sig lie below the quantum: t = sig >> s is the truncated grid point and the
//     s low bits are the remainder, compared against the half quantum 1 << (s - 1);
//   * the magnitude code is ((max(e, emin) - emin + 1) << M) + t - (1 << M) (the implicit bit of t
//     is cancelled by the "- (1 << M)", and a carry out of t rolls into the next binade), exactly as
//     in _vector.py; overflow, NaN, Inf, -0, unsigned and zero-less formats follow _vector.py.
//
// FloatParams mirrors src/lowprec/_params.py (same fields, same order); the enums mirror
// lowprec.rounding (same integer values).
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define LOWPREC_HD __host__ __device__
#else
#define LOWPREC_HD
#endif

namespace lowprec {

// ---- the format, flattened (src/lowprec/_params.py) ------------------------------------------
enum FloatFlags : uint32_t {
  kFlagSubnormals = 1,
  kFlagZero = 2,
  kFlagSigned = 4,
  kFlagNegZero = 8,
  kFlagHasInf = 16,
  kFlagHasNan = 32,
  kFlagNanKeepsSign = 64,
};

struct FloatParams {
  int32_t mbits;       // stored mantissa bits M
  int32_t emin;        // exponent of the smallest normal binade
  int32_t emax;        // exponent of the largest finite value
  int64_t max_mag;     // magnitude code of the largest finite value
  int64_t inf_mag;     // magnitude code of +Inf (-1: none)
  int64_t nan_code;    // canonical positive NaN code (-1: none)
  uint64_t sign_mask;  // the sign bit of a code (0: unsigned); 1 << 63 for float64
  uint32_t flags;      // kFlag* bits
};

// ---- rounding modes and overflow policies (lowprec.rounding; never renumber) --------------------
enum Rounding : int {
  kNearestEven = 0,
  kNearestAway = 1,
  kNearestZero = 2,
  kTowardZero = 3,
  kTowardPositive = 4,
  kTowardNegative = 5,
  kToOdd = 6,
  kStochastic = 7,
  kStochasticEqual = 8,
};

enum Overflow : int {
  kSaturate = 0,
  kInfinity = 1,
  kNan = 2,
};

LOWPREC_HD inline bool is_stochastic(int mode) { return mode == kStochastic || mode == kStochasticEqual; }

//: Returned by encode_* when the result is NaN but the format has no NaN encoding
//: (the Python reference raises ValueError there). Never a valid code of a format without NaN.
constexpr uint64_t kEncodeError = ~uint64_t{0};

// ---- random bits (src/lowprec/reference/_random.py) ------------------------------------------
constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;

//: The SplitMix64 output function (a bijective 64-bit mixer); arithmetic wraps mod 2**64.
LOWPREC_HD inline uint64_t splitmix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

//: Random integer in [0, 2**n) of element `index` given key = splitmix64(seed) (hoisted by loops).
LOWPREC_HD inline uint64_t random_bits_keyed(uint64_t key, uint64_t index, int n) {
  return splitmix64(key + (index + 1) * kGolden) >> (64 - n);
}

//: Random integer in [0, 2**n) of element `index` of stream `seed` (1 <= n <= 64).
LOWPREC_HD inline uint64_t random_bits(uint64_t seed, uint64_t index, int n) {
  return random_bits_keyed(splitmix64(seed), index, n);
}

// ---- bit helpers ---------------------------------------------------------------------------------
LOWPREC_HD inline uint64_t bits_of(double x) {
#if defined(__CUDA_ARCH__)
  return static_cast<uint64_t>(__double_as_longlong(x));
#else
  uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
#endif
}

LOWPREC_HD inline uint32_t bits_of(float x) {
#if defined(__CUDA_ARCH__)
  return static_cast<uint32_t>(__float_as_uint(x));
#else
  uint32_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
#endif
}

LOWPREC_HD inline double double_from_bits(uint64_t b) {
#if defined(__CUDA_ARCH__)
  return __longlong_as_double(static_cast<long long>(b));
#else
  double x;
  std::memcpy(&x, &b, sizeof x);
  return x;
#endif
}

//: Count of leading zero bits of a nonzero 64-bit integer.
LOWPREC_HD inline int clz64(uint64_t v) {
#if defined(__CUDA_ARCH__)
  return __clzll(static_cast<long long>(v));
#elif defined(__GNUC__) || defined(__clang__)
  return __builtin_clzll(v);
#else
  int n = 0;
  while (!(v & (uint64_t{1} << 63))) {
    v <<= 1;
    ++n;
  }
  return n;
#endif
}

// ---- the rounding core -------------------------------------------------------------------------
//: Class of a decomposed input.
enum InputClass : int { kFinite = 0, kZero = 1, kInf = 2, kNaN = 3 };

//: Code of a decomposed input: sign `neg`, class `cls`, and for finite nonzero inputs
//: a = sig * 2**(e - P) with sig in [2**P, 2**(P+1)). `r` holds `n` random bits (stochastic modes).
//: Returns kEncodeError where the result is NaN and the format has none.
LOWPREC_HD inline uint64_t encode_parts(bool neg, int cls, uint64_t sig, int e, int P, const FloatParams& p,
                                        int mode, int ovf, uint64_t r, int n) {
  const int m = p.mbits;
  const int emin = p.emin;
  const uint32_t fl = p.flags;
  const bool fmt_zero = fl & kFlagZero;
  const bool nan = cls == kNaN;
  const bool inf = cls == kInf;
  const bool zero = cls == kZero;  // a true zero input (NaN/Inf are excluded, unlike _vector.py's mask)
  const int64_t one_m = int64_t{1} << m;

  int64_t mag;
  bool below = false;
  if (cls != kFinite) {
    // _vector.py treats NaN, Inf and 0 as a = 0: t = 0, rem = 0, ec = emin, so mag = lo(0). That is
    // 0 with a zero, and -(1 << M) without (a placeholder the zero-less rules below overwrite).
    mag = fmt_zero ? 0 : -one_m;
  } else if (e > p.emax + 1) {
    // "huge": beyond the exponent range even after rounding, overflow in every mode
    mag = p.max_mag + 1;
  } else {
    below = e < emin;
    int qexp;  // exponent of the quantum
    if (fl & kFlagSubnormals) {
      qexp = (below ? emin : e) - m;
    } else {
      qexp = below ? emin : e - m;  // without subnormals the gap [0, 2**emin) is one step
    }
    // s = number of bits of sig below the quantum (a / 2**qexp = sig / 2**s)
    const int s = qexp - (e - P);
    uint64_t t;            // floor(a / quantum)
    uint64_t rbits = 0;    // the remainder, in units of 2**-s quanta
    bool inexact, gt_half = false, eq_half = false;
    if (s <= 0) {  // the target has more mantissa bits than the input: exact
      t = sig << -s;
      inexact = false;
    } else if (s < 64) {
      t = sig >> s;
      rbits = sig & ((uint64_t{1} << s) - 1);
      const uint64_t half = uint64_t{1} << (s - 1);
      inexact = rbits != 0;
      gt_half = rbits > half;
      eq_half = rbits == half;
    } else {  // far below the quantum: t = 0 and a tiny nonzero remainder (sig < 2**53 <= half)
      t = 0;
      rbits = sig;
      inexact = true;
    }
    // candidates lo <= a < hi as magnitude codes (an unbounded grid above)
    int64_t lo, hi;
    const int64_t ti = static_cast<int64_t>(t);
    if (fmt_zero) {
      if (fl & kFlagSubnormals) {
        lo = below ? ti : (static_cast<int64_t>(e - emin + 1) * one_m + ti - one_m);
        hi = lo + 1;
      } else {
        lo = below ? 0 : (static_cast<int64_t>(e - emin + 1) * one_m + ti - one_m);
        hi = below ? one_m : lo + 1;
      }
    } else {
      // (e - emin) may be negative here; multiply rather than shift a negative number
      lo = static_cast<int64_t>(e - emin) * one_m + ti - one_m;
      hi = lo + 1;
    }
    const bool odd = (lo & 1) != 0;
    bool up;
    switch (mode) {
      case kNearestEven: up = gt_half || (eq_half && odd); break;
      case kNearestAway: up = gt_half || eq_half; break;
      case kNearestZero: up = gt_half; break;
      case kTowardZero: up = false; break;
      case kTowardPositive: up = !neg; break;
      case kTowardNegative: up = neg; break;
      case kToOdd: up = !odd; break;
      case kStochastic: {
        // floor(rem * 2**n) with rem = rbits / 2**s, exactly
        uint64_t fl_rem;
        if (s <= 0) {
          fl_rem = 0;
        } else if (s <= n) {
          fl_rem = rbits << (n - s);
        } else {
          fl_rem = (s - n < 64) ? (rbits >> (s - n)) : 0;
        }
        up = fl_rem + r >= (uint64_t{1} << n);
        break;
      }
      case kStochasticEqual: up = r >= (uint64_t{1} << (n - 1)); break;
      default: up = false; break;
    }
    mag = (up && inexact) ? hi : lo;
    if (!fmt_zero && below) mag = 0;  // no zero: everything below the minimum is the minimum
  }

  // ---- overflow, judged after rounding -----------------------------------------------------------
  const bool over = mag > p.max_mag || inf;
  const bool toward_zero = mode == kTowardZero || mode == kToOdd || (mode == kTowardNegative && !neg) ||
                           (mode == kTowardPositive && neg);
  const bool sat = inf ? (ovf == kSaturate) : (toward_zero || ovf == kSaturate);
  const bool to_inf = over && !sat && (fl & kFlagHasInf) && (inf || ovf == kInfinity);
  const bool ovf_to_nan = over && !sat && !to_inf;
  if (over && sat) mag = p.max_mag;
  if (to_inf) mag = p.inf_mag;
  bool nan_out = nan || ovf_to_nan;

  // ---- sign, unsigned and zero-less rules ---------------------------------------------------------
  uint64_t code;
  bool sign = neg;
  if (fl & kFlagSigned) {
    // formats without -0 give +0 for a negative value that rounds to zero
    const bool signbit = neg && !(mag == 0 && !nan_out && !(fl & kFlagNegZero));
    code = static_cast<uint64_t>(mag) | (signbit ? p.sign_mask : 0);
  } else {
    code = static_cast<uint64_t>(mag);
    // a negative number is representable only as a +0 it rounds to
    const bool bad = neg && !nan && !(mag == 0 && !inf && fmt_zero);
    if (ovf == kSaturate) {
      if (bad) code = 0;
    } else {
      nan_out = nan_out || bad;
    }
    sign = false;
  }
  if (!fmt_zero && zero) {  // zero-less formats: 0 is the minimum (saturate) or NaN
    if (ovf == kSaturate) {
      code = 0;
    } else {
      nan_out = true;
    }
  }
  if (nan_out) {
    if (!(fl & kFlagHasNan)) return kEncodeError;
    return static_cast<uint64_t>(p.nan_code) | ((sign && (fl & kFlagNanKeepsSign)) ? p.sign_mask : 0);
  }
  return code;
}

//: Code of a float64 value rounded to the format (see encode_parts; r holds n random bits).
LOWPREC_HD inline uint64_t encode_f64(double x, const FloatParams& p, int mode, int ovf, uint64_t r, int n) {
  const uint64_t b = bits_of(x);
  const bool neg = (b >> 63) != 0;
  const int ef = static_cast<int>((b >> 52) & 0x7FF);
  const uint64_t frac = b & ((uint64_t{1} << 52) - 1);
  if (ef == 0x7FF) return encode_parts(neg, frac ? kNaN : kInf, 0, 0, 52, p, mode, ovf, r, n);
  if (ef == 0) {
    if (frac == 0) return encode_parts(neg, kZero, 0, 0, 52, p, mode, ovf, r, n);
    // subnormal: move the leading 1 (at bit 63 - clz) up to bit 52
    const int shift = clz64(frac) - 11;
    return encode_parts(neg, kFinite, frac << shift, -1022 - shift, 52, p, mode, ovf, r, n);
  }
  return encode_parts(neg, kFinite, frac | (uint64_t{1} << 52), ef - 1023, 52, p, mode, ovf, r, n);
}

//: Code of a float32 value rounded to the format (see encode_parts; r holds n random bits).
LOWPREC_HD inline uint64_t encode_f32(float x, const FloatParams& p, int mode, int ovf, uint64_t r, int n) {
  const uint32_t b = bits_of(x);
  const bool neg = (b >> 31) != 0;
  const int ef = static_cast<int>((b >> 23) & 0xFF);
  const uint64_t frac = b & ((uint32_t{1} << 23) - 1);
  if (ef == 0xFF) return encode_parts(neg, frac ? kNaN : kInf, 0, 0, 23, p, mode, ovf, r, n);
  if (ef == 0) {
    if (frac == 0) return encode_parts(neg, kZero, 0, 0, 23, p, mode, ovf, r, n);
    const int shift = clz64(frac) - 40;  // leading 1 from bit 63 - clz up to bit 23
    return encode_parts(neg, kFinite, frac << shift, -126 - shift, 23, p, mode, ovf, r, n);
  }
  return encode_parts(neg, kFinite, frac | (uint64_t{1} << 23), ef - 127, 23, p, mode, ovf, r, n);
}

LOWPREC_HD inline uint64_t encode_value(double x, const FloatParams& p, int mode, int ovf, uint64_t r, int n) {
  return encode_f64(x, p, mode, ovf, r, n);
}
LOWPREC_HD inline uint64_t encode_value(float x, const FloatParams& p, int mode, int ovf, uint64_t r, int n) {
  return encode_f32(x, p, mode, ovf, r, n);
}

// ---- decoding ------------------------------------------------------------------------------------
//: 2**k as a float64 for -1074 <= k <= 1023 (built from the bits).
LOWPREC_HD inline double pow2(int k) {
  if (k >= -1022) return double_from_bits(static_cast<uint64_t>(k + 1023) << 52);
  return double_from_bits(uint64_t{1} << (k + 1074));
}

//: sig * 2**k, rounded once (exact for every value of a supported format); sig < 2**53.
LOWPREC_HD inline double scale_pow2(uint64_t sig, int k) {
  const double s = static_cast<double>(sig);
  if (k >= -1022) return s * pow2(k);
  return s * pow2(k + 128) * pow2(-128);  // the first product is exact, the second rounds once
}

LOWPREC_HD inline double quiet_nan(bool neg) {
  return double_from_bits(0x7FF8000000000000ull | (neg ? (uint64_t{1} << 63) : 0));
}

//: Float64 value of a code (NaN keeps the code's sign bit, as decode_code does).
LOWPREC_HD inline double decode_to_f64(uint64_t code, const FloatParams& p) {
  const uint32_t fl = p.flags;
  const bool is_signed = fl & kFlagSigned;
  const bool neg = (code & p.sign_mask) != 0;
  const int64_t mag = static_cast<int64_t>(is_signed ? (code & (p.sign_mask - 1)) : code);
  if (fl & kFlagHasNan) {
    if (is_signed && static_cast<uint64_t>(p.nan_code) == p.sign_mask) {
      if (code == p.sign_mask) return quiet_nan(neg);  // fnuz / P3109 signed: NaN is the -0 code
    } else if (fl & kFlagHasInf) {
      if (mag > p.inf_mag) return quiet_nan(neg);  // IEEE (and P3109 unsigned): above Inf is NaN
    } else if (mag == p.nan_code) {
      return quiet_nan(neg);  // fn: the all-ones magnitude
    }
  }
  if ((fl & kFlagHasInf) && mag == p.inf_mag) {
    return double_from_bits(0x7FF0000000000000ull | (neg ? (uint64_t{1} << 63) : 0));
  }
  if (mag > p.max_mag) return quiet_nan(neg);  // above the largest finite value: not a number
  const int m = p.mbits;
  const int64_t ef = mag >> m;
  const uint64_t mf = static_cast<uint64_t>(mag) & ((uint64_t{1} << m) - 1);
  double v;
  if ((fl & kFlagZero) && ef == 0) {
    v = scale_pow2(mf, p.emin - m);  // subnormal (or zero)
  } else {
    // bias = [zero] - emin, so the exponent of the leading bit is ef - bias = ef + emin - [zero]
    const int k = static_cast<int>(ef) + p.emin - ((fl & kFlagZero) ? 1 : 0) - m;
    v = scale_pow2((uint64_t{1} << m) | mf, k);
  }
  return neg ? -v : v;
}

//: Float32 value of a code (the float64 value rounded once to nearest even).
LOWPREC_HD inline float decode_to_f32(uint64_t code, const FloatParams& p) {
  return static_cast<float>(decode_to_f64(code, p));
}

//: `x` rounded to the format, as a float64. NaN inputs give NaN (for formats without NaN too).
LOWPREC_HD inline double quantize_f64(double x, const FloatParams& p, int mode, int ovf, uint64_t r, int n) {
  if (x != x) return quiet_nan(false);
  const uint64_t code = encode_f64(x, p, mode, ovf, r, n);
  if (code == kEncodeError) return quiet_nan(false);
  return decode_to_f64(code, p);
}

//: `x` rounded to the format, as a float32. NaN inputs give NaN (for formats without NaN too).
LOWPREC_HD inline float quantize_f32(float x, const FloatParams& p, int mode, int ovf, uint64_t r, int n) {
  if (x != x) return static_cast<float>(quiet_nan(false));
  const uint64_t code = encode_f32(x, p, mode, ovf, r, n);
  if (code == kEncodeError) return static_cast<float>(quiet_nan(false));
  return decode_to_f32(code, p);
}

}  // namespace lowprec
