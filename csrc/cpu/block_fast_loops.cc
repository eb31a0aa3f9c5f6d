// Driver of the fast block rules (lowprec/block_fast.h): blocks that tile their rows take one fused
// vectorised pass per 128 blocks (amax, scale, elements); other layouts go block by block (the amax
// of its rows, then the rows). NaN/Inf blocks and the rare blocks whose grid is not exact in float32
// (amax below about 2**-100, or beyond float32 after scaling) go through block.h's exact per-block
// rule. OpenMP across blocks.
#include "block_fast_loops.h"

#include <cstring>
#include <limits>

#include "fast_common.h"
#if LOWPREC_FAST_HAVE_AVX2
#include <immintrin.h>
#endif
#include "lowprec/block_fast.h"

namespace lowprec::cpu {

#define LOWPREC_FAST_CHUNKS "block_fast_chunks.inc"
#include "fast_copies.inc"

namespace {

using namespace fastloops;

struct NoBlockRand {
  inline uint64_t operator()(int64_t) const { return 0; }
};

//: w[j] = the n <= 32 random bits of element first + j of `rand` at the top of a 32-bit word: the
//: vectorised counter-hash loop (random_words), or explicit integers shifted.
void block_random_words(const BlockRand& rand, int isa, int64_t first, int64_t count, uint32_t* w) {
  if (rand.bits == nullptr) {
    random_words(isa, rand.key, static_cast<uint64_t>(first), count, rand.n, w);
    return;
  }
  if (rand.bits_bytes == 4) {
    explicit_words(static_cast<const uint32_t*>(rand.bits) + first, count, rand.n, w);
  } else {
    explicit_words(static_cast<const uint64_t*>(rand.bits) + first, count, rand.n, w);
  }
}

constexpr int64_t kFlatBlocks = 128;  // blocks per pass of the flat loop (a flag each)

// How each rule family runs its blocks: `flat` runs a pass of whole consecutive blocks (returning
// how many it flagged), `prepare` decides a block of the other layouts from its amax (false: the
// exact rule) and `row` rounds one of its rows.
struct Pow2Rule {
  BlockFast32 f;
  using Grid = BlockGrid32;
  template <int Mode>
  int64_t flat(int isa, const float* x, float* out, int64_t k0, int64_t k1, int64_t b, uint8_t* scales,
               uint8_t* flags, const uint32_t* w) const {
    if (b == 32) return LOWPREC_FAST_CALL(isa, quantize_flat<Mode, 32>(x, out, k0, k1, b, f, scales, flags, w));
    if (b == 16) return LOWPREC_FAST_CALL(isa, quantize_flat<Mode, 16>(x, out, k0, k1, b, f, scales, flags, w));
    return LOWPREC_FAST_CALL(isa, quantize_flat<Mode, 0>(x, out, k0, k1, b, f, scales, flags, w));
  }
  bool prepare(int32_t am, Grid* g, uint8_t* scode) const {
    if (am < 0x800000 || am >= 0x7F800000) return false;
    const int32_t e = block_exp32(am, f);
    if (!block_grid32(f, e, g)) return false;
    *scode = static_cast<uint8_t>(e - f.s_emin + f.min_code);
    return true;
  }
  template <int Mode>
  void row(int isa, const float* x, float* out, int64_t cnt, const Grid& g) const {
    LOWPREC_FAST_CALL(isa, quantize_row<Mode>(x, out, cnt, g));
  }
};

struct DivGrid {  // a block's scale as sig * 2**ex
  int32_t sig, ex;
};

struct DivRule {  // the amax rule (scale codes are not formed: quantize without scales only)
  const BlockDiv& d;
  const BlockSteps& s;  // used when `steps` (block_steps_fit)
  bool steps;
  using Grid = DivGrid;
  template <int Mode>
  int64_t flat(int isa, const float* x, float* out, int64_t k0, int64_t k1, int64_t b, uint8_t*,
               uint8_t* flags, const uint32_t* w) const {
    if (steps && b == 16) return LOWPREC_FAST_CALL(isa, quantize_flat_div<Mode, 16, true>(x, out, k0, k1, b, d, s, flags, w));
    if (steps) return LOWPREC_FAST_CALL(isa, quantize_flat_div<Mode, 0, true>(x, out, k0, k1, b, d, s, flags, w));
    if (b == 16) return LOWPREC_FAST_CALL(isa, quantize_flat_div<Mode, 16, false>(x, out, k0, k1, b, d, s, flags, w));
    return LOWPREC_FAST_CALL(isa, quantize_flat_div<Mode, 0, false>(x, out, k0, k1, b, d, s, flags, w));
  }
  bool prepare(int32_t am, Grid* g, uint8_t*) const {
    if (am >= 0x7F800000) return false;
    block_amax_scale_parts(am, d, &g->sig, &g->ex);
    return true;
  }
  template <int Mode>
  void row(int isa, const float* x, float* out, int64_t cnt, const Grid& g) const {
    if (steps) {
      LOWPREC_FAST_CALL(isa, quantize_row_div<Mode, true>(x, out, cnt, g.sig, g.ex, d, s));
    } else {
      LOWPREC_FAST_CALL(isa, quantize_row_div<Mode, false>(x, out, cnt, g.sig, g.ex, d, s));
    }
  }
};

//: Block `blk` by block.h's exact rule (gm.r == 1: the block numbers agree); its scale code into scales.
template <int Mode, class Rand = NoBlockRand>
void exact_block(const float* x, float* out, const BlockGeometry& gm, const BlockParams& bp, int64_t blk,
                 uint8_t* scales, const Rand& rand = Rand{}, int n = 0) {
  const uint64_t sc = block_run(x, gm, blk, bp, Mode, rand, n, true,
                                [&](int64_t idx, uint64_t, double v) { out[idx] = static_cast<float>(v); });
  if (scales != nullptr) scales[blk] = static_cast<uint8_t>(sc);
}

//: Blocks that tile rows (gm.b1 == 1, gm.l2 % gm.b2 == 0): one fused pass per kFlatBlocks blocks
//: (stochastic modes: per at most kChunk elements, their random words made first).
template <int Mode, class Rule>
void run_flat(const float* x, float* out, const BlockGeometry& gm, const BlockParams& bp, const Rule& rule,
              uint8_t* scales, const RandomSource& rs) {
  constexpr bool kSr = Mode == kStochastic || Mode == kStochasticEqual;
  const int isa = isa_level();
  const int64_t b = gm.b2;
  const int64_t nblocks = gm.p * gm.l1 * gm.q * gm.nb2();
  const int64_t per = kSr && kChunk / b < kFlatBlocks ? kChunk / b : kFlatBlocks;  // b <= kChunk
  const int64_t passes = (nblocks + per - 1) / per;
  const BlockRand rand(rs);
#pragma omp parallel for schedule(static) if (nblocks * b >= kParallelMin)
  for (int64_t t = 0; t < passes; ++t) {
    const int64_t k0 = t * per;
    const int64_t k1 = k0 + per < nblocks ? k0 + per : nblocks;
    uint8_t flags[kFlatBlocks];
    alignas(64) uint32_t w[kSr ? kChunk : 1];
    if constexpr (kSr) block_random_words(rand, isa, k0 * b, (k1 - k0) * b, w);
    int64_t flagged = rule.template flat<Mode>(isa, x, out, k0, k1, b, scales, flags, w);
    for (int64_t k = k0; flagged > 0 && k < k1; ++k) {
      if (!flags[k - k0]) continue;
      --flagged;
      exact_block<Mode>(x, out, gm, bp, k, scales, rand, rs.n);
    }
  }
}

//: Any other layout with contiguous block rows (gm.r == 1): per block, the amax of its rows, then its
//: rows through the vectorised rule, or the exact rule.
template <int Mode, class Rule>
void run_rows(const float* x, float* out, const BlockGeometry& gm, const BlockParams& bp, const Rule& rule,
              uint8_t* scales) {
  const int isa = isa_level();
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
      const int32_t a = LOWPREC_FAST_CALL(isa, amax_row(x + base, cnt));
      am = a > am ? a : am;
    }
    typename Rule::Grid g;
    uint8_t scode = 0;
    if (!rule.prepare(am, &g, &scode)) {  // zeros (pow2), NaN/Inf, subnormal amax, a grid beyond float32
      exact_block<Mode>(x, out, gm, bp, blk, scales);
      continue;
    }
    if (scales != nullptr) scales[blk] = scode;
    for (int64_t i1 = i1_0; i1 < i1_1; ++i1) {
      const int64_t base = ((pp * gm.l1 + i1) * gm.q + qq) * gm.l2 + i2_0;
      rule.template row<Mode>(isa, x + base, out + base, cnt, g);
    }
  }
}

