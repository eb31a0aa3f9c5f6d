// nanobind module lowprec._C: the CPU kernels on contiguous NumPy arrays (the caller allocates out).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include <optional>
#include <stdexcept>
#include <string>

#include "../cpu/block_fast_loops.h"
#include "../cpu/block_kernels.h"
#include "../cpu/fast_loops.h"
#include "../cpu/fixed_kernels.h"
#include "../cpu/gemm_kernels.h"
#include "../cpu/kernels.h"
#include "gemm_params.h"
#include "params.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace {

using lowprec::FloatParams;
using lowprec::bindings::check_mode;
using lowprec::bindings::params_from_tuple;
using InArray = nb::ndarray<nb::ro, nb::c_contig, nb::device::cpu>;
using OutArray = nb::ndarray<nb::c_contig, nb::device::cpu>;

bool is_float(const nb::dlpack::dtype& dt, int bits) {
  return dt.code == static_cast<uint8_t>(nb::dlpack::dtype_code::Float) && dt.bits == bits && dt.lanes == 1;
}

bool is_uint(const nb::dlpack::dtype& dt) {
  return dt.code == static_cast<uint8_t>(nb::dlpack::dtype_code::UInt) && dt.lanes == 1 &&
         (dt.bits == 8 || dt.bits == 16 || dt.bits == 32 || dt.bits == 64);
}

int float_bytes(const nb::dlpack::dtype& dt, const char* what) {
  if (is_float(dt, 32)) return 4;
  if (is_float(dt, 64)) return 8;
  throw std::invalid_argument(std::string(what) + " must be a float32 or float64 array");
}

lowprec::cpu::RandomSource random_source(int mode, uint64_t seed, uint64_t start,
                                         const std::optional<InArray>& rbits, int n, size_t count) {
  lowprec::cpu::RandomSource rs;
  rs.seed = seed;
  rs.start = start;
  rs.n = n;
  if (lowprec::is_stochastic(mode) && rbits.has_value()) {
    const auto dt = rbits->dtype();
    if (!(is_uint(dt) && (dt.bits == 32 || dt.bits == 64))) {
      throw std::invalid_argument("random_bits must be a uint32 or uint64 array");
    }
    if (rbits->size() != count) throw std::invalid_argument("random_bits must have one entry per element");
    rs.bits = rbits->data();
    rs.bits_bytes = dt.bits / 8;
  }
  return rs;
}

void encode(const InArray& x, OutArray& out, const nb::tuple& params, int mode, int overflow, uint64_t seed,
            uint64_t start, const std::optional<InArray>& random_bits, int n) {
  const FloatParams p = params_from_tuple(params);
  check_mode(mode, overflow, n);
  const int xb = float_bytes(x.dtype(), "x");
  if (!is_uint(out.dtype())) throw std::invalid_argument("out must be a uint8/16/32/64 array");
  if (out.size() != x.size()) throw std::invalid_argument("out must have as many elements as x");
  const auto rs = random_source(mode, seed, start, random_bits, n, x.size());
  int64_t errors;
  {
    nb::gil_scoped_release release;
    errors = lowprec::cpu::encode(x.data(), xb, out.data(), out.dtype().bits / 8, static_cast<int64_t>(x.size()),
                                  p, mode, overflow, rs);
  }
  if (errors) throw nb::value_error("the format has no NaN encoding, so NaN cannot be encoded");
}

void quantize(const InArray& x, OutArray& out, const nb::tuple& params, int mode, int overflow, uint64_t seed,
              uint64_t start, const std::optional<InArray>& random_bits, int n) {
  const FloatParams p = params_from_tuple(params);
  check_mode(mode, overflow, n);
  const int xb = float_bytes(x.dtype(), "x");
  if (out.dtype() != x.dtype()) throw std::invalid_argument("out must have the dtype of x");
  if (out.size() != x.size()) throw std::invalid_argument("out must have as many elements as x");
  const auto rs = random_source(mode, seed, start, random_bits, n, x.size());
  nb::gil_scoped_release release;
  lowprec::cpu::quantize(x.data(), xb, out.data(), static_cast<int64_t>(x.size()), p, mode, overflow, rs);
}

