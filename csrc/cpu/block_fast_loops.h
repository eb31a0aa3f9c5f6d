// CPU loops of the fast block rules (lowprec/block_fast.h): block formats quantized from float32
// along a contiguous axis, vectorised per block row, with the exact rule of block.h for the
// blocks it does not cover. An AVX2 copy of the loops is chosen at run time (fast_loops.h).
#pragma once

#include <cstdint>

#include "kernels.h"
#include "lowprec/block.h"

namespace lowprec::cpu {

//: The random integer of element i (flat index in x) of a stochastic block call: rs.bits (uint32 or
//: uint64) or the counter-based stream of rs.seed. Shared by the exact loop (block_kernels.cc) and
//: the fast one, which also takes n <= 32 of them as 32-bit words (block_random_words).
struct BlockRand {
  uint64_t key;
  const void* bits;
  int bits_bytes;
  int n;
  explicit BlockRand(const RandomSource& rs)
      : key(splitmix64(rs.seed)), bits(rs.bits), bits_bytes(rs.bits_bytes), n(rs.n) {}
  inline uint64_t operator()(int64_t i) const {
    if (bits != nullptr) {
      return bits_bytes == 4 ? static_cast<const uint32_t*>(bits)[i] : static_cast<const uint64_t*>(bits)[i];
    }
    return random_bits_keyed(key, static_cast<uint64_t>(i), n);
  }
};

//: Quantize as block_run_all does (values into `vals`, scale codes into `scales` when non-null) when
//: a fast rule fits: float32 in and out, blocks along the last axis (gm.r == 1), and either a
//: deterministic mode with a power-of-two rule and an element format of block_fast32_fits or the amax
//: rule under block_div_fits without `scales`, or a stochastic mode with n <= 32 random bits (`rs`)
//: and blocks that tile their rows, with a power-of-two rule or the amax rule under
//: block_div_word_fits(bp) without `scales`. Returns false (and touches nothing) when none
//: fits. `bp` must carry the element value table (block_run_all's).
bool block_fast_quantize(const void* x, int x_bytes, const BlockGeometry& gm, const BlockParams& bp, int mode,
                         const RandomSource& rs, void* vals, int vals_bytes, uint8_t* scales);

//: The fast rule block_fast_quantize takes for float32 values without `scales` (kBlockFast*), from
//: the call's parameters alone (`bp` needs no value table here): the power-of-two rule, the amax rule
//: with its per-block step tables, the amax rule with a division per element, or none (the exact loop).
//: Stochastic modes (rows the blocks tile): the power-of-two rule, or the amax rule with a division per
//: element when its bound holds for 32 random bits (block_fast_quantize then needs n <= 32).
enum { kBlockFastNone = 0, kBlockFastPow2 = 1, kBlockFastSteps = 2, kBlockFastDiv = 3 };
int block_fast_kind(int x_bytes, const BlockGeometry& gm, const BlockParams& bp, int mode);

}  // namespace lowprec::cpu
