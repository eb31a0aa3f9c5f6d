// Host-side launchers of the CUDA kernels (csrc/cuda/kernels.cu). Free of CUDA headers so the
// nanobind module can be compiled by the ordinary C++ compiler. Pointers are device pointers,
// `stream` is a cudaStream_t (0: the legacy default stream); each returns a cudaError_t value.
#pragma once

#include <cstdint>

#include "lowprec/core.h"
#include "lowprec/block.h"
#include "lowprec/fixed.h"

namespace lowprec::cuda {

//: x: float32 (x_bytes 4) or float64 (8); out: codes of out_bytes (1, 2, 4, 8). Stochastic modes
//: use rbits (uint32/uint64 by rbits_bytes, one per element) when non-null, else stream `seed` from
//: flat index `start`. If `error_flag` (a device uint32) is non-null, it is set to 1 when some NaN
//: cannot be encoded (the format has no NaN); those codes are kEncodeError truncated.
int launch_encode(const void* x, int x_bytes, void* out, int out_bytes, int64_t count, const FloatParams& p,
                  int mode, int ovf, uint64_t seed, uint64_t start, const void* rbits, int rbits_bytes, int n,
                  uint32_t* error_flag, void* stream);

//: out has the dtype of x (float32 or float64); NaN passes through.
int launch_quantize(const void* x, int x_bytes, void* out, int64_t count, const FloatParams& p, int mode,
                    int ovf, uint64_t seed, uint64_t start, const void* rbits, int rbits_bytes, int n,
                    void* stream);

//: codes of code_bytes (1, 2, 4, 8) to float32 (out_bytes 4) or float64 (8).
int launch_decode(const void* codes, int code_bytes, void* out, int out_bytes, int64_t count,
                  const FloatParams& p, void* stream);

//: count random integers in [0, 2**n) (uint64) of stream seed from flat index start.
int launch_random_bits(uint64_t seed, uint64_t start, int64_t count, int n, uint64_t* out, void* stream);

// ---- fixed point (csrc/cuda/fixed_kernels.cu, csrc/include/lowprec/fixed.h) ------------------------
//: Codes (sign-extended int64 / uint64) of float32 (x_bytes 4) / float64 (8) values. Stochastic modes
//: use rbits (uint32/uint64 by rbits_bytes) when non-null, else stream `seed` from flat index `start`
//: (n bits, 1..62). NaN, and an infinity under WRAP / WRAP_SM, set *error_flag (a device uint32,
//: when non-null) to 1 and leave code 0.
int launch_fixed_encode(const void* x, int x_bytes, uint64_t* out, int64_t count, const FixedParams& fp, int q,
                        int o, uint64_t seed, uint64_t start, const void* rbits, int rbits_bytes, int n,
                        uint32_t* error_flag, void* stream);

//: Rounded values as float32 (out_bytes 4) / float64 (8); NaN passes, a wrapped infinity gives NaN.
int launch_fixed_quantize(const void* x, int x_bytes, void* out, int out_bytes, int64_t count,
                          const FixedParams& fp, int q, int o, uint64_t seed, uint64_t start, const void* rbits,
                          int rbits_bytes, int n, void* stream);

//: Values (float32 / float64, nearest to the exact value) of sign-extended int64 / uint64 codes.
int launch_fixed_decode(const uint64_t* codes, void* out, int out_bytes, int64_t count, const FixedParams& fp,
                        void* stream);

// ---- block-scaled formats (csrc/cuda/block_kernels.cu, csrc/include/lowprec/block.h) -------------------
//: One pass over the blocks of float32 (x_bytes 4) / float64 (8) `x` viewed through `gm`: scale codes
//: (uint8, one per block) into `scales` when non-null, and either values into `vals` (float32
//: vals_bytes 4 / float64 8) when non-null or element codes (code_bytes 1 / 2) into `codes`.
//: Stochastic modes use rbits (uint32/uint64) when non-null, else stream `seed` (flat index).
int launch_block(const void* x, int x_bytes, const BlockGeometry& gm, const BlockParams& bp, int mode,
                 uint64_t seed, const void* rbits, int rbits_bytes, int n, void* vals, int vals_bytes, void* codes,
                 int code_bytes, uint8_t* scales, void* stream);

//: Number of visible CUDA devices (0 when none or no driver); *err receives the cudaError_t.
int device_count(int* err);

//: Message of a cudaError_t value.
const char* error_string(int err);

}  // namespace lowprec::cuda
