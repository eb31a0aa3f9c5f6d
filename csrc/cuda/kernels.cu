// Grid-stride CUDA kernels over the lowprec core (csrc/include/lowprec/core.h).
//
// Every element's random integer depends only on (seed, start + flat index), so results are
// identical to the CPU kernels and independent of the launch configuration.
#include <cuda_runtime.h>

#include <cstdint>

#include "launch.h"
#include "lowprec/core.h"

namespace lowprec::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 1 << 16;  // grid-stride loops cover the rest

inline int blocks_for(int64_t count) {
  const int64_t b = (count + kThreads - 1) / kThreads;
  return static_cast<int>(b < kMaxBlocks ? (b > 0 ? b : 1) : kMaxBlocks);
}

// The random integer of element i: explicit bits, or the counter-based stream (key = mix(seed)).
struct Rand {
  uint64_t key;
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

template <class In, class Out>
__global__ void encode_kernel(const In* __restrict__ x, Out* __restrict__ out, int64_t count, FloatParams p,
                              int mode, int ovf, Rand rand, uint32_t* error_flag) {
  const bool sr = is_stochastic(mode);
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride) {
    const uint64_t r = sr ? rand(i) : 0;
    const uint64_t c = encode_value(x[i], p, mode, ovf, r, sr ? rand.n : 0);
    if (c == kEncodeError && error_flag != nullptr) atomicOr(error_flag, 1u);
    out[i] = static_cast<Out>(c);
  }
}

__device__ __forceinline__ double quantize_value(double x, const FloatParams& p, int mode, int ovf, uint64_t r,
                                                 int n) {
  return quantize_f64(x, p, mode, ovf, r, n);
}
__device__ __forceinline__ float quantize_value(float x, const FloatParams& p, int mode, int ovf, uint64_t r,
                                                int n) {
  return quantize_f32(x, p, mode, ovf, r, n);
}

template <class T>
__global__ void quantize_kernel(const T* __restrict__ x, T* __restrict__ out, int64_t count, FloatParams p,
                                int mode, int ovf, Rand rand) {
  const bool sr = is_stochastic(mode);
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride) {
    const uint64_t r = sr ? rand(i) : 0;
    out[i] = quantize_value(x[i], p, mode, ovf, r, sr ? rand.n : 0);
  }
}

//: quantize_kernel for float32 arrays that are both 16-byte aligned: four consecutive elements per
//: step, one float4 load and one float4 store (wider memory transactions for a memory-bound pass);
//: thread 0 of block 0 also takes the count % 4 elements of the tail. Element i keeps rand(i).
__global__ void quantize4_kernel(const float* __restrict__ x, float* __restrict__ out, int64_t count, FloatParams p,
                                 int mode, int ovf, Rand rand) {
  const bool sr = is_stochastic(mode);
  const int nb = sr ? rand.n : 0;
  const int64_t n4 = count / 4;
  const auto* x4 = reinterpret_cast<const float4*>(x);
  auto* o4 = reinterpret_cast<float4*>(out);
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n4; i += stride) {
    const float4 v = x4[i];
    const int64_t e = 4 * i;
    float4 r;
    r.x = quantize_f32(v.x, p, mode, ovf, sr ? rand(e) : 0, nb);
    r.y = quantize_f32(v.y, p, mode, ovf, sr ? rand(e + 1) : 0, nb);
    r.z = quantize_f32(v.z, p, mode, ovf, sr ? rand(e + 2) : 0, nb);
    r.w = quantize_f32(v.w, p, mode, ovf, sr ? rand(e + 3) : 0, nb);
    o4[i] = r;
  }
  if (blockIdx.x == 0 && threadIdx.x == 0) {
    for (int64_t e = 4 * n4; e < count; ++e) out[e] = quantize_f32(x[e], p, mode, ovf, sr ? rand(e) : 0, nb);
  }
}

template <class Code, class T>
__global__ void decode_kernel(const Code* __restrict__ codes, T* __restrict__ out, int64_t count, FloatParams p) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride) {
    out[i] = static_cast<T>(decode_to_f64(static_cast<uint64_t>(codes[i]), p));
  }
}

__global__ void random_bits_kernel(uint64_t key, uint64_t start, int64_t count, int n, uint64_t* out) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride) {
    out[i] = random_bits_keyed(key, start + static_cast<uint64_t>(i), n);
  }
}

Rand make_rand(uint64_t seed, uint64_t start, const void* rbits, int rbits_bytes, int n) {
  return Rand{splitmix64(seed), start, rbits, rbits_bytes, n};
}

