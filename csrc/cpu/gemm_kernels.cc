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
      for (int64_t j = 0; j < n; ++j) {
        out[i * n + j] = gemm_element(arow, bt + j * k, c0[i * n + j], g, bounds, order, part.data(), la);
      }
    }
  }
}

}  // namespace lowprec::cpu
