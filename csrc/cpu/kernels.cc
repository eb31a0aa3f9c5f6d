// CPU loops over the lowprec core. One template per operation, instantiated for every
// (input dtype, code width) pair and dispatched at run time; parallel with OpenMP when available.
#include "kernels.h"

#include "fast_loops.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace lowprec::cpu {
namespace {

// Below this many elements a parallel region costs more than it saves.
constexpr int64_t kParallelMin = 1 << 15;

// The random integer of element i: explicit bits, or the counter-based stream.
struct Rand {
  uint64_t key;
  uint64_t start;
  const void* bits;
  int bits_bytes;
  int n;
  explicit Rand(const RandomSource& rs)
      : key(splitmix64(rs.seed)), start(rs.start), bits(rs.bits), bits_bytes(rs.bits_bytes), n(rs.n) {}
  inline uint64_t operator()(int64_t i) const {
    if (bits != nullptr) {
      return bits_bytes == 4 ? static_cast<const uint32_t*>(bits)[i] : static_cast<const uint64_t*>(bits)[i];
    }
    return random_bits_keyed(key, start + static_cast<uint64_t>(i), n);
  }
};

// The mode is a template parameter so that the per-element switch folds away (one loop per mode).
template <int Mode, class In, class Out>
int64_t encode_loop_mode(const In* x, Out* out, int64_t count, const FloatParams& p, int ovf,
                         const RandomSource& rs) {
  int64_t errors = 0;
  if constexpr (Mode == kStochastic || Mode == kStochasticEqual) {
    const Rand rand(rs);
    const int n = rs.n;
#pragma omp parallel for schedule(static) reduction(+ : errors) if (count >= kParallelMin)
    for (int64_t i = 0; i < count; ++i) {
      const uint64_t c = encode_value(x[i], p, Mode, ovf, rand(i), n);
      errors += c == kEncodeError;
      out[i] = static_cast<Out>(c);
    }
  } else {
#pragma omp parallel for schedule(static) reduction(+ : errors) if (count >= kParallelMin)
    for (int64_t i = 0; i < count; ++i) {
      const uint64_t c = encode_value(x[i], p, Mode, ovf, 0, 0);
      errors += c == kEncodeError;
      out[i] = static_cast<Out>(c);
    }
  }
  return errors;
}

template <class In, class Out>
int64_t encode_loop(const In* x, Out* out, int64_t count, const FloatParams& p, int mode, int ovf,
                    const RandomSource& rs) {
  switch (mode) {
    case kNearestEven: return encode_loop_mode<kNearestEven>(x, out, count, p, ovf, rs);
    case kNearestAway: return encode_loop_mode<kNearestAway>(x, out, count, p, ovf, rs);
    case kNearestZero: return encode_loop_mode<kNearestZero>(x, out, count, p, ovf, rs);
    case kTowardZero: return encode_loop_mode<kTowardZero>(x, out, count, p, ovf, rs);
    case kTowardPositive: return encode_loop_mode<kTowardPositive>(x, out, count, p, ovf, rs);
    case kTowardNegative: return encode_loop_mode<kTowardNegative>(x, out, count, p, ovf, rs);
    case kToOdd: return encode_loop_mode<kToOdd>(x, out, count, p, ovf, rs);
    case kStochastic: return encode_loop_mode<kStochastic>(x, out, count, p, ovf, rs);
    default: return encode_loop_mode<kStochasticEqual>(x, out, count, p, ovf, rs);
  }
}

inline double quantize_value(double x, const FloatParams& p, int mode, int ovf, uint64_t r, int n) {
  return quantize_f64(x, p, mode, ovf, r, n);
}
inline float quantize_value(float x, const FloatParams& p, int mode, int ovf, uint64_t r, int n) {
  return quantize_f32(x, p, mode, ovf, r, n);
}

template <class T>
void quantize_loop(const T* x, T* out, int64_t count, const FloatParams& p, int mode, int ovf,
                   const RandomSource& rs) {
  if (is_stochastic(mode)) {
    const Rand rand(rs);
    const int n = rs.n;
#pragma omp parallel for schedule(static) if (count >= kParallelMin)
    for (int64_t i = 0; i < count; ++i) out[i] = quantize_value(x[i], p, mode, ovf, rand(i), n);
  } else {
#pragma omp parallel for schedule(static) if (count >= kParallelMin)
    for (int64_t i = 0; i < count; ++i) out[i] = quantize_value(x[i], p, mode, ovf, 0, 0);
  }
}

template <class Code, class T>
void decode_loop(const Code* codes, T* out, int64_t count, const FloatParams& p) {
#pragma omp parallel for schedule(static) if (count >= kParallelMin)
  for (int64_t i = 0; i < count; ++i) out[i] = static_cast<T>(decode_to_f64(codes[i], p));
}

template <class In>
int64_t encode_in(const In* x, void* out, int out_bytes, int64_t count, const FloatParams& p, int mode, int ovf,
                  const RandomSource& rs) {
  switch (out_bytes) {
    case 1: return encode_loop(x, static_cast<uint8_t*>(out), count, p, mode, ovf, rs);
    case 2: return encode_loop(x, static_cast<uint16_t*>(out), count, p, mode, ovf, rs);
    case 4: return encode_loop(x, static_cast<uint32_t*>(out), count, p, mode, ovf, rs);
    default: return encode_loop(x, static_cast<uint64_t*>(out), count, p, mode, ovf, rs);
  }
}

template <class T>
void decode_out(const void* codes, int code_bytes, T* out, int64_t count, const FloatParams& p) {
  switch (code_bytes) {
    case 1: decode_loop(static_cast<const uint8_t*>(codes), out, count, p); break;
    case 2: decode_loop(static_cast<const uint16_t*>(codes), out, count, p); break;
    case 4: decode_loop(static_cast<const uint32_t*>(codes), out, count, p); break;
    default: decode_loop(static_cast<const uint64_t*>(codes), out, count, p); break;
  }
}

}  // namespace