//: Whether a call's layout takes run_flat (blocks that tile their rows).
inline bool tiles_rows(const BlockGeometry& gm) { return gm.b1 == 1 && gm.l2 % gm.b2 == 0; }

template <int Mode, class Rule>
void run(const float* x, float* out, const BlockGeometry& gm, const BlockParams& bp, const Rule& rule,
         uint8_t* scales) {
  if (tiles_rows(gm)) {
    run_flat<Mode>(x, out, gm, bp, rule, scales, RandomSource{});
  } else {
    run_rows<Mode>(x, out, gm, bp, rule, scales);
  }
}

template <class Rule>
bool run_mode(const float* x, float* out, const BlockGeometry& gm, const BlockParams& bp, const Rule& rule,
              int mode, uint8_t* scales) {
  switch (mode) {
    case kNearestEven: run<kNearestEven>(x, out, gm, bp, rule, scales); return true;
    case kNearestAway: run<kNearestAway>(x, out, gm, bp, rule, scales); return true;
    case kNearestZero: run<kNearestZero>(x, out, gm, bp, rule, scales); return true;
    case kTowardZero: run<kTowardZero>(x, out, gm, bp, rule, scales); return true;
    case kTowardPositive: run<kTowardPositive>(x, out, gm, bp, rule, scales); return true;
    case kTowardNegative: run<kTowardNegative>(x, out, gm, bp, rule, scales); return true;
    case kToOdd: run<kToOdd>(x, out, gm, bp, rule, scales); return true;
    default: return false;
  }
}

}  // namespace

