// CUDA kernel of the emulated GEMM core (csrc/include/lowprec/gemm.h): one thread per output element
// (grid-stride), on the caller's stream. Each element is computed by the same gemm_element as the CPU
// loop, so the results do not depend on the launch configuration.
#include <cuda_runtime.h>

#include <cstdint>

#include "lowprec/gemm.h"

namespace lowprec::cuda {

//: Largest split_k of a tree reduction (its partial sums live in a per-thread array).
constexpr int kGemmMaxTreeSplit = 64;

namespace {

constexpr int kThreads = 128;
constexpr int64_t kMaxBlocks = 1 << 16;

__global__ void gemm_kernel(const double* __restrict__ a, const double* __restrict__ bt,
                            const double* __restrict__ c0, double* __restrict__ out, int64_t m, int64_t n,
                            int64_t k, GemmParams g, const int64_t* __restrict__ bounds,
                            const int64_t* __restrict__ order) {
  double part[kGemmMaxTreeSplit];
  gemm::LongAcc la;
  const int64_t count = m * n;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < count; idx += stride) {
    const int64_t i = idx / n;
    const int64_t j = idx - i * n;
    out[idx] = gemm_element(a + i * k, bt + j * k, c0[idx], g, bounds, order, part, la);
  }
}

}  // namespace

//: out (m, n) = the model of a (m, k) @ bt (n, k)^T + c0 (m, n), all C-contiguous float64 device
//: arrays; bounds (g.nsplit + 1) and order (g.nsplit) int64 device arrays. Returns a cudaError_t
//: (cudaErrorInvalidValue for a tree reduction over more than kGemmMaxTreeSplit slices).
int launch_gemm(const double* a, const double* bt, const double* c0, double* out, int64_t m, int64_t n, int64_t k,
                const GemmParams& g, const int64_t* bounds, const int64_t* order, void* stream) {
  if (g.tree && g.nsplit > kGemmMaxTreeSplit) return cudaErrorInvalidValue;
  const int64_t count = m * n;
  if (count <= 0) return cudaSuccess;
  const int64_t b = (count + kThreads - 1) / kThreads;
  const int grid = static_cast<int>(b < kMaxBlocks ? b : kMaxBlocks);
  gemm_kernel<<<grid, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(a, bt, c0, out, m, n, k, g, bounds, order);
  return cudaGetLastError();
}

}  // namespace lowprec::cuda
