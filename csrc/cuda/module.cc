// nanobind module lowprec._C_cuda: the CUDA kernels on raw device pointers (e.g. torch's
// tensor.data_ptr()), launched on a caller-given stream passed as an integer (cudaStream_t).
// Launches are asynchronous; errors of the launch itself raise RuntimeError.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "../bindings/gemm_params.h"
#include "../bindings/params.h"
#include "launch.h"

namespace lowprec::cuda {
//: csrc/cuda/gemm_kernels.cu
int launch_gemm(const double* a, const double* bt, const double* c0, double* out, int64_t m, int64_t n, int64_t k,
                const GemmParams& g, const int64_t* bounds, const int64_t* order, void* stream);
}  // namespace lowprec::cuda

namespace nb = nanobind;
using namespace nb::literals;

namespace {

using lowprec::FloatParams;
using lowprec::bindings::check_mode;
using lowprec::bindings::params_from_tuple;

void check(int err, const char* what) {
  if (err != 0) throw std::runtime_error(std::string(what) + ": " + lowprec::cuda::error_string(err));
}

void check_bytes(int b, bool codes, const char* what) {
  if (b == 4 || b == 8 || (codes && (b == 1 || b == 2))) return;
  throw std::invalid_argument(std::string(what) + (codes ? " must be 1, 2, 4 or 8" : " must be 4 or 8"));
}

void* ptr(uintptr_t p) { return reinterpret_cast<void*>(p); }

void encode(uintptr_t x, int x_bytes, uintptr_t out, int out_bytes, int64_t count, const nb::tuple& params,
            int mode, int overflow, uint64_t seed, uint64_t start, int n, uintptr_t stream, uintptr_t random_bits,
            int random_bits_bytes, uintptr_t error_flag) {
  const FloatParams p = params_from_tuple(params);
  check_mode(mode, overflow, n);
  check_bytes(x_bytes, false, "x_bytes");
  check_bytes(out_bytes, true, "out_bytes");
  if (random_bits) check_bytes(random_bits_bytes, false, "random_bits_bytes");
  check(lowprec::cuda::launch_encode(ptr(x), x_bytes, ptr(out), out_bytes, count, p, mode, overflow, seed, start,
                                     ptr(random_bits), random_bits_bytes, n,
                                     static_cast<uint32_t*>(ptr(error_flag)), ptr(stream)),
        "lowprec encode kernel");
}

void quantize(uintptr_t x, uintptr_t out, int x_bytes, int64_t count, const nb::tuple& params, int mode,
              int overflow, uint64_t seed, uint64_t start, int n, uintptr_t stream, uintptr_t random_bits,
              int random_bits_bytes) {
  const FloatParams p = params_from_tuple(params);
  check_mode(mode, overflow, n);
  check_bytes(x_bytes, false, "x_bytes");
  if (random_bits) check_bytes(random_bits_bytes, false, "random_bits_bytes");
  check(lowprec::cuda::launch_quantize(ptr(x), x_bytes, ptr(out), count, p, mode, overflow, seed, start,
                                       ptr(random_bits), random_bits_bytes, n, ptr(stream)),
        "lowprec quantize kernel");
}

void decode(uintptr_t codes, int code_bytes, uintptr_t out, int out_bytes, int64_t count, const nb::tuple& params,
            uintptr_t stream) {
  const FloatParams p = params_from_tuple(params);
  check_bytes(code_bytes, true, "code_bytes");
  check_bytes(out_bytes, false, "out_bytes");
  check(lowprec::cuda::launch_decode(ptr(codes), code_bytes, ptr(out), out_bytes, count, p, ptr(stream)),
        "lowprec decode kernel");
}

void random_bits(uint64_t seed, uint64_t start, int64_t count, int n, uintptr_t out, uintptr_t stream) {
  if (n < 1 || n > 64) throw std::invalid_argument("n must be in 1..64");
  check(lowprec::cuda::launch_random_bits(seed, start, count, n, static_cast<uint64_t*>(ptr(out)), ptr(stream)),
        "lowprec random_bits kernel");
}

void fixed_encode(uintptr_t x, int x_bytes, uintptr_t out, int64_t count, const nb::tuple& fixed, int rounding,
                  int overflow, uint64_t seed, uint64_t start, int n, uintptr_t stream, uintptr_t random_bits,
                  int random_bits_bytes, uintptr_t error_flag) {
  const lowprec::FixedParams fp = lowprec::bindings::fixed_from_tuple(fixed);
  lowprec::bindings::check_fixed(fp, rounding, overflow, n);
  check_bytes(x_bytes, false, "x_bytes");
  if (random_bits) check_bytes(random_bits_bytes, false, "random_bits_bytes");
  check(lowprec::cuda::launch_fixed_encode(ptr(x), x_bytes, static_cast<uint64_t*>(ptr(out)), count, fp, rounding,
                                           overflow, seed, start, ptr(random_bits), random_bits_bytes, n,
                                           static_cast<uint32_t*>(ptr(error_flag)), ptr(stream)),
        "lowprec fixed_encode kernel");
}

void fixed_quantize(uintptr_t x, int x_bytes, uintptr_t out, int out_bytes, int64_t count, const nb::tuple& fixed,
                    int rounding, int overflow, uint64_t seed, uint64_t start, int n, uintptr_t stream,
                    uintptr_t random_bits, int random_bits_bytes) {
  const lowprec::FixedParams fp = lowprec::bindings::fixed_from_tuple(fixed);
  lowprec::bindings::check_fixed(fp, rounding, overflow, n);
  check_bytes(x_bytes, false, "x_bytes");
  check_bytes(out_bytes, false, "out_bytes");
  if (random_bits) check_bytes(random_bits_bytes, false, "random_bits_bytes");
  check(lowprec::cuda::launch_fixed_quantize(ptr(x), x_bytes, ptr(out), out_bytes, count, fp, rounding, overflow,
                                             seed, start, ptr(random_bits), random_bits_bytes, n, ptr(stream)),
        "lowprec fixed_quantize kernel");
}

void fixed_decode(uintptr_t codes, uintptr_t out, int out_bytes, int64_t count, const nb::tuple& fixed,
                  uintptr_t stream) {
  const lowprec::FixedParams fp = lowprec::bindings::fixed_from_tuple(fixed);
  lowprec::bindings::check_fixed(fp, lowprec::kTrn, lowprec::kSat, 0);
  check_bytes(out_bytes, false, "out_bytes");
  check(lowprec::cuda::launch_fixed_decode(static_cast<const uint64_t*>(ptr(codes)), ptr(out), out_bytes, count,
                                           fp, ptr(stream)),
        "lowprec fixed_decode kernel");
}

void block_run(uintptr_t x, int x_bytes, const nb::tuple& geometry, const nb::tuple& elem, const nb::tuple& scale,
               const nb::tuple& block, int mode, uintptr_t vals, int vals_bytes, uintptr_t codes, int code_bytes,
               uintptr_t scales, uint64_t seed, int n, uintptr_t stream, uintptr_t random_bits,
               int random_bits_bytes) {
  const lowprec::BlockGeometry gm = lowprec::bindings::geometry_from_tuple(geometry);
  const lowprec::BlockParams bp = lowprec::bindings::block_from_tuples(elem, scale, block);
  check_mode(mode, lowprec::kSaturate, n);
  check_bytes(x_bytes, false, "x_bytes");
  if (vals) {
    check_bytes(vals_bytes, false, "vals_bytes");
  } else if (!codes || (code_bytes != 1 && code_bytes != 2)) {
    throw std::invalid_argument("give vals, or codes with code_bytes 1 or 2");
  }
  if (random_bits) check_bytes(random_bits_bytes, false, "random_bits_bytes");
  check(lowprec::cuda::launch_block(ptr(x), x_bytes, gm, bp, mode, seed, ptr(random_bits), random_bits_bytes, n,
                                    ptr(vals), vals_bytes, ptr(codes), code_bytes,
                                    static_cast<uint8_t*>(ptr(scales)), ptr(stream)),
        "lowprec block kernel");
}

//: The emulated GEMM (lowprec._C.gemm) on device arrays: float64 a (m, k), bt (n, k), c0 / out (m, n),
//: int64 bounds (nsplit + 1, from 0 to k) and order (nsplit), all C-contiguous.
void gemm(uintptr_t a, uintptr_t bt, uintptr_t c0, uintptr_t out, int64_t m, int64_t n, int64_t k,
          uintptr_t bounds, uintptr_t order, int nsplit, const nb::tuple& formats, const nb::tuple& ints, double hi,
          uintptr_t stream) {
  if (m < 0 || n < 0 || k < 0) throw std::invalid_argument("gemm: negative size");
  const lowprec::GemmParams g = lowprec::bindings::gemm_from_tuples(formats, ints, hi, nsplit);
  check(lowprec::cuda::launch_gemm(static_cast<const double*>(ptr(a)), static_cast<const double*>(ptr(bt)),
                                   static_cast<const double*>(ptr(c0)), static_cast<double*>(ptr(out)), m, n, k, g,
                                   static_cast<const int64_t*>(ptr(bounds)), static_cast<const int64_t*>(ptr(order)),
                                   ptr(stream)),
        "lowprec gemm kernel (tree reductions take at most 64 slices)");
}

nb::tuple device_count() {
  int err = 0;
  const int n = lowprec::cuda::device_count(&err);
  return nb::make_tuple(n, std::string(err ? lowprec::cuda::error_string(err) : ""));
}

}  // namespace

