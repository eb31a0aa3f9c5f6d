// lowprec GEMM core: one output element of an emulated GEMM under a GemmProfile (docs/gemm.md).
//
// Header-only, host and CUDA device (LOWPREC_HD). This restates the Numba kernel of
// src/lowprec/ops/_gemm.py (general path: _slice, _block_aligned, _block_exact, add2, the split-K
// reduction) and src/lowprec/ops/_core.py (round_value, round_scaled, the long accumulator) and must
// agree with it bit for bit, including its conventions: a block whose aligned sum is 0 gives +0, an
// exact long-accumulator zero gives +0 (-0 toward negative), a rounding whose result is NaN in a
// format without NaN gives the value of code 0, and NaN inputs pass through unchanged.
//
// Every product a[k] * b[k] is exact in float64 (GemmProfile checks the input formats), so a
// compiler contracting a product and a sum into an FMA (nvcc does by default) changes nothing.
#pragma once

#include <cstdint>

#include "lowprec/core.h"

#if defined(__CUDACC__)
#define LOWPREC_GEMM_NOINLINE __noinline__
#elif defined(__GNUC__) || defined(__clang__)
#define LOWPREC_GEMM_NOINLINE __attribute__((noinline))
#else
#define LOWPREC_GEMM_NOINLINE
#endif

