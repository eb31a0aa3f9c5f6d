// Driver of the fast block rule: per block, the amax of its rows (a vectorised integer max), the
// scale from block.h, then the rows through the vectorised element rule when the block's grid is
// exact in float32; NaN/Inf blocks and the rare blocks whose grid is not (amax below about 2**-100
// or beyond float32 after scaling) go through block.h's exact per-block rule. OpenMP across blocks.
#include "block_fast_loops.h"

#include <cstring>
#include <limits>

#include "fast_common.h"
#include "lowprec/block_fast.h"

namespace lowprec::cpu {

#define LOWPREC_FAST_CHUNKS "block_fast_chunks.inc"
#include "fast_copies.inc"

namespace {

using namespace fastloops;

struct NoBlockRand {
  inline uint64_t operator()(int64_t) const { return 0; }
};

constexpr int64_t kFlatBlocks = 128;  // blocks per pass of the flat loop (a flag each)

//: Blocks that tile rows (gm.b1 == 1, gm.l2 % gm.b2 == 0): one fused pass per kFlatBlocks blocks.
template <int Mode>
void run_flat(const float* x, float* out, const BlockGeometry& gm, const BlockParams& bp, const BlockFast32& f,
              uint8_t* scales) {
  const bool avx2 = use_avx2();
  const int64_t b = gm.b2;
  const int64_t nblocks = gm.p * gm.l1 * gm.q * gm.nb2();
  const int64_t passes = (nblocks + kFlatBlocks - 1) / kFlatBlocks;
#pragma omp parallel for schedule(static) if (nblocks * b >= kParallelMin)
  for (int64_t t = 0; t < passes; ++t) {
    const int64_t k0 = t * kFlatBlocks;
    const int64_t k1 = k0 + kFlatBlocks < nblocks ? k0 + kFlatBlocks : nblocks;
    uint8_t flags[kFlatBlocks];
    int64_t flagged;
    if (b == 32) {
      flagged = LOWPREC_FAST_CALL(avx2, quantize_flat<Mode, 32>(x, out, k0, k1, b, f, scales, flags));
    } else if (b == 16) {
      flagged = LOWPREC_FAST_CALL(avx2, quantize_flat<Mode, 16>(x, out, k0, k1, b, f, scales, flags));
    } else {
      flagged = LOWPREC_FAST_CALL(avx2, quantize_flat<Mode, 0>(x, out, k0, k1, b, f, scales, flags));
    }
    for (int64_t k = k0; flagged > 0 && k < k1; ++k) {
      if (!flags[k - k0]) continue;
      --flagged;
      const uint64_t sc = block_run(x, gm, k, bp, Mode, NoBlockRand{}, 0, true,
                                    [&](int64_t idx, uint64_t, double v) { out[idx] = static_cast<float>(v); });
      if (scales != nullptr) scales[k] = static_cast<uint8_t>(sc);
    }
  }
}

//: Any other layout with contiguous block rows (gm.r == 1): per block, the amax of its rows, the scale,
//: then its rows through the vectorised rule, or block.h's exact rule.
template <int Mode>
void run_rows(const float* x, float* out, const BlockGeometry& gm, const BlockParams& bp, const BlockFast32& f,
              uint8_t* scales) {
  const bool avx2 = use_avx2();
  const int64_t nblocks = gm.p * gm.nb1() * gm.q * gm.nb2();
  const int64_t count = gm.p * gm.l1 * gm.q * gm.l2;
#pragma omp parallel for schedule(static) if (count >= kParallelMin)
  for (int64_t blk = 0; blk < nblocks; ++blk) {
    int64_t pp, qq, i1_0, i1_1, i2_0, i2_1;
    gm.span(blk, &pp, &qq, &i1_0, &i1_1, &i2_0, &i2_1);
    const int64_t cnt = i2_1 - i2_0;
    int32_t am = 0;
    for (int64_t i1 = i1_0; i1 < i1_1; ++i1) {
      const int64_t base = ((pp * gm.l1 + i1) * gm.q + qq) * gm.l2 + i2_0;
      const int32_t a = LOWPREC_FAST_CALL(avx2, amax_row(x + base, cnt));
      am = a > am ? a : am;
    }
    BlockGrid32 g;
    if (am >= 0x800000 && am < 0x7F800000) {
      const int32_t e = block_exp32(am, f);
      if (block_grid32(f, e, &g)) {
        if (scales != nullptr) scales[blk] = static_cast<uint8_t>(e - f.s_emin + f.min_code);
        for (int64_t i1 = i1_0; i1 < i1_1; ++i1) {
          const int64_t base = ((pp * gm.l1 + i1) * gm.q + qq) * gm.l2 + i2_0;
          LOWPREC_FAST_CALL(avx2, quantize_row<Mode>(x + base, out + base, cnt, g));
        }
        continue;
      }
    }
    // zeros, NaN/Inf, subnormal amax, a grid not exact in float32: the exact rule (gm.r == 1: the
    // block numbers agree)
    const uint64_t sc = block_run(x, gm, blk, bp, Mode, NoBlockRand{}, 0, true,
                                  [&](int64_t idx, uint64_t, double v) { out[idx] = static_cast<float>(v); });
    if (scales != nullptr) scales[blk] = static_cast<uint8_t>(sc);
  }
}

template <int Mode>
void run(const float* x, float* out, const BlockGeometry& gm, const BlockParams& bp, uint8_t* scales) {
  const BlockFast32 f = make_block_fast32(bp);
  if (gm.b1 == 1 && gm.l2 % gm.b2 == 0) {
    run_flat<Mode>(x, out, gm, bp, f, scales);
  } else {
    run_rows<Mode>(x, out, gm, bp, f, scales);
  }
}

}  // namespace

bool block_fast_quantize(const void* x, int x_bytes, const BlockGeometry& gm, const BlockParams& bp, int mode,
                         void* vals, int vals_bytes, uint8_t* scales) {
  if (x_bytes != 4 || vals == nullptr || vals_bytes != 4 || gm.r != 1 || !block_fast32_fits(bp)) {
    return false;
  }
  const auto* xf = static_cast<const float*>(x);
  auto* of = static_cast<float*>(vals);
  switch (mode) {
    case kNearestEven: run<kNearestEven>(xf, of, gm, bp, scales); return true;
    case kNearestAway: run<kNearestAway>(xf, of, gm, bp, scales); return true;
    case kNearestZero: run<kNearestZero>(xf, of, gm, bp, scales); return true;
    case kTowardZero: run<kTowardZero>(xf, of, gm, bp, scales); return true;
    case kTowardPositive: run<kTowardPositive>(xf, of, gm, bp, scales); return true;
    case kTowardNegative: run<kTowardNegative>(xf, of, gm, bp, scales); return true;
    case kToOdd: run<kToOdd>(xf, of, gm, bp, scales); return true;
    default: return false;
  }
}

}  // namespace lowprec::cpu