void decode(const InArray& codes, OutArray& out, const nb::tuple& params) {
  const FloatParams p = params_from_tuple(params);
  if (!is_uint(codes.dtype())) throw std::invalid_argument("codes must be a uint8/16/32/64 array");
  const int ob = float_bytes(out.dtype(), "out");
  if (out.size() != codes.size()) throw std::invalid_argument("out must have as many elements as codes");
  nb::gil_scoped_release release;
  lowprec::cpu::decode(codes.data(), codes.dtype().bits / 8, out.data(), ob, static_cast<int64_t>(codes.size()),
                       p);
}

nb::ndarray<nb::numpy, uint64_t, nb::ndim<1>> random_bits(uint64_t seed, uint64_t start, int64_t count, int n) {
  if (count < 0) throw std::invalid_argument("count must be >= 0");
  if (n < 1 || n > 64) throw std::invalid_argument("n must be in 1..64");
  auto* data = new uint64_t[count > 0 ? count : 1];
  nb::capsule owner(data, [](void* ptr) noexcept { delete[] static_cast<uint64_t*>(ptr); });
  {
    nb::gil_scoped_release release;
    lowprec::cpu::random_bits(seed, start, count, n, data);
  }
  return nb::ndarray<nb::numpy, uint64_t, nb::ndim<1>>(data, {static_cast<size_t>(count)}, owner);
}

// ---- fixed point (csrc/include/lowprec/fixed.h) ---------------------------------------------------
using lowprec::bindings::check_fixed;
using lowprec::bindings::fixed_from_tuple;

lowprec::cpu::RandomSource fixed_random_source(int q, uint64_t seed, uint64_t start,
                                               const std::optional<InArray>& rbits, int n, size_t count) {
  lowprec::cpu::RandomSource rs;
  if (!lowprec::fixed_is_stochastic(q)) return rs;
  rs.seed = seed;
  rs.start = start;
  rs.n = n;
  if (rbits.has_value()) {
    const auto dt = rbits->dtype();
    if (!(is_uint(dt) && (dt.bits == 32 || dt.bits == 64))) {
      throw std::invalid_argument("random_bits must be a uint32 or uint64 array");
    }
    if (rbits->size() != count) throw std::invalid_argument("random_bits must have one entry per element");
    rs.bits = rbits->data();
    rs.bits_bytes = dt.bits / 8;
  }
  return rs;
}

bool is_u64_or_i64(const nb::dlpack::dtype& dt) {
  return (dt.code == static_cast<uint8_t>(nb::dlpack::dtype_code::UInt) ||
          dt.code == static_cast<uint8_t>(nb::dlpack::dtype_code::Int)) &&
         dt.bits == 64 && dt.lanes == 1;
}

void fixed_encode(const InArray& x, OutArray& out, const nb::tuple& fixed, int q, int o, uint64_t seed,
                  uint64_t start, const std::optional<InArray>& random_bits, int n) {
  const lowprec::FixedParams fp = fixed_from_tuple(fixed);
  check_fixed(fp, q, o, n);
  const int xb = float_bytes(x.dtype(), "x");
  if (!is_u64_or_i64(out.dtype())) throw std::invalid_argument("out must be an int64 or uint64 array");
  if (out.size() != x.size()) throw std::invalid_argument("out must have as many elements as x");
  const auto rs = fixed_random_source(q, seed, start, random_bits, n, x.size());
  int64_t errors;
  {
    nb::gil_scoped_release release;
    errors = lowprec::cpu::fixed_encode(x.data(), xb, static_cast<uint64_t*>(out.data()),
                                        static_cast<int64_t>(x.size()), fp, q, o, rs);
  }
  if (errors) {
    throw nb::value_error("NaN cannot be converted to fixed point, nor an infinity wrapped (WRAP / WRAP_SM)");
  }
}

void fixed_quantize(const InArray& x, OutArray& out, const nb::tuple& fixed, int q, int o, uint64_t seed,
                    uint64_t start, const std::optional<InArray>& random_bits, int n) {
  const lowprec::FixedParams fp = fixed_from_tuple(fixed);
  check_fixed(fp, q, o, n);
  const int xb = float_bytes(x.dtype(), "x");
  const int ob = float_bytes(out.dtype(), "out");
  if (out.size() != x.size()) throw std::invalid_argument("out must have as many elements as x");
  const auto rs = fixed_random_source(q, seed, start, random_bits, n, x.size());
  nb::gil_scoped_release release;
  lowprec::cpu::fixed_quantize(x.data(), xb, out.data(), ob, static_cast<int64_t>(x.size()), fp, q, o, rs);
}