namespace lowprec {

//: The flattened GemmProfile (src/lowprec/ops/_gemm_cpp.py builds it from the same values the
//: Numba kernel receives). keep < 0: unbounded alignment; promote == 0: no promotion.
struct GemmParams {
  FloatParams acc, prom, part, out;
  int32_t amode, aovf;  // block rounding into acc, acc overflow policy
  int32_t povf, wovf;   // promote / partial overflow policies (their additions round to nearest even)
  int32_t omode, oovf;  // output rounding and overflow
  int32_t block, keep, fused, promote, exact, tree;
  int32_t f32;      // acc rounds exactly like IEEE float32 and amode is RNE or RZ (fast paths)
  int32_t nsplit;   // split-K slices; bounds has nsplit + 1 entries, order nsplit
  int32_t sh;       // acc fast path of aligned blocks: 52 - mbits when acc has float32's range, else -1
  double hi;        // the largest finite acc value (when sh >= 0)
};

namespace gemm {

constexpr int kLimbs = 72;      // the long accumulator: 32-bit limbs in int64 (src/lowprec/ops/_core.py)
constexpr int kLimbBase = -1152;  // bit 0 of limb 0 weighs 2**kLimbBase
constexpr uint64_t kMag = 0x7FFFFFFFFFFFFFFFull;

LOWPREC_HD inline double absd(double x) { return double_from_bits(bits_of(x) & kMag); }

LOWPREC_HD inline bool finite(double x) { return (bits_of(x) & 0x7FF0000000000000ull) != 0x7FF0000000000000ull; }

//: The decoded value of a code (kEncodeError, a NaN of a format without NaN, reads as code 0).
LOWPREC_HD inline double value_of(uint64_t code, const FloatParams& p) {
  return decode_to_f64(code == kEncodeError ? 0 : code, p);
}

//: round_value: x rounded to the format; NaN passes through.
LOWPREC_HD inline double round_value(double x, const FloatParams& p, int mode, int ovf) {
  if (x != x) return x;
  return value_of(encode_f64(x, p, mode, ovf, 0, 0), p);
}

//: round_scaled: (-1)**neg * (s + t) * 2**e rounded (s > 0 a float64, only the sign of t is used).
LOWPREC_HD inline double round_scaled(double s, double t, int e, bool neg, const FloatParams& p, int mode,
                                      int ovf) {
  uint64_t a = bits_of(s);
  if (t != 0.0 && (a & 1) == 0) a = t > 0.0 ? a + 1 : a - 1;  // round to odd at 53 bits
  const int ef = static_cast<int>(a >> 52);
  const uint64_t frac = a & ((uint64_t{1} << 52) - 1);
  uint64_t sig;
  int ex;
  if (ef == 0) {  // subnormal s: normalise (does not occur for the formats a profile accepts)
    const int shift = clz64(frac) - 11;
    sig = frac << shift;
    ex = -1022 - shift;
  } else {
    sig = frac | (uint64_t{1} << 52);
    ex = ef - 1023;
  }
  return value_of(encode_parts(neg, kFinite, sig, ex + e, 52, p, mode, ovf, 0, 0), p);
}

LOWPREC_HD inline void two_sum(double a, double b, double& s, double& t) {
  s = a + b;
  const double bb = s - a;
  t = (a - (s - bb)) + (b - bb);
}

LOWPREC_HD inline double zero_sum_sign(double a, double b, int mode) {
  const uint64_t sa = bits_of(a) >> 63;
  if (sa == bits_of(b) >> 63) return double_from_bits(sa << 63);
  return mode == kTowardNegative ? -0.0 : 0.0;
}

//: add2: round(x + y) for values of the supported formats (finite ones within float64's normal range).
//: (Not inlined: the slow path of the fast paths below; keeps their loops small.)
LOWPREC_HD LOWPREC_GEMM_NOINLINE inline double add2(double x, double y, const FloatParams& p, int mode, int ovf) {
  if (!(finite(x) && finite(y))) return round_value(x + y, p, mode, ovf);
  double s, t;
  two_sum(x, y, s, t);
  if (s == 0.0) return round_value(zero_sum_sign(x, y, mode), p, mode, ovf);
  if (s < 0.0) return round_scaled(-s, -t, 0, true, p, mode, ovf);
  return round_scaled(s, t, 0, false, p, mode, ovf);
}

// ---- float32 fast paths (acc = IEEE float32, RNE or RZ; equal to the general rounding) -------------
constexpr double kF32Min = 1.1754943508222875e-38;  // 2**-126
constexpr double kF32Max = 3.4028234663852886e+38;  // FLT_MAX
constexpr uint64_t kLow29 = (uint64_t{1} << 29) - 1;
constexpr uint64_t kMid29 = uint64_t{1} << 28;

//: RNE or RZ of x (|x| in float32's normal range, below FLT_MAX; exact or float64 round-to-odd).
LOWPREC_HD inline double f32_round(double x, int mode) {
  if (mode == kNearestEven) return static_cast<double>(static_cast<float>(x));
  return double_from_bits(bits_of(x) & ~kLow29);
}

//: round(v + c) to float32 (the Numba _fma32): the error-free transformation only where it matters.
LOWPREC_HD inline double fma32(double v, double c, const FloatParams& pa, int mode, int ovf) {
  const double s = v + c;
  const double m = absd(s);
  if (m > kF32Min && m < kF32Max) {
    uint64_t b = bits_of(s);
    const uint64_t low = b & kLow29;
    if (low == 0 || low == kMid29) {
      double s2, t;
      two_sum(v, c, s2, t);
      if (t != 0.0) b = ((t > 0.0) == (s > 0.0)) ? b + 1 : b - 1;  // round to odd, toward v + c
      return f32_round(double_from_bits(b), mode);
    }
    return f32_round(s, mode);
  }
  return add2(v, c, pa, mode, ovf);
}

//: RNE or RZ of a normal float64 x to 53 - sh significant bits (result normal and finite there).
LOWPREC_HD inline double round_bits(double x, int sh, int mode) {
  uint64_t b = bits_of(x);
  const uint64_t low = b & ((uint64_t{1} << sh) - 1);
  b -= low;
  if (mode == kNearestEven) {
    const uint64_t half = uint64_t{1} << (sh - 1);
    if (low > half || (low == half && ((b >> sh) & 1))) b += uint64_t{1} << sh;
  }
  return double_from_bits(b);
}

// ---- the long accumulator ---------------------------------------------------------------------------
struct LongAcc {
  int64_t limb[kLimbs];

  LOWPREC_HD void clear() {
    for (int i = 0; i < kLimbs; ++i) limb[i] = 0;
  }

