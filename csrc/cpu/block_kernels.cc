// CPU loops over the block-scaled core: one parallel pass over blocks (OpenMP when available).
#include "block_kernels.h"

#include <vector>

#include "block_fast_loops.h"

namespace lowprec::cpu {
namespace {

constexpr int64_t kParallelMin = 1 << 15;  // elements

template <class In, class Out, class Code>
void run_typed(const In* x, const BlockGeometry& gm, const BlockParams& bp, int mode, const RandomSource& rs,
               Out* vals, Code* codes, uint8_t* scales) {
  const BlockRand rand(rs);
  const int64_t nblocks = gm.blocks();
  const int64_t count = gm.p * gm.l1 * gm.q * gm.l2 * gm.r;
  const bool want_values = vals != nullptr;
#pragma omp parallel for schedule(static) if (count >= kParallelMin)
  for (int64_t blk = 0; blk < nblocks; ++blk) {
    uint64_t sc;
    if (want_values) {
      sc = block_run(x, gm, blk, bp, mode, rand, rs.n, true,
                     [&](int64_t idx, uint64_t, double v) { vals[idx] = static_cast<Out>(v); });
    } else {
      sc = block_run(x, gm, blk, bp, mode, rand, rs.n, false,
                     [&](int64_t idx, uint64_t c, double) { codes[idx] = static_cast<Code>(c); });
    }
    if (scales != nullptr) scales[blk] = static_cast<uint8_t>(sc);
  }
}

template <class In>
void run_in(const In* x, const BlockGeometry& gm, const BlockParams& bp, int mode, const RandomSource& rs,
            void* vals, int vals_bytes, void* codes, int code_bytes, uint8_t* scales) {
  if (vals != nullptr) {
    if (vals_bytes == 4) {
      run_typed(x, gm, bp, mode, rs, static_cast<float*>(vals), static_cast<uint8_t*>(nullptr), scales);
    } else {
      run_typed(x, gm, bp, mode, rs, static_cast<double*>(vals), static_cast<uint8_t*>(nullptr), scales);
    }
  } else if (code_bytes == 1) {
    run_typed(x, gm, bp, mode, rs, static_cast<float*>(nullptr), static_cast<uint8_t*>(codes), scales);
  } else {
    run_typed(x, gm, bp, mode, rs, static_cast<float*>(nullptr), static_cast<uint16_t*>(codes), scales);
  }
}

}  // namespace

void block_run_all(const void* x, int x_bytes, const BlockGeometry& gm, const BlockParams& bp_in, int mode,
                   const RandomSource& rs, void* vals, int vals_bytes, void* codes, int code_bytes,
                   uint8_t* scales) {
  BlockParams bp = bp_in;
  std::vector<double> lut;
  if (vals != nullptr && bp.elem_bits <= 8) {  // element values by table (as block_element_value)
    lut.resize(size_t{1} << bp.elem_bits);
    for (size_t c = 0; c < lut.size(); ++c) lut[c] = block_element_raw(c, bp);
    bp.elut = lut.data();
  }
  if (codes == nullptr && block_fast_quantize(x, x_bytes, gm, bp, mode, rs, vals, vals_bytes, scales)) return;
  if (x_bytes == 4) {
    run_in(static_cast<const float*>(x), gm, bp, mode, rs, vals, vals_bytes, codes, code_bytes, scales);
  } else {
    run_in(static_cast<const double*>(x), gm, bp, mode, rs, vals, vals_bytes, codes, code_bytes, scales);
  }
}

}  // namespace lowprec::cpu
