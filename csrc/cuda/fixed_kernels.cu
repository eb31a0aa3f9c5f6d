// Grid-stride CUDA kernels over the fixed-point core (csrc/include/lowprec/fixed.h).
//
// An element's random integer depends only on (seed, start + flat index), so results are identical
// to the CPU kernels and independent of the launch configuration. Launches go on the caller's stream.
#include <cuda_runtime.h>

#include <cstdint>

#include "launch.h"
#include "lowprec/fixed.h"

namespace lowprec::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 1 << 16;  // grid-stride loops cover the rest

inline int fixed_blocks_for(int64_t count) {
  const int64_t b = (count + kThreads - 1) / kThreads;
  return static_cast<int>(b < kMaxBlocks ? (b > 0 ? b : 1) : kMaxBlocks);
}

// The random integer of element i: explicit bits (uint32/uint64), or the counter-based stream.
struct FixedRand {
  uint64_t key;  // splitmix64(seed)
  uint64_t start;
  const void* bits;
  int bits_bytes;
  int n;
  __device__ __forceinline__ uint64_t operator()(int64_t i) const {
    if (bits != nullptr) {
      return bits_bytes == 4 ? static_cast<const uint32_t*>(bits)[i] : static_cast<const uint64_t*>(bits)[i];
    }
    return random_bits_keyed(key, start + static_cast<uint64_t>(i), n);
  }
};

template <class In>
__global__ void fixed_encode_kernel(const In* __restrict__ x, uint64_t* __restrict__ out, int64_t count,
                                    FixedParams fp, int q, int o, FixedRand rand, uint32_t* error_flag) {
  const bool sr = fixed_is_stochastic(q);
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride) {
    const double v = static_cast<double>(x[i]);
    if (fixed_input_invalid(v, o)) {
      if (error_flag != nullptr) atomicOr(error_flag, 1u);
      out[i] = 0;
      continue;
    }
    out[i] = fixed_encode_f64(v, fp, q, o, sr ? rand(i) : 0, sr ? rand.n : 0);
  }
}

template <class In, class Out>
__global__ void fixed_quantize_kernel(const In* __restrict__ x, Out* __restrict__ out, int64_t count,
                                      FixedParams fp, int q, int o, FixedRand rand) {
  const bool sr = fixed_is_stochastic(q);
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride) {
    const double v = static_cast<double>(x[i]);
    if (v != v) {
      out[i] = static_cast<Out>(v);  // NaN passes through
      continue;
    }
    out[i] = static_cast<Out>(fixed_quantize_f64(v, fp, q, o, sr ? rand(i) : 0, sr ? rand.n : 0));
  }
}

template <class Out>
__global__ void fixed_decode_kernel(const uint64_t* __restrict__ codes, Out* __restrict__ out, int64_t count,
                                    FixedParams fp) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride) {
    out[i] = static_cast<Out>(fixed_decode_f64(codes[i], fp));
  }
}

template <class In>
void fixed_quantize_in(const In* x, void* out, int out_bytes, int64_t count, const FixedParams& fp, int q, int o,
                       const FixedRand& rand, cudaStream_t s) {
  const int blocks = fixed_blocks_for(count);
  if (out_bytes == 4) {
    fixed_quantize_kernel<<<blocks, kThreads, 0, s>>>(x, static_cast<float*>(out), count, fp, q, o, rand);
  } else {
    fixed_quantize_kernel<<<blocks, kThreads, 0, s>>>(x, static_cast<double*>(out), count, fp, q, o, rand);
  }
}

}  // namespace

int launch_fixed_encode(const void* x, int x_bytes, uint64_t* out, int64_t count, const FixedParams& fp, int q,
                        int o, uint64_t seed, uint64_t start, const void* rbits, int rbits_bytes, int n,
                        uint32_t* error_flag, void* stream) {
  if (count <= 0) return cudaSuccess;
  const auto s = static_cast<cudaStream_t>(stream);
  const FixedRand rand{splitmix64(seed), start, rbits, rbits_bytes, n};
  const int blocks = fixed_blocks_for(count);
  if (x_bytes == 4) {
    fixed_encode_kernel<<<blocks, kThreads, 0, s>>>(static_cast<const float*>(x), out, count, fp, q, o, rand,
                                                    error_flag);
  } else {
    fixed_encode_kernel<<<blocks, kThreads, 0, s>>>(static_cast<const double*>(x), out, count, fp, q, o, rand,
                                                    error_flag);
  }
  return cudaGetLastError();
}

int launch_fixed_quantize(const void* x, int x_bytes, void* out, int out_bytes, int64_t count,
                          const FixedParams& fp, int q, int o, uint64_t seed, uint64_t start, const void* rbits,
                          int rbits_bytes, int n, void* stream) {
  if (count <= 0) return cudaSuccess;
  const auto s = static_cast<cudaStream_t>(stream);
  const FixedRand rand{splitmix64(seed), start, rbits, rbits_bytes, n};
  if (x_bytes == 4) {
    fixed_quantize_in(static_cast<const float*>(x), out, out_bytes, count, fp, q, o, rand, s);
  } else {
    fixed_quantize_in(static_cast<const double*>(x), out, out_bytes, count, fp, q, o, rand, s);
  }
  return cudaGetLastError();
}

int launch_fixed_decode(const uint64_t* codes, void* out, int out_bytes, int64_t count, const FixedParams& fp,
                        void* stream) {
  if (count <= 0) return cudaSuccess;
  const auto s = static_cast<cudaStream_t>(stream);
  const int blocks = fixed_blocks_for(count);
  if (out_bytes == 4) {
    fixed_decode_kernel<<<blocks, kThreads, 0, s>>>(codes, static_cast<float*>(out), count, fp);
  } else {
    fixed_decode_kernel<<<blocks, kThreads, 0, s>>>(codes, static_cast<double*>(out), count, fp);
  }
  return cudaGetLastError();
}

}  // namespace lowprec::cuda