void fixed_decode(const InArray& codes, OutArray& out, const nb::tuple& fixed) {
  const lowprec::FixedParams fp = fixed_from_tuple(fixed);
  check_fixed(fp, lowprec::kTrn, lowprec::kSat, 0);
  if (!is_u64_or_i64(codes.dtype())) throw std::invalid_argument("codes must be an int64 or uint64 array");
  const int ob = float_bytes(out.dtype(), "out");
  if (out.size() != codes.size()) throw std::invalid_argument("out must have as many elements as codes");
  nb::gil_scoped_release release;
  lowprec::cpu::fixed_decode(static_cast<const uint64_t*>(codes.data()), out.data(), ob,
                             static_cast<int64_t>(codes.size()), fp);
}

// ---- block-scaled formats (csrc/include/lowprec/block.h) -------------------------------------------
//: geometry: (P, L1, Q, L2, R, b1, b2); block: (rule, elem_int, elem_bits, elem_mag_bits, g, div).
void block_call(const InArray& x, std::optional<OutArray>& vals, std::optional<OutArray>& codes,
                std::optional<OutArray>& scales, const nb::tuple& geometry, const nb::tuple& elem,
                const nb::tuple& scale, const nb::tuple& block, int mode, uint64_t seed,
                const std::optional<InArray>& random_bits, int n) {
  const lowprec::BlockGeometry gm = lowprec::bindings::geometry_from_tuple(geometry);
  const size_t count = static_cast<size_t>(gm.p * gm.l1 * gm.q * gm.l2 * gm.r);
  if (x.size() != count) throw std::invalid_argument("x does not match the block geometry");
  const lowprec::BlockParams bp = lowprec::bindings::block_from_tuples(elem, scale, block);
  check_mode(mode, lowprec::kSaturate, n);
  const int xb = float_bytes(x.dtype(), "x");
  int vb = 0, cb = 0;
  void* vptr = nullptr;
  void* cptr = nullptr;
  uint8_t* sptr = nullptr;
  if (vals.has_value()) {
    vb = float_bytes(vals->dtype(), "vals");
    if (vals->size() != count) throw std::invalid_argument("vals must have as many elements as x");
    vptr = vals->data();
  } else {
    if (!codes.has_value()) throw std::invalid_argument("give vals or codes");
    if (!is_uint(codes->dtype()) || codes->dtype().bits > 16) throw std::invalid_argument("codes must be uint8/16");
    if (codes->size() != count) throw std::invalid_argument("codes must have as many elements as x");
    cb = codes->dtype().bits / 8;
    cptr = codes->data();
  }
  if (scales.has_value()) {
    if (!is_uint(scales->dtype()) || scales->dtype().bits != 8) throw std::invalid_argument("scales must be uint8");
    if (scales->size() != static_cast<size_t>(gm.blocks())) throw std::invalid_argument("one scale per block");
    sptr = static_cast<uint8_t*>(scales->data());
  }
  lowprec::cpu::RandomSource rs;
  if (lowprec::is_stochastic(mode)) {
    rs.seed = seed;
    rs.n = n;
    if (random_bits.has_value()) {
      const auto dt = random_bits->dtype();
      if (!(is_uint(dt) && (dt.bits == 32 || dt.bits == 64))) {
        throw std::invalid_argument("random_bits must be a uint32 or uint64 array");
      }
      if (random_bits->size() != count) throw std::invalid_argument("random_bits must have one entry per element");
      rs.bits = random_bits->data();
      rs.bits_bytes = dt.bits / 8;
    }
  }
  nb::gil_scoped_release release;
  lowprec::cpu::block_run_all(x.data(), xb, gm, bp, mode, rs, vptr, vb, cptr, cb, sptr);
}

//: Which fast rule a float32 quantize pass of block_call takes (lowprec::cpu::block_fast_kind).
int block_fast_kind_call(int x_bytes, const nb::tuple& geometry, const nb::tuple& elem, const nb::tuple& scale,
                         const nb::tuple& block, int mode) {
  const lowprec::BlockGeometry gm = lowprec::bindings::geometry_from_tuple(geometry);
  const lowprec::BlockParams bp = lowprec::bindings::block_from_tuples(elem, scale, block);
  return lowprec::cpu::block_fast_kind(x_bytes, gm, bp, mode);
}