template <class In>
void encode_in(const In* x, void* out, int out_bytes, int64_t count, const FloatParams& p, int mode, int ovf,
               const Rand& rand, uint32_t* error_flag, cudaStream_t s) {
  const int blocks = blocks_for(count);
  switch (out_bytes) {
    case 1:
      encode_kernel<<<blocks, kThreads, 0, s>>>(x, static_cast<uint8_t*>(out), count, p, mode, ovf, rand,
                                                error_flag);
      break;
    case 2:
      encode_kernel<<<blocks, kThreads, 0, s>>>(x, static_cast<uint16_t*>(out), count, p, mode, ovf, rand,
                                                error_flag);
      break;
    case 4:
      encode_kernel<<<blocks, kThreads, 0, s>>>(x, static_cast<uint32_t*>(out), count, p, mode, ovf, rand,
                                                error_flag);
      break;
    default:
      encode_kernel<<<blocks, kThreads, 0, s>>>(x, static_cast<uint64_t*>(out), count, p, mode, ovf, rand,
                                                error_flag);
      break;
  }
}

template <class T>
void decode_out(const void* codes, int code_bytes, T* out, int64_t count, const FloatParams& p, cudaStream_t s) {
  const int blocks = blocks_for(count);
  switch (code_bytes) {
    case 1: decode_kernel<<<blocks, kThreads, 0, s>>>(static_cast<const uint8_t*>(codes), out, count, p); break;
    case 2: decode_kernel<<<blocks, kThreads, 0, s>>>(static_cast<const uint16_t*>(codes), out, count, p); break;
    case 4: decode_kernel<<<blocks, kThreads, 0, s>>>(static_cast<const uint32_t*>(codes), out, count, p); break;
    default:
      decode_kernel<<<blocks, kThreads, 0, s>>>(static_cast<const uint64_t*>(codes), out, count, p);
      break;
  }
}

}  // namespace

int launch_encode(const void* x, int x_bytes, void* out, int out_bytes, int64_t count, const FloatParams& p,
                  int mode, int ovf, uint64_t seed, uint64_t start, const void* rbits, int rbits_bytes, int n,
                  uint32_t* error_flag, void* stream) {
  if (count <= 0) return cudaSuccess;
  const auto s = static_cast<cudaStream_t>(stream);
  const Rand rand = make_rand(seed, start, rbits, rbits_bytes, n);
  if (x_bytes == 4) {
    encode_in(static_cast<const float*>(x), out, out_bytes, count, p, mode, ovf, rand, error_flag, s);
  } else {
    encode_in(static_cast<const double*>(x), out, out_bytes, count, p, mode, ovf, rand, error_flag, s);
  }
  return cudaGetLastError();
}

int launch_quantize(const void* x, int x_bytes, void* out, int64_t count, const FloatParams& p, int mode,
                    int ovf, uint64_t seed, uint64_t start, const void* rbits, int rbits_bytes, int n,
                    void* stream) {
  if (count <= 0) return cudaSuccess;
  const auto s = static_cast<cudaStream_t>(stream);
  const Rand rand = make_rand(seed, start, rbits, rbits_bytes, n);
  const int blocks = blocks_for(count);
  const bool aligned16 = (reinterpret_cast<uintptr_t>(x) | reinterpret_cast<uintptr_t>(out)) % 16 == 0;
  if (x_bytes == 4 && aligned16) {
    quantize4_kernel<<<blocks_for(count / 4), kThreads, 0, s>>>(static_cast<const float*>(x), static_cast<float*>(out),
                                                               count, p, mode, ovf, rand);
  } else if (x_bytes == 4) {
    quantize_kernel<<<blocks, kThreads, 0, s>>>(static_cast<const float*>(x), static_cast<float*>(out), count, p,
                                                mode, ovf, rand);
  } else {
    quantize_kernel<<<blocks, kThreads, 0, s>>>(static_cast<const double*>(x), static_cast<double*>(out), count,
                                                p, mode, ovf, rand);
  }
  return cudaGetLastError();
}

int launch_decode(const void* codes, int code_bytes, void* out, int out_bytes, int64_t count,
                  const FloatParams& p, void* stream) {
  if (count <= 0) return cudaSuccess;
  const auto s = static_cast<cudaStream_t>(stream);
  if (out_bytes == 4) {
    decode_out(codes, code_bytes, static_cast<float*>(out), count, p, s);
  } else {
    decode_out(codes, code_bytes, static_cast<double*>(out), count, p, s);
  }
  return cudaGetLastError();
}

int launch_random_bits(uint64_t seed, uint64_t start, int64_t count, int n, uint64_t* out, void* stream) {
  if (count <= 0) return cudaSuccess;
  random_bits_kernel<<<blocks_for(count), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(splitmix64(seed), start,
                                                                                          count, n, out);
  return cudaGetLastError();
}

int device_count(int* err) {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (err != nullptr) *err = static_cast<int>(e);
  return e == cudaSuccess ? n : 0;
}

const char* error_string(int err) { return cudaGetErrorString(static_cast<cudaError_t>(err)); }

}  // namespace lowprec::cuda
