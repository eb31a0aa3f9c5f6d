// CPU loop of the emulated GEMM core (csrc/include/lowprec/gemm.h).
#pragma once

#include <cstdint>

#include "lowprec/gemm.h"

namespace lowprec::cpu {

//: out[i, j] = gemm_element(a[i, :], bt[j, :], c0[i, j]) for an (m, k) A, an (n, k) B^T and (m, n)
//: C0 / out, all C-contiguous float64; bounds (nsplit + 1 entries) and order (nsplit) as in
//: GemmParams. Parallel over rows of the output with OpenMP when available.
void gemm(const double* a, const double* bt, const double* c0, double* out, int64_t m, int64_t n, int64_t k,
          const GemmParams& g, const int64_t* bounds, const int64_t* order);

}  // namespace lowprec::cpu