// ---- emulated GEMM (csrc/include/lowprec/gemm.h) ---------------------------------------------------
//: formats: FloatParams of (acc, promote, partial, out); ints: (amode, aovf, povf, wovf, omode, oovf, block,
//: keep, fused, promote, exact, tree, f32, sh); hi: the largest finite acc value (used when sh >= 0).
void gemm_call(const InArray& a, const InArray& bt, const InArray& c0, OutArray& out, const InArray& bounds,
               const InArray& order, const nb::tuple& formats, const nb::tuple& ints, double hi) {
  if (a.ndim() != 2 || bt.ndim() != 2 || c0.ndim() != 2 || out.ndim() != 2) {
    throw std::invalid_argument("gemm: a, bt, c0 and out must be 2-d");
  }
  for (const auto* x : {&a, &bt, &c0}) {
    if (!is_float(x->dtype(), 64)) throw std::invalid_argument("gemm: a, bt and c0 must be float64");
  }
  if (!is_float(out.dtype(), 64)) throw std::invalid_argument("gemm: out must be float64");
  const int64_t m = static_cast<int64_t>(a.shape(0)), k = static_cast<int64_t>(a.shape(1));
  const int64_t n = static_cast<int64_t>(bt.shape(0));
  if (static_cast<int64_t>(bt.shape(1)) != k) throw std::invalid_argument("gemm: a and bt need the same K");
  if (static_cast<int64_t>(c0.shape(0)) != m || static_cast<int64_t>(c0.shape(1)) != n ||
      static_cast<int64_t>(out.shape(0)) != m || static_cast<int64_t>(out.shape(1)) != n) {
    throw std::invalid_argument("gemm: c0 and out must be (M, N)");
  }
  const auto is_i64 = [](const nb::dlpack::dtype& dt) {
    return dt.code == static_cast<uint8_t>(nb::dlpack::dtype_code::Int) && dt.bits == 64 && dt.lanes == 1;
  };
  if (!is_i64(bounds.dtype()) || !is_i64(order.dtype())) throw std::invalid_argument("gemm: int64 bounds/order");
  if (bounds.size() < 2 || order.size() != bounds.size() - 1) {
    throw std::invalid_argument("gemm: bounds has nsplit + 1 entries, order nsplit");
  }
  const lowprec::GemmParams g =
      lowprec::bindings::gemm_from_tuples(formats, ints, hi, static_cast<int>(order.size()));
  const auto* bd = static_cast<const int64_t*>(bounds.data());
  const auto* od = static_cast<const int64_t*>(order.data());
  if (bd[0] != 0 || bd[g.nsplit] != k) throw std::invalid_argument("gemm: bounds must run from 0 to K");
  for (int s = 0; s < g.nsplit; ++s) {
    if (bd[s + 1] < bd[s]) throw std::invalid_argument("gemm: bounds must not decrease");
    if (od[s] < 0 || od[s] >= g.nsplit) throw std::invalid_argument("gemm: order out of range");
  }
  nb::gil_scoped_release release;
  lowprec::cpu::gemm(static_cast<const double*>(a.data()), static_cast<const double*>(bt.data()),
                     static_cast<const double*>(c0.data()), static_cast<double*>(out.data()), m, n, k, g, bd, od);
}

}  // namespace

