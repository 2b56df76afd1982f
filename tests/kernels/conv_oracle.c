/* SPDX-License-Identifier: Apache-2.0 */
/* Direct convolution oracle (see conv_oracle.h). Deliberately naive: every output element walks
 * its window, skips padded taps (which would contribute (zp - zp) * w = 0), sums exactly in
 * int64 and requantizes with the formulas of quantkit.h's integer contract. */
#include "conv_oracle.h"

#include <math.h>

int conv_oracle_output_size(const conv_oracle_geometry* g, int64_t* out_h, int64_t* out_w) {
  const int64_t eh = (g->kh - 1) * g->dh + 1, ew = (g->kw - 1) * g->dw + 1;
  const int64_t ph = g->in_h + g->pad_top + g->pad_bottom, pw = g->in_w + g->pad_left + g->pad_right;
  if (ph < eh || pw < ew) return 0;
  *out_h = (ph - eh) / g->sh + 1;
  *out_w = (pw - ew) / g->sw + 1;
  return 1;
}

static int32_t type_min(int is_signed) { return is_signed ? -128 : 0; }
static int32_t type_max(int is_signed) { return is_signed ? 127 : 255; }

static int32_t clamp_i64(int64_t v, int32_t lo, int32_t hi) { return v < lo ? lo : (v > hi ? hi : (int32_t)v); }

/* quantize(x) = round_half_even(x * (1/scale)) + zp, inside the dtype; -Inf/+Inf: no bound. */
static int32_t quantize_bound(float x, float scale, int32_t zp, int is_signed, int is_min) {
  if (isinf(x) && (x < 0) == (is_min != 0)) return is_min ? type_min(is_signed) : type_max(is_signed);
  const double r = (double)nearbyintf(x * (1.0f / scale)) + zp;
  if (r < type_min(is_signed)) return type_min(is_signed);
  if (r > type_max(is_signed)) return type_max(is_signed);
  return (int32_t)r;
}

void conv_oracle_clamp(const conv_oracle_quant* q, int32_t* lo, int32_t* hi) {
  *lo = quantize_bound(q->out_min, q->out_scale, q->out_zp, q->out_signed, 1);
  *hi = quantize_bound(q->out_max, q->out_scale, q->out_zp, q->out_signed, 0);
}

/* TFLite QuantizeMultiplier: m = q * 2^shift with q in [0.5, 1) as a Q0.31 integer. */
static void quantize_multiplier(double m, int32_t* mult, int32_t* shift) {
  if (!(m > 0.0)) {
    *mult = 0;
    *shift = 0;
    return;
  }
  int e = 0;
  const double q = frexp(m, &e);
  int64_t qf = (int64_t)round(q * 2147483648.0);
  if (qf == ((int64_t)1 << 31)) {
    qf /= 2;
    ++e;
  }
  if (e < -31) {
    e = 0;
    qf = 0;
  }
  if (e > 30) {
    e = 30;
    qf = 2147483647;
  }
  *mult = (int32_t)qf;
  *shift = e;
}

/* gemmlowp SaturatingRoundingDoublingHighMul and RoundingDivideByPOT, then TFLite's
 * MultiplyByQuantizedMultiplier (the left shift wraps in 32 bits, as the contract defines). */
