// CPU loop of the emulated GEMM core: one output element per gemm_element call, rows in parallel.
#include "gemm_kernels.h"

#include <vector>

namespace lowprec::cpu {

void gemm(const double* a, const double* bt, const double* c0, double* out, int64_t m, int64_t n, int64_t k,
          const GemmParams& g, const int64_t* bounds, const int64_t* order) {
  const bool parallel = m > 1 && m * n * (k + 1) >= (int64_t{1} << 14);
#pragma omp parallel if (parallel)
  {
    std::vector<double> part(static_cast<size_t>(g.nsplit > 0 ? g.nsplit : 1));
    gemm::LongAcc la;
#pragma omp for schedule(dynamic, 1)
    for (int64_t i = 0; i < m; ++i) {
      const double* arow = a + i * k;
      int64_t j = 0;
      if (g.nsplit == 1 && !g.exact) {  // four columns at a time: four overlapping dependency chains
        for (; j + 4 <= n; j += 4) {
          const double* b4[4] = {bt + j * k, bt + (j + 1) * k, bt + (j + 2) * k, bt + (j + 3) * k};
          double c4[4] = {c0[i * n + j], c0[i * n + j + 1], c0[i * n + j + 2], c0[i * n + j + 3]};
          gemm::slice4(arow, b4, 0, k, c4, g, la);
          for (int q = 0; q < 4; ++q) out[i * n + j + q] = gemm::round_value(c4[q], g.out, g.omode, g.oovf);
        }
      }
      for (; j < n; ++j) {
        out[i * n + j] = gemm_element(arow, bt + j * k, c0[i * n + j], g, bounds, order, part.data(), la);
      }
    }
  }
}

}  // namespace lowprec::cpu