  //: Add the finite float64 v exactly.
  LOWPREC_HD void add(double v) {
    if (v == 0.0) return;
    const uint64_t b = bits_of(v);
    const uint64_t a = b & kMag;
    int64_t field = static_cast<int64_t>(a >> 52);
    int64_t sig = static_cast<int64_t>(a & ((uint64_t{1} << 52) - 1));
    if (field == 0) {
      field = 1;
    } else {
      sig |= int64_t{1} << 52;
    }
    const int64_t pos = field - 1075 - kLimbBase;
    const int li = static_cast<int>(pos >> 5);
    const int off = static_cast<int>(pos & 31);
    const int64_t lo = (sig & 0xFFFFFFFF) << off;
    const int64_t hi = (sig >> 32) << off;
    const int64_t w0 = lo & 0xFFFFFFFF;
    const int64_t w1 = (lo >> 32) + (hi & 0xFFFFFFFF);
    const int64_t w2 = hi >> 32;
    if (b >> 63) {
      limb[li] -= w0;
      limb[li + 1] -= w1;
      limb[li + 2] -= w2;
    } else {
      limb[li] += w0;
      limb[li + 1] += w1;
      limb[li + 2] += w2;
    }
  }

  LOWPREC_HD int64_t norm() {
    int64_t carry = 0;
    for (int i = 0; i < kLimbs; ++i) {
      const int64_t v = limb[i] + carry;
      limb[i] = v & 0xFFFFFFFF;
      carry = v >> 32;
    }
    return carry;
  }