int64_t encode(const void* x, int x_bytes, void* out, int out_bytes, int64_t count, const FloatParams& p,
               int mode, int ovf, const RandomSource& rs) {
  int64_t errors = 0;
  if (fast_encode(x, x_bytes, out, out_bytes, count, p, mode, ovf, rs, &errors)) return errors;
  if (x_bytes == 4) return encode_in(static_cast<const float*>(x), out, out_bytes, count, p, mode, ovf, rs);
  return encode_in(static_cast<const double*>(x), out, out_bytes, count, p, mode, ovf, rs);
}

void quantize(const void* x, int x_bytes, void* out, int64_t count, const FloatParams& p, int mode, int ovf,
              const RandomSource& rs) {
  if (fast_quantize(x, x_bytes, out, count, p, mode, ovf, rs)) return;
  if (x_bytes == 4) {
    quantize_loop(static_cast<const float*>(x), static_cast<float*>(out), count, p, mode, ovf, rs);
  } else {
    quantize_loop(static_cast<const double*>(x), static_cast<double*>(out), count, p, mode, ovf, rs);
  }
}

void decode(const void* codes, int code_bytes, void* out, int out_bytes, int64_t count, const FloatParams& p) {
  if (out_bytes == 4) {
    decode_out(codes, code_bytes, static_cast<float*>(out), count, p);
  } else {
    decode_out(codes, code_bytes, static_cast<double*>(out), count, p);
  }
}

void random_bits(uint64_t seed, uint64_t start, int64_t count, int n, uint64_t* out) {
  const uint64_t key = splitmix64(seed);
#pragma omp parallel for schedule(static) if (count >= kParallelMin)
  for (int64_t i = 0; i < count; ++i) out[i] = random_bits_keyed(key, start + static_cast<uint64_t>(i), n);
}

int openmp_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 0;
#endif
}

}  // namespace lowprec::cpu
