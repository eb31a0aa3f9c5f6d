// CPU loops over the block-scaled core (csrc/include/lowprec/block.h), type-erased for the bindings.
#pragma once

#include <cstdint>

#include "kernels.h"
#include "lowprec/block.h"

namespace lowprec::cpu {

//: Every block of `x` (float32 x_bytes 4 / float64 8, flat C order, viewed through `gm`):
//: scale codes (uint8, one per block in C order of (P, nb1, Q, nb2, R)) into `scales` (when
//: non-null), and either the dequantized values into `vals` (float32 vals_bytes 4 / float64 8; when
//: non-null) or the stored element codes (code_bytes 1 or 2) into `codes`. Stochastic modes take
//: rs.bits or the counter-based stream (element index = flat index in x).
void block_run_all(const void* x, int x_bytes, const BlockGeometry& gm, const BlockParams& bp, int mode,
                   const RandomSource& rs, void* vals, int vals_bytes, void* codes, int code_bytes,
                   uint8_t* scales);

}  // namespace lowprec::cpu