  //: The exact sum rounded to the format (an exact zero gives +0, -0 toward negative).
  LOWPREC_HD double round(const FloatParams& p, int mode, int ovf) {
    const bool neg = norm() < 0;
    if (neg) {
      for (int i = 0; i < kLimbs; ++i) limb[i] = -limb[i];
      norm();
    }
    int top = -1;
    for (int i = kLimbs - 1; i >= 0; --i) {
      if (limb[i] != 0) {
        top = i;
        break;
      }
    }
    if (top < 0) return mode == kTowardNegative ? -0.0 : 0.0;
    const int pbit = 32 * top + (63 - clz64(static_cast<uint64_t>(limb[top])));
    const int low = pbit - 52;
    int64_t mant = 0;
    bool sticky = false;
    for (int i = top; i >= 0; --i) {
      const int64_t v = limb[i];
      if (v == 0) continue;
      const int base = 32 * i;
      if (base >= low) {
        mant += v << (base - low);
      } else if (base + 32 > low) {
        const int sh = low - base;
        mant += v >> sh;
        if (v & ((int64_t{1} << sh) - 1)) sticky = true;
      } else {
        sticky = true;
        break;
      }
    }
    return round_scaled(static_cast<double>(mant), sticky ? 1.0 : 0.0, low + kLimbBase, neg, p, mode, ovf);
  }
};

LOWPREC_HD inline int expo(double v) { return static_cast<int>((bits_of(v) >> 52) & 0x7FF) - 1023; }

//: The k-th product entering the accumulator (rounded to acc first when not fused).
LOWPREC_HD inline double product(const double* a, const double* b, int64_t k, const GemmParams& g) {
  const double v = a[k] * b[k];
  return g.fused ? v : round_value(v, g.acc, g.amode, g.aovf);
}

//: One block FMA with bounded alignment (the Numba _block_aligned): products k..kend-1 and carry c
//: truncated toward zero to `keep` bits below the largest exponent, summed exactly, rounded once.
LOWPREC_HD inline double block_aligned(const double* a, const double* b, int64_t k, int64_t kend, double c,
                                       const GemmParams& g) {
  double amax = absd(c);
  double chk = c * 0.0;  // NaN once any term is Inf or NaN
  for (int64_t t = k; t < kend; ++t) {
    const double v = product(a, b, t, g);
    chk += v * 0.0;
    const double av = absd(v);
    if (av > amax) amax = av;
  }
  if (chk != chk) {
    double tot = c;
    for (int64_t t = k; t < kend; ++t) tot += product(a, b, t, g);
    return round_value(tot, g.acc, g.amode, g.aovf);
  }
  if (amax == 0.0) return 0.0;
  const int q = expo(amax) + 1 - g.keep;
  const double sc = pow2(-q);
  int64_t acc = static_cast<int64_t>(c * sc);  // float -> int truncates: the alignment truncation
  for (int64_t t = k; t < kend; ++t) acc += static_cast<int64_t>(product(a, b, t, g) * sc);
  if (acc == 0) return 0.0;
  if (g.sh >= 0 && (acc < (int64_t{1} << 53) && acc > -(int64_t{1} << 53))) {
    // acc has float32's exponent range and RNE/RZ: round the exact value by bit operations
    const double x = static_cast<double>(acc) * pow2(q);  // exact
    const double m = absd(x);
    if (m > kF32Min && m < g.hi && (g.amode == kNearestEven || g.amode == kTowardZero)) {
      if (g.sh == 29 && g.amode == kNearestEven) return static_cast<double>(static_cast<float>(x));
      return round_bits(x, g.sh, g.amode);
    }
  }
  if (acc < 0) return round_scaled(static_cast<double>(-acc), 0.0, q, true, g.acc, g.amode, g.aovf);
  return round_scaled(static_cast<double>(acc), 0.0, q, false, g.acc, g.amode, g.aovf);
}

//: One block FMA with unbounded alignment (the Numba _block_exact): the exact sum rounded once.
LOWPREC_HD inline double block_exact(const double* a, const double* b, int64_t k, int64_t kend, double c,
                                     const GemmParams& g, LongAcc& la) {
  la.clear();
  double tot = c;
  for (int64_t t = k; t < kend; ++t) {
    const double v = product(a, b, t, g);
    tot += v;
    if (finite(v)) la.add(v);
  }
  if (!finite(tot) || !finite(c)) return round_value(tot, g.acc, g.amode, g.aovf);
  la.add(c);
  return la.round(g.acc, g.amode, g.aovf);
}

//: Products k0..k1-1 accumulated onto the carry-in c per the block / promotion model (Numba _slice).
LOWPREC_HD inline double slice(const double* a, const double* b, int64_t k0, int64_t k1, double c,
                               const GemmParams& g, LongAcc& la) {
  double r = 0.0;
  int64_t cnt = 0;
  int64_t k = k0;
  while (k < k1) {
    int64_t kend = k + g.block < k1 ? k + g.block : k1;
    if (g.promote > 0 && k + g.promote - cnt < kend) kend = k + g.promote - cnt;
    if (g.keep >= 0) {
      c = block_aligned(a, b, k, kend, c, g);
    } else if (kend - k == 1) {
      const double v = product(a, b, k, g);
      c = g.f32 ? fma32(v, c, g.acc, g.amode, g.aovf) : add2(v, c, g.acc, g.amode, g.aovf);
    } else {
      c = block_exact(a, b, k, kend, c, g, la);
    }
    cnt += kend - k;
    k = kend;
    if (g.promote > 0 && (cnt == g.promote || k == k1)) {
      r = add2(r, c, g.prom, kNearestEven, g.povf);
      c = 0.0;
      cnt = 0;
    }
  }
  return g.promote > 0 ? r : c;
}

//: slice over four output columns b[0..3] of the same A row at once (split_k = 1): the same operations
//: per column as four slice calls, interleaved block by block so that the four dependency chains
//: overlap (the CPU loop's shortcut). c holds the four carry-ins and receives the four results.
LOWPREC_HD inline void slice4(const double* a, const double* const* b, int64_t k0, int64_t k1, double* c,
                              const GemmParams& g, LongAcc& la) {
  if (g.block == 1 && g.keep < 0 && g.promote == 0 && g.fused && g.f32) {  // a plain float32 FMA chain
    double c0 = c[0], c1 = c[1], c2 = c[2], c3 = c[3];
    for (int64_t k = k0; k < k1; ++k) {
      const double x = a[k];
      c0 = fma32(x * b[0][k], c0, g.acc, g.amode, g.aovf);
      c1 = fma32(x * b[1][k], c1, g.acc, g.amode, g.aovf);
      c2 = fma32(x * b[2][k], c2, g.acc, g.amode, g.aovf);
      c3 = fma32(x * b[3][k], c3, g.acc, g.amode, g.aovf);
    }
    c[0] = c0, c[1] = c1, c[2] = c2, c[3] = c3;
    return;
  }
  double r[4] = {0.0, 0.0, 0.0, 0.0};
  int64_t cnt = 0;
  int64_t k = k0;
  while (k < k1) {
    int64_t kend = k + g.block < k1 ? k + g.block : k1;
    if (g.promote > 0 && k + g.promote - cnt < kend) kend = k + g.promote - cnt;
    for (int q = 0; q < 4; ++q) {
      if (g.keep >= 0) {
        c[q] = block_aligned(a, b[q], k, kend, c[q], g);
      } else if (kend - k == 1) {
        const double v = product(a, b[q], k, g);
        c[q] = g.f32 ? fma32(v, c[q], g.acc, g.amode, g.aovf) : add2(v, c[q], g.acc, g.amode, g.aovf);
      } else {
        c[q] = block_exact(a, b[q], k, kend, c[q], g, la);
      }
    }
    cnt += kend - k;
    k = kend;
    if (g.promote > 0 && (cnt == g.promote || k == k1)) {
      for (int q = 0; q < 4; ++q) {
        r[q] = add2(r[q], c[q], g.prom, kNearestEven, g.povf);
        c[q] = 0.0;
      }
      cnt = 0;
    }
  }
  if (g.promote > 0) {
    for (int q = 0; q < 4; ++q) c[q] = r[q];
  }
}

}  // namespace gemm

//: One output element: row `a` of A and row `b` of B^T (K = bounds[nsplit] values each), carry-in c0.
//: `part` is scratch of nsplit doubles (tree reductions only); `la` a scratch long accumulator.
LOWPREC_HD inline double gemm_element(const double* a, const double* b, double c0, const GemmParams& g,
                                      const int64_t* bounds, const int64_t* order, double* part,
                                      gemm::LongAcc& la) {
  using gemm::add2;
  using gemm::round_value;
  const int64_t kk = bounds[g.nsplit];
  if (g.exact) {
    la.clear();
    double tot = c0;
    for (int64_t k = 0; k < kk; ++k) {
      const double v = a[k] * b[k];
      tot += v;
      if (gemm::finite(v)) la.add(v);
    }
    if (gemm::finite(tot) && gemm::finite(c0)) {
      la.add(c0);
      return la.round(g.out, g.omode, g.oovf);
    }
    return round_value(tot, g.out, g.omode, g.oovf);
  }
  const int ns = g.nsplit;
  double acc;
  if (ns == 1) {
    acc = gemm::slice(a, b, bounds[0], bounds[1], c0, g, la);
  } else if (g.tree) {
    for (int s = 0; s < ns; ++s) {
      const double v = gemm::slice(a, b, bounds[s], bounds[s + 1], s == 0 ? c0 : 0.0, g, la);
      part[s] = round_value(v, g.part, kNearestEven, g.wovf);
    }
    int w = ns;
    while (w > 1) {
      const int h = w / 2;
      for (int q = 0; q < h; ++q) part[q] = add2(part[2 * q], part[2 * q + 1], g.part, kNearestEven, g.wovf);
      if (w % 2 == 1) {
        part[h] = part[w - 1];
        w = h + 1;
      } else {
        w = h;
      }
    }
    acc = part[0];
  } else {  // sequential or permuted: the slices in `order`, each computed when it is added
    for (int q = 0; q < ns; ++q) {
      const int s = static_cast<int>(order[q]);
      const double v = gemm::slice(a, b, bounds[s], bounds[s + 1], s == 0 ? c0 : 0.0, g, la);
      const double pv = round_value(v, g.part, kNearestEven, g.wovf);
      acc = q == 0 ? pv : add2(acc, pv, g.part, kNearestEven, g.wovf);
    }
  }
  return round_value(acc, g.out, g.omode, g.oovf);
}

}  // namespace lowprec