static int32_t srdhm(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  const int64_t ab = (int64_t)a * b;
  const int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

static int32_t rdbpot(int32_t x, int e) {
  const int64_t mask = ((int64_t)1 << e) - 1;
  const int64_t rem = (int64_t)x & mask;
  const int64_t thr = (mask >> 1) + (x < 0 ? 1 : 0);
  return (int32_t)(((int64_t)x >> e) + (rem > thr ? 1 : 0));
}

static int32_t mbqm(int32_t x, int32_t mult, int32_t shift) {
  const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  const int32_t shifted = (int32_t)((uint32_t)x << left);
  return rdbpot(srdhm(shifted, mult), right);
}

static int32_t bias_q(float bias, float in_scale, float w_scale) {
  const float r = nearbyintf(bias / (in_scale * w_scale));
  if (r >= 2147483648.0f) return INT32_MAX;
  if (r < -2147483648.0f) return INT32_MIN;
  return (int32_t)r;
}

static int32_t load_code(const void* p, size_t i, int is_signed) {
  return is_signed ? (int32_t)((const int8_t*)p)[i] : (int32_t)((const uint8_t*)p)[i];
}

void conv_oracle_qconv2d(const conv_oracle_geometry* g, const conv_oracle_quant* q, const void* input,
                         const int8_t* weights, void* output) {
  int64_t oh, ow;
  if (!conv_oracle_output_size(g, &oh, &ow)) return;
  const int64_t cin_g = g->in_c / g->groups, cout_g = g->out_c / g->groups;
  int32_t lo, hi;
  conv_oracle_clamp(q, &lo, &hi);
  for (int64_t b = 0; b < g->batch; ++b)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox)
        for (int64_t oc = 0; oc < g->out_c; ++oc) {
          const int64_t grp = oc / cout_g;
          int64_t acc = 0;
          for (int64_t ci = 0; ci < cin_g; ++ci)
            for (int64_t ky = 0; ky < g->kh; ++ky)
              for (int64_t kx = 0; kx < g->kw; ++kx) {
                const int64_t iy = oy * g->sh - g->pad_top + ky * g->dh;
                const int64_t ix = ox * g->sw - g->pad_left + kx * g->dw;
                if (iy < 0 || iy >= g->in_h || ix < 0 || ix >= g->in_w) continue;
                const int32_t x = load_code(
                    input, (size_t)(((b * g->in_h + iy) * g->in_w + ix) * g->in_c + grp * cin_g + ci), q->in_signed);
                const int32_t w = weights[((oc * cin_g + ci) * g->kh + ky) * g->kw + kx];
                acc += (int64_t)(x - q->in_zp) * (w - q->w_zp[oc]);
              }
          if (q->bias) acc += bias_q(q->bias[oc], q->in_scale, q->w_scale[oc]);
          const int32_t acc32 = (int32_t)(uint32_t)(uint64_t)acc; /* the contract's wrapping int32 */
          int64_t code;
          if (q->fixed_point) {
            int32_t mult, shift;
            quantize_multiplier((double)q->in_scale * (double)q->w_scale[oc] / (double)q->out_scale, &mult, &shift);
            code = (int64_t)mbqm(acc32, mult, shift) + q->out_zp;
          } else {
            const float m = q->in_scale * q->w_scale[oc] / q->out_scale;
            const float r = nearbyintf((float)acc32 * m);
            /* r may be huge; compare in double before converting */
            code = (double)r < -1e18 ? INT32_MIN : ((double)r > 1e18 ? INT32_MAX : (int64_t)r);
            code += q->out_zp;
          }
          const int32_t v = clamp_i64(code, lo, hi);
          const size_t o = (size_t)(((b * oh + oy) * ow + ox) * g->out_c + oc);
          if (q->out_signed)
            ((int8_t*)output)[o] = (int8_t)v;
          else
            ((uint8_t*)output)[o] = (uint8_t)v;
        }
}

void conv_oracle_f32(const conv_oracle_geometry* g, const float* x, const float* w, const float* bias, float* y) {
  int64_t oh, ow;
  if (!conv_oracle_output_size(g, &oh, &ow)) return;
  const int64_t cin_g = g->in_c / g->groups, cout_g = g->out_c / g->groups;
  for (int64_t b = 0; b < g->batch; ++b)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox)
        for (int64_t oc = 0; oc < g->out_c; ++oc) {
          const int64_t grp = oc / cout_g;
          double acc = bias ? bias[oc] : 0.0;
          for (int64_t ci = 0; ci < cin_g; ++ci)
            for (int64_t ky = 0; ky < g->kh; ++ky)
              for (int64_t kx = 0; kx < g->kw; ++kx) {
                const int64_t iy = oy * g->sh - g->pad_top + ky * g->dh;
                const int64_t ix = ox * g->sw - g->pad_left + kx * g->dw;
                if (iy < 0 || iy >= g->in_h || ix < 0 || ix >= g->in_w) continue;
                acc += (double)x[((b * g->in_h + iy) * g->in_w + ix) * g->in_c + grp * cin_g + ci] *
                       w[((oc * cin_g + ci) * g->kh + ky) * g->kw + kx];
              }
          y[((b * oh + oy) * ow + ox) * g->out_c + oc] = (float)acc;
        }
}
