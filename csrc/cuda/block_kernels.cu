// Grid-stride CUDA kernels over the block-scaled core (csrc/include/lowprec/block.h): one thread per
// block (scale, then its elements), on the caller's stream. An element's random integer depends only
// on (seed, flat index), so results match the CPU kernels whatever the launch configuration.
#include <cuda_runtime.h>

#include <cstdint>

#include "launch.h"
#include "lowprec/block.h"

namespace lowprec::cuda {
namespace {

constexpr int kThreads = 128;
constexpr int64_t kMaxBlocks = 1 << 16;

inline int block_grid_for(int64_t count) {
  const int64_t b = (count + kThreads - 1) / kThreads;
  return static_cast<int>(b < kMaxBlocks ? (b > 0 ? b : 1) : kMaxBlocks);
}

struct BlockRand {
  uint64_t key;  // splitmix64(seed)
  const void* bits;
  int bits_bytes;
  int n;
  __device__ __forceinline__ uint64_t operator()(int64_t i) const {
    if (bits != nullptr) {
      return bits_bytes == 4 ? static_cast<const uint32_t*>(bits)[i] : static_cast<const uint64_t*>(bits)[i];
    }
    return random_bits_keyed(key, static_cast<uint64_t>(i), n);
  }
};

template <class In, class Out>
struct StoreValue {
  Out* vals;
  __device__ __forceinline__ void operator()(int64_t idx, uint64_t, double v) const {
    vals[idx] = static_cast<Out>(v);
  }
};

template <class Code>
struct StoreCode {
  Code* codes;
  __device__ __forceinline__ void operator()(int64_t idx, uint64_t c, double) const {
    codes[idx] = static_cast<Code>(c);
  }
};

template <class In, class Emit>
__global__ void block_kernel(const In* __restrict__ x, BlockGeometry gm, BlockParams bp, int mode, BlockRand rand,
                             bool want_values, Emit emit, uint8_t* __restrict__ scales) {
  const int64_t nblocks = gm.blocks();
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t blk = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; blk < nblocks; blk += stride) {
    const uint64_t sc = block_run(x, gm, blk, bp, mode, rand, rand.n, want_values, emit);
    if (scales != nullptr) scales[blk] = static_cast<uint8_t>(sc);
  }
}

template <class In>
void launch_in(const In* x, const BlockGeometry& gm, const BlockParams& bp, int mode, const BlockRand& rand,
               void* vals, int vals_bytes, void* codes, int code_bytes, uint8_t* scales, cudaStream_t s) {
  const int grid = block_grid_for(gm.blocks());
  if (vals != nullptr) {
    if (vals_bytes == 4) {
      block_kernel<<<grid, kThreads, 0, s>>>(x, gm, bp, mode, rand, true,
                                             StoreValue<In, float>{static_cast<float*>(vals)}, scales);
    } else {
      block_kernel<<<grid, kThreads, 0, s>>>(x, gm, bp, mode, rand, true,
                                             StoreValue<In, double>{static_cast<double*>(vals)}, scales);
    }
  } else if (code_bytes == 1) {
    block_kernel<<<grid, kThreads, 0, s>>>(x, gm, bp, mode, rand, false,
                                           StoreCode<uint8_t>{static_cast<uint8_t*>(codes)}, scales);
  } else {
    block_kernel<<<grid, kThreads, 0, s>>>(x, gm, bp, mode, rand, false,
                                           StoreCode<uint16_t>{static_cast<uint16_t*>(codes)}, scales);
  }
}

}  // namespace

int launch_block(const void* x, int x_bytes, const BlockGeometry& gm, const BlockParams& bp, int mode,
                 uint64_t seed, const void* rbits, int rbits_bytes, int n, void* vals, int vals_bytes, void* codes,
                 int code_bytes, uint8_t* scales, void* stream) {
  if (gm.blocks() <= 0) return cudaSuccess;
  const auto s = static_cast<cudaStream_t>(stream);
  const BlockRand rand{splitmix64(seed), rbits, rbits_bytes, n};
  if (x_bytes == 4) {
    launch_in(static_cast<const float*>(x), gm, bp, mode, rand, vals, vals_bytes, codes, code_bytes, scales, s);
  } else {
    launch_in(static_cast<const double*>(x), gm, bp, mode, rand, vals, vals_bytes, codes, code_bytes, scales, s);
  }
  return cudaGetLastError();
}

}  // namespace lowprec::cuda
