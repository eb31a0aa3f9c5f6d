// CPU loops over the fixed-point core; one loop per rounding mode (a template parameter, so the
// per-element switch folds away), parallel with OpenMP when available.
#include "fixed_kernels.h"

#include "fixed_fast_loops.h"

namespace lowprec::cpu {
namespace {

constexpr int64_t kParallelMin = 1 << 15;

// The random integer of element i: explicit bits, or the counter-based stream.
struct FixedRand {
  uint64_t key;
  uint64_t start;
  const void* bits;
  int bits_bytes;
  explicit FixedRand(const RandomSource& rs)
      : key(splitmix64(rs.seed)), start(rs.start), bits(rs.bits), bits_bytes(rs.bits_bytes) {}
  inline uint64_t operator()(int64_t i, int n) const {
    if (bits != nullptr) {
      return bits_bytes == 4 ? static_cast<const uint32_t*>(bits)[i] : static_cast<const uint64_t*>(bits)[i];
    }
    return random_bits_keyed(key, start + static_cast<uint64_t>(i), n);
  }
};

template <int Q, class In>
int64_t encode_loop(const In* x, uint64_t* out, int64_t count, const FixedParams& fp, int o,
                    const RandomSource& rs) {
  constexpr bool kSr = Q == kFixedStochastic || Q == kFixedStochasticEqual;
  const FixedRand rand(rs);
  const int n = kSr ? rs.n : 0;
  int64_t errors = 0;
#pragma omp parallel for schedule(static) reduction(+ : errors) if (count >= kParallelMin)
  for (int64_t i = 0; i < count; ++i) {
    const double v = static_cast<double>(x[i]);
    if (fixed_input_invalid(v, o)) {
      ++errors;
      out[i] = 0;
      continue;
    }
    out[i] = fixed_encode_f64(v, fp, Q, o, kSr ? rand(i, n) : 0, n);
  }
  return errors;
}

template <int Q, class In, class Out>
void quantize_loop(const In* x, Out* out, int64_t count, const FixedParams& fp, int o, const RandomSource& rs) {
  constexpr bool kSr = Q == kFixedStochastic || Q == kFixedStochasticEqual;
  const FixedRand rand(rs);
  const int n = kSr ? rs.n : 0;
#pragma omp parallel for schedule(static) if (count >= kParallelMin)
  for (int64_t i = 0; i < count; ++i) {
    const double v = static_cast<double>(x[i]);
    if (v != v) {
      out[i] = static_cast<Out>(v);  // NaN passes through
      continue;
    }
    out[i] = static_cast<Out>(fixed_quantize_f64(v, fp, Q, o, kSr ? rand(i, n) : 0, n));
  }
}

// Calls F::template run<Q>() for the rounding mode q (a compile-time constant in each branch).
template <class F>
auto with_mode(int q, F&& f) {
  switch (q) {
    case kTrn: return f.template run<kTrn>();
    case kTrnZero: return f.template run<kTrnZero>();
    case kRnd: return f.template run<kRnd>();
    case kRndZero: return f.template run<kRndZero>();
    case kRndMinInf: return f.template run<kRndMinInf>();
    case kRndInf: return f.template run<kRndInf>();
    case kRndConv: return f.template run<kRndConv>();
    case kFixedToOdd: return f.template run<kFixedToOdd>();
    case kFixedStochastic: return f.template run<kFixedStochastic>();
    case kFixedStochasticEqual: return f.template run<kFixedStochasticEqual>();
    default: return f.template run<kTrnInf>();
  }
}

template <class In>
struct EncodeCall {
  const In* x;
  uint64_t* out;
  int64_t count;
  const FixedParams& fp;
  int o;
  const RandomSource& rs;
  template <int Q>
  int64_t run() const {
    return encode_loop<Q>(x, out, count, fp, o, rs);
  }
};

template <class In, class Out>
struct QuantizeCall {
  const In* x;
  Out* out;
  int64_t count;
  const FixedParams& fp;
  int o;
  const RandomSource& rs;
  template <int Q>
  int run() const {
    quantize_loop<Q>(x, out, count, fp, o, rs);
    return 0;
  }
};

template <class In, class Out>
void quantize_typed(const In* x, Out* out, int64_t count, const FixedParams& fp, int q, int o,
                    const RandomSource& rs) {
  with_mode(q, QuantizeCall<In, Out>{x, out, count, fp, o, rs});
}

template <class Out>
void decode_loop(const uint64_t* codes, Out* out, int64_t count, const FixedParams& fp) {
#pragma omp parallel for schedule(static) if (count >= kParallelMin)
  for (int64_t i = 0; i < count; ++i) out[i] = static_cast<Out>(fixed_decode_f64(codes[i], fp));
}

}  // namespace

int64_t fixed_encode(const void* x, int x_bytes, uint64_t* out, int64_t count, const FixedParams& fp, int q,
                     int o, const RandomSource& rs) {
  int64_t errors = 0;
  if (fixed_fast_encode(x, x_bytes, out, count, fp, q, o, rs, &errors)) return errors;
  if (x_bytes == 4) return with_mode(q, EncodeCall<float>{static_cast<const float*>(x), out, count, fp, o, rs});
  return with_mode(q, EncodeCall<double>{static_cast<const double*>(x), out, count, fp, o, rs});
}

void fixed_quantize(const void* x, int x_bytes, void* out, int out_bytes, int64_t count, const FixedParams& fp,
                    int q, int o, const RandomSource& rs) {
  if (fixed_fast_quantize(x, x_bytes, out, out_bytes, count, fp, q, o, rs)) return;
  if (x_bytes == 4) {
    const auto* xf = static_cast<const float*>(x);
    if (out_bytes == 4) {
      quantize_typed(xf, static_cast<float*>(out), count, fp, q, o, rs);
    } else {
      quantize_typed(xf, static_cast<double*>(out), count, fp, q, o, rs);
    }
  } else {
    const auto* xd = static_cast<const double*>(x);
    if (out_bytes == 4) {
      quantize_typed(xd, static_cast<float*>(out), count, fp, q, o, rs);
    } else {
      quantize_typed(xd, static_cast<double*>(out), count, fp, q, o, rs);
    }
  }
}

void fixed_decode(const uint64_t* codes, void* out, int out_bytes, int64_t count, const FixedParams& fp) {
  if (out_bytes == 4) {
    decode_loop(codes, static_cast<float*>(out), count, fp);
  } else {
    decode_loop(codes, static_cast<double*>(out), count, fp);
  }
}

}  // namespace lowprec::cpu