int block_fast_kind(int x_bytes, const BlockGeometry& gm, const BlockParams& bp, int mode) {
  if (x_bytes != 4 || gm.r != 1) return kBlockFastNone;
  if (is_stochastic(mode)) {  // blocks that tile their rows; the amax rule's bound with 32 random bits
    if (!tiles_rows(gm) || gm.b2 > kChunk) return kBlockFastNone;
    if (block_fast32_fits(bp)) return kBlockFastPow2;
    return block_div_word_fits(bp) ? kBlockFastDiv : kBlockFastNone;
  }
  if (mode > kToOdd) return kBlockFastNone;
  if (block_fast32_fits(bp)) return kBlockFastPow2;
  if (block_div_fits(bp)) return block_steps_fit(bp, mode) ? kBlockFastSteps : kBlockFastDiv;
  return kBlockFastNone;
}

bool block_fast_quantize(const void* x, int x_bytes, const BlockGeometry& gm, const BlockParams& bp, int mode,
                         const RandomSource& rs, void* vals, int vals_bytes, uint8_t* scales) {
  if (vals == nullptr || vals_bytes != 4) return false;
  const int kind = block_fast_kind(x_bytes, gm, bp, mode);
  const auto* xf = static_cast<const float*>(x);
  auto* of = static_cast<float*>(vals);
  if (is_stochastic(mode)) {
    if (kind == kBlockFastNone || rs.n > 32 || (rs.bits != nullptr && rs.bits_bytes != 4 && rs.bits_bytes != 8)) {
      return false;
    }
    if (kind == kBlockFastPow2) {
      const Pow2Rule rule{make_block_fast32(bp)};
      if (mode == kStochastic) {
        run_flat<kStochastic>(xf, of, gm, bp, rule, scales, rs);
      } else {
        run_flat<kStochasticEqual>(xf, of, gm, bp, rule, scales, rs);
      }
      return true;
    }
    if (scales != nullptr || !block_div_word_fits(bp)) return false;  // the amax rule: values only
    const BlockDiv d = make_block_div(bp);
    const BlockSteps none{};  // no step rule for stochastic modes
    const DivRule rule{d, none, false};
    if (mode == kStochastic) {
      run_flat<kStochastic>(xf, of, gm, bp, rule, scales, rs);
    } else {
      run_flat<kStochasticEqual>(xf, of, gm, bp, rule, scales, rs);
    }
    return true;
  }
  if (kind == kBlockFastPow2) return run_mode(xf, of, gm, bp, Pow2Rule{make_block_fast32(bp)}, mode, scales);
  if (kind == kBlockFastNone || scales != nullptr) return false;
  const bool steps = kind == kBlockFastSteps;
  const BlockDiv d = make_block_div(bp);
  const BlockSteps s = steps ? make_block_steps(bp, mode) : BlockSteps{};
  return run_mode(xf, of, gm, bp, DivRule{d, s, steps}, mode, scales);
}

}  // namespace lowprec::cpu
