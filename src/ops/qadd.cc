// SPDX-License-Identifier: Apache-2.0
// Quantized element-wise add. One loop per dtype combination, with no calls inside, so the
// compiler can vectorize it; the rounding is round_clamped() (no libm call per element).
#include "ops/qadd.h"

#include <cmath>
#include <cstdint>

#include "core/error.h"
#include "ops/layout.h"

namespace qk {
namespace {

struct AddParams {
  float a_mul, b_mul;
  int32_t a_zp, b_zp, out_zp;
  float lo, hi;  // clamp of the rounded value, relative to out_zp
};

template <typename TA, typename TB, typename TO>
void add_loop(const TA* a, const TB* b, size_t count, const AddParams& p, TO* out) {
  for (size_t i = 0; i < count; ++i) {
    // Each product is rounded, then the sum: no FMA (-ffp-contract=off), as the formula reads.
    const float va = static_cast<float>(static_cast<int32_t>(a[i]) - p.a_zp) * p.a_mul;
    const float vb = static_cast<float>(static_cast<int32_t>(b[i]) - p.b_zp) * p.b_mul;
    out[i] = static_cast<TO>(static_cast<int32_t>(round_clamped(va + vb, p.lo, p.hi)) + p.out_zp);
  }
}

template <typename TA, typename TB>
void add_to(const void* a, const void* b, size_t count, const AddParams& p, bool out_signed, void* out) {
  const TA* pa = static_cast<const TA*>(a);
  const TB* pb = static_cast<const TB*>(b);
  if (out_signed)
    add_loop(pa, pb, count, p, static_cast<int8_t*>(out));
  else
    add_loop(pa, pb, count, p, static_cast<uint8_t*>(out));
}

}  // namespace

void qadd(const QParams& a_qp, const void* a, const QParams& b_qp, const void* b, const QParams& out_qp, size_t count,
          float output_min, float output_max, void* output) {
  const ActivationQuant qa = activation_quant(a_qp, "a_qparams");
  const ActivationQuant qb = activation_quant(b_qp, "b_qparams");
  const ActivationQuant qo = activation_quant(out_qp, "output_qparams");
  int32_t lo, hi;
  output_clamp(qo, output_min, output_max, &lo, &hi);
  QK_FAIL_IF(count > (size_t(1) << 62), kInvalidArgument, "count %zu is too large", count);
  AddParams p;
  p.a_mul = qa.scale / qo.scale;
  p.b_mul = qb.scale / qo.scale;
  // Both terms stay finite (|q - zp| <= 255), so their sum can saturate to +-Inf but never be
  // Inf - Inf = NaN.
  QK_FAIL_IF(!std::isfinite(p.a_mul * 256.0f) || !std::isfinite(p.b_mul * 256.0f), kInvalidArgument,
             "input scale / output scale is too large (a %g, b %g, output %g)", (double)qa.scale, (double)qb.scale,
             (double)qo.scale);
  p.a_zp = qa.zero_point;
  p.b_zp = qb.zero_point;
  p.out_zp = qo.zero_point;
  p.lo = static_cast<float>(lo - qo.zero_point);
  p.hi = static_cast<float>(hi - qo.zero_point);
  if (count == 0) return;
  QK_FAIL_IF(a == nullptr, kInvalidArgument, "argument 'a' is NULL");
  QK_FAIL_IF(b == nullptr, kInvalidArgument, "argument 'b' is NULL");
  QK_FAIL_IF(output == nullptr, kInvalidArgument, "argument 'output' is NULL");
  // Element i is read before it is written, so exact aliasing is safe; a shifted overlap is not.
  QK_FAIL_IF(output != a && bytes_overlap(output, count, a, count), kInvalidArgument, "output partially overlaps a");
  QK_FAIL_IF(output != b && bytes_overlap(output, count, b, count), kInvalidArgument, "output partially overlaps b");
  if (qa.is_signed) {
    if (qb.is_signed)
      add_to<int8_t, int8_t>(a, b, count, p, qo.is_signed, output);
    else
      add_to<int8_t, uint8_t>(a, b, count, p, qo.is_signed, output);
  } else {
    if (qb.is_signed)
      add_to<uint8_t, int8_t>(a, b, count, p, qo.is_signed, output);
    else
      add_to<uint8_t, uint8_t>(a, b, count, p, qo.is_signed, output);
  }
}

}  // namespace qk
