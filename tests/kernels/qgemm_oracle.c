/* SPDX-License-Identifier: Apache-2.0 */
/* The naive int8 linear oracle (see qgemm_oracle.h): slow, obvious, int64 throughout. */
#include "qgemm_oracle.h"

#include <math.h>
#include <stddef.h>

static int32_t wrap32(int64_t v) { return (int32_t)(uint32_t)(uint64_t)v; }

static int32_t bias_in_acc_units(float bias, float acc_scale) {
  float q = nearbyintf(bias / acc_scale);
  if (q >= 2147483648.0f) return INT32_MAX;
  if (q < -2147483648.0f) return INT32_MIN;
  return (int32_t)q;
}

/* qk_quantize's rounding (x times the float reciprocal, half to even) into [lo, hi]. */
static int32_t quantize_bound(float x, float scale, int32_t zp, int32_t lo, int32_t hi) {
  double r = (double)nearbyintf(x * (1.0f / scale)) + zp;
  return r < lo ? lo : (r > hi ? hi : (int32_t)r);
}

void qk_oracle_quantize_multiplier(double m, int32_t* multiplier, int32_t* shift) {
  int e = 0;
  double q;
  int64_t fixed;
  if (m == 0.0) {
    *multiplier = 0;
    *shift = 0;
    return;
  }
  q = frexp(m, &e);
  fixed = (int64_t)round(q * 2147483648.0);
  if (fixed == (int64_t)1 << 31) {
    fixed /= 2;
    e += 1;
  }
  if (e < -31) {
    e = 0;
    fixed = 0;
  }
  if (e > 30) {
    e = 30;
    fixed = INT32_MAX;
  }
  *multiplier = (int32_t)fixed;
  *shift = e;
}

int32_t qk_oracle_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift) {
  int32_t left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  int32_t xs = wrap32((int64_t)((uint64_t)(uint32_t)x << left));
  int64_t prod, high, mask, rem, threshold;
  int32_t doubled;
  /* SaturatingRoundingDoublingHighMul */
  if (xs == INT32_MIN && multiplier == INT32_MIN) {
    doubled = INT32_MAX;
  } else {
    prod = (int64_t)xs * multiplier;
    high = (prod + (prod >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30)))) / ((int64_t)1 << 31);
    doubled = (int32_t)high;
  }
  /* RoundingDivideByPOT */
  mask = ((int64_t)1 << right) - 1;
  rem = (int64_t)doubled & mask;
  threshold = (mask >> 1) + (doubled < 0 ? 1 : 0);
  return (int32_t)(((int64_t)doubled >> right) + (rem > threshold ? 1 : 0));
}

void qk_oracle_linear_run(const qk_oracle_linear* p, void* out, int64_t ldo) {
  int64_t i, j, kk;
  int32_t qlo = p->out_signed ? -128 : 0, qhi = p->out_signed ? 127 : 255;
  if (p->kind == QK_OUTPUT_QUANTIZED) {
    int32_t lo = qlo, hi = qhi;
    if (p->out_min != -INFINITY) qlo = quantize_bound(p->out_min, p->out_scale, p->out_zp, lo, hi);
    if (p->out_max != INFINITY) qhi = quantize_bound(p->out_max, p->out_scale, p->out_zp, lo, hi);
  }
  for (i = 0; i < p->m; ++i) {
    for (j = 0; j < p->n; ++j) {
      int64_t dot = 0, bias_q = 0;
      int32_t acc;
      float acc_scale = p->a_scale * p->w_scale[j];
      for (kk = 0; kk < p->k; ++kk) {
        int32_t a = p->a_signed ? ((const int8_t*)p->a)[i * p->lda + kk] : ((const uint8_t*)p->a)[i * p->lda + kk];
        dot += (int64_t)(a - p->a_zp) * (int64_t)(p->w[j * p->ldw + kk] - p->w_zp);
      }
      if (p->bias_s32) bias_q = p->bias_s32[j];
      if (p->bias_f32 && p->kind != QK_OUTPUT_F32) bias_q = bias_in_acc_units(p->bias_f32[j], acc_scale);
      acc = wrap32(dot + bias_q);
      switch (p->kind) {
        case QK_OUTPUT_S32:
          ((int32_t*)out)[i * ldo + j] = acc;
          break;
        case QK_OUTPUT_F32: {
          float y = (float)acc * acc_scale;
          if (p->bias_f32) y = y + p->bias_f32[j];
          if (y < p->out_min) y = p->out_min;
          if (y > p->out_max) y = p->out_max;
          ((float*)out)[i * ldo + j] = y;
          break;
        }
        default: {
          int64_t q;
          if (p->mode == QK_REQUANT_FIXED_POINT) {
            int32_t mult, shift;
            qk_oracle_quantize_multiplier((double)p->a_scale * (double)p->w_scale[j] / (double)p->out_scale, &mult,
                                          &shift);
            q = (int64_t)qk_oracle_multiply_by_quantized_multiplier(acc, mult, shift) + p->out_zp;
          } else {
            float mult = acc_scale / p->out_scale;
            float r = nearbyintf((float)acc * mult);
            /* r may be +-Inf or beyond int64: clamp in double first */
            double d = (double)r + p->out_zp;
            q = d < qlo ? qlo : (d > qhi ? qhi : (int64_t)d);
          }
          if (q < qlo) q = qlo;
          if (q > qhi) q = qhi;
          if (p->out_signed)
            ((int8_t*)out)[i * ldo + j] = (int8_t)q;
          else
            ((uint8_t*)out)[i * ldo + j] = (uint8_t)q;
          break;
        }
      }
    }
  }
}