NB_MODULE(_C_cuda, m) {
  m.doc() = "lowprec CUDA kernels on raw device pointers (asynchronous, on the given stream)";
  m.def("encode", &encode, "x"_a, "x_bytes"_a, "out"_a, "out_bytes"_a, "count"_a, "params"_a, "mode"_a,
        "overflow"_a, "seed"_a = 0, "start"_a = 0, "n"_a = 0, "stream"_a = 0, "random_bits"_a = 0,
        "random_bits_bytes"_a = 0, "error_flag"_a = 0,
        "Encode ``count`` float32/float64 values at device address ``x`` into codes at ``out``.\n\n"
        "``error_flag``: optional device address of a uint32 set to 1 when a NaN cannot be encoded.");
  m.def("quantize", &quantize, "x"_a, "out"_a, "x_bytes"_a, "count"_a, "params"_a, "mode"_a, "overflow"_a,
        "seed"_a = 0, "start"_a = 0, "n"_a = 0, "stream"_a = 0, "random_bits"_a = 0, "random_bits_bytes"_a = 0,
        "Round ``count`` values at ``x`` to the format, writing the same dtype at ``out``.");
  m.def("decode", &decode, "codes"_a, "code_bytes"_a, "out"_a, "out_bytes"_a, "count"_a, "params"_a,
        "stream"_a = 0, "Values of ``count`` codes at ``codes`` as float32/float64 at ``out``.");
  m.def("random_bits", &random_bits, "seed"_a, "start"_a, "count"_a, "n"_a, "out"_a, "stream"_a = 0,
        "``count`` uint64 random integers in [0, 2**n) of stream ``seed`` written at ``out``.");
  m.def("fixed_encode", &fixed_encode, "x"_a, "x_bytes"_a, "out"_a, "count"_a, "fixed"_a, "rounding"_a,
        "overflow"_a, "seed"_a = 0, "start"_a = 0, "n"_a = 0, "stream"_a = 0, "random_bits"_a = 0,
        "random_bits_bytes"_a = 0, "error_flag"_a = 0,
        "Fixed-point codes (int64 sign-extended / uint64 at ``out``) of ``count`` float32/float64 values.\n\n"
        "``fixed`` is (bits, frac_bits, signed, sat_bits). ``error_flag``: optional device address of a\n"
        "uint32 set to 1 on NaN or an infinity under WRAP / WRAP_SM.");
  m.def("fixed_quantize", &fixed_quantize, "x"_a, "x_bytes"_a, "out"_a, "out_bytes"_a, "count"_a, "fixed"_a,
        "rounding"_a, "overflow"_a, "seed"_a = 0, "start"_a = 0, "n"_a = 0, "stream"_a = 0, "random_bits"_a = 0,
        "random_bits_bytes"_a = 0, "Values of ``count`` floats rounded to the fixed-point format.");
  m.def("fixed_decode", &fixed_decode, "codes"_a, "out"_a, "out_bytes"_a, "count"_a, "fixed"_a, "stream"_a = 0,
        "Values of ``count`` int64/uint64 fixed-point codes as float32/float64 at ``out``.");
  m.def("block_run", &block_run, "x"_a, "x_bytes"_a, "geometry"_a, "elem"_a, "scale"_a, "block"_a, "mode"_a,
        "vals"_a = 0, "vals_bytes"_a = 0, "codes"_a = 0, "code_bytes"_a = 0, "scales"_a = 0, "seed"_a = 0,
        "n"_a = 0, "stream"_a = 0, "random_bits"_a = 0, "random_bits_bytes"_a = 0,
        "Block-scaled format pass over ``x`` (device address, flat C order); arguments as\n"
        "lowprec._C.block_run, with device addresses for vals / codes / scales (uint8, one per block).");
  m.def("gemm", &gemm, "a"_a, "bt"_a, "c0"_a, "out"_a, "m"_a, "n"_a, "k"_a, "bounds"_a, "order"_a, "nsplit"_a,
        "formats"_a, "ints"_a, "hi"_a, "stream"_a = 0,
        "lowprec._C.gemm on device addresses (one thread per output element).");
  m.def("device_count", &device_count, "(number of CUDA devices, error message or '').");
}