NB_MODULE(_C, m) {
  m.doc() = "lowprec CPU kernels (bit-exact with lowprec.reference.encode_reference)";
  m.def("encode", &encode, "x"_a, "out"_a.noconvert(), "params"_a, "mode"_a, "overflow"_a, "seed"_a = 0,
        "start"_a = 0, "random_bits"_a = nb::none(), "n"_a = 0,
        "Encode float32/float64 ``x`` into the unsigned codes ``out`` (same size, C-contiguous).\n\n"
        "Stochastic modes take ``random_bits`` (uint32/uint64, one per element) when given, else the\n"
        "counter-based stream of ``seed`` from flat index ``start``. Raises ValueError on NaN for a\n"
        "format without NaN.");
  m.def("quantize", &quantize, "x"_a, "out"_a.noconvert(), "params"_a, "mode"_a, "overflow"_a, "seed"_a = 0,
        "start"_a = 0, "random_bits"_a = nb::none(), "n"_a = 0,
        "Round ``x`` to the format; ``out`` has x's dtype. NaN passes through.");
  m.def("decode", &decode, "codes"_a, "out"_a.noconvert(), "params"_a,
        "Values (float32/float64 ``out``) of unsigned ``codes``.");
  m.def("random_bits", &random_bits, "seed"_a, "start"_a, "count"_a, "n"_a,
        "``count`` random integers in [0, 2**n) of stream ``seed`` from flat index ``start`` (uint64).");
  m.def("openmp_threads", &lowprec::cpu::openmp_threads,
        "Maximum OpenMP threads of the loops (0: built without OpenMP).");
  m.def(
      "fast_isas",
      [] {
        int count = 0;
        const char* const* names = lowprec::cpu::fast_isas(&count);
        nb::list out;
        for (int i = 0; i < count; ++i) out.append(nb::str(names[i]));
        return out;
      },
      "Instruction sets of the vectorised float loops that this CPU runs, best first.");
  m.def("fast_isa", &lowprec::cpu::fast_isa, "The instruction set the vectorised float loops use now.");
  m.def(
      "set_fast_isa",
      [](const std::string& name) {
        if (!lowprec::cpu::set_fast_isa(name.c_str())) {
          throw std::invalid_argument("unknown or unsupported instruction set '" + name + "'");
        }
      },
      "name"_a, "Make the vectorised float loops use instruction set ``name`` (one of fast_isas()).");
  m.def("fixed_encode", &fixed_encode, "x"_a, "out"_a.noconvert(), "fixed"_a, "rounding"_a, "overflow"_a,
        "seed"_a = 0, "start"_a = 0, "random_bits"_a = nb::none(), "n"_a = 0,
        "Fixed-point codes of float32/float64 ``x`` into ``out`` (int64 sign-extended / uint64).\n\n"
        "``fixed`` is (bits, frac_bits, signed, sat_bits); rounding / overflow are FixedRounding /\n"
        "FixedOverflow values. Stochastic modes take ``random_bits`` (uint32/uint64, one per element)\n"
        "or the counter-based stream of ``seed`` from flat index ``start`` (n bits, 1..62). Raises\n"
        "ValueError on NaN and on an infinity under WRAP / WRAP_SM.");
  m.def("fixed_quantize", &fixed_quantize, "x"_a, "out"_a.noconvert(), "fixed"_a, "rounding"_a, "overflow"_a,
        "seed"_a = 0, "start"_a = 0, "random_bits"_a = nb::none(), "n"_a = 0,
        "Values of float32/float64 ``x`` rounded to the fixed-point format, into float32/float64 ``out``.\n\n"
        "NaN passes through; an infinity under WRAP / WRAP_SM gives NaN.");
  m.def("fixed_decode", &fixed_decode, "codes"_a, "out"_a.noconvert(), "fixed"_a,
        "Values (float32/float64 ``out``, nearest to the exact value) of int64/uint64 fixed-point codes.");
  m.def("block_run", &block_call, "x"_a, "vals"_a.noconvert() = nb::none(), "codes"_a.noconvert() = nb::none(),
        "scales"_a.noconvert() = nb::none(), "geometry"_a, "elem"_a, "scale"_a, "block"_a, "mode"_a,
        "seed"_a = 0, "random_bits"_a = nb::none(), "n"_a = 0,
        "Block-scaled format pass over float32/float64 ``x`` (flat, C order).\n\n"
        "``geometry`` is (P, L1, Q, L2, R, b1, b2) (lowprec.formats._block.block_geometry), ``elem`` /\n"
        "``scale`` the FloatParams of the element and scale formats, ``block`` is (rule, elem_int,\n"
        "elem_bits, elem_mag_bits, tensor scale g, max_elem * g). Writes dequantized values into\n"
        "``vals`` (float32/float64) or element codes into ``codes`` (uint8/uint16), and scale codes\n"
        "into ``scales`` (uint8, one per block). Stochastic modes: ``random_bits`` or stream ``seed``.");
  m.def("block_fast_kind", &block_fast_kind_call, "x_bytes"_a, "geometry"_a, "elem"_a, "scale"_a, "block"_a,
        "mode"_a,
        "The fast rule block_run takes to quantize ``x_bytes``-byte floats into values of the same width\n"
        "without scale codes (arguments as block_run): 0 none (the exact per-block loop), 1 the\n"
        "power-of-two scale rule, 2 the amax rule with per-block step tables, 3 the amax rule with a\n"
        "division per element.");
  m.def("gemm", &gemm_call, "a"_a, "bt"_a, "c0"_a, "out"_a.noconvert(), "bounds"_a, "order"_a, "formats"_a,
        "ints"_a, "hi"_a,
        "Emulated GEMM (lowprec.ops._gemm_cpp): out = model(a @ bt.T + c0), float64, C-contiguous.");
  m.attr("ENCODE_ERROR") = lowprec::kEncodeError;
}
