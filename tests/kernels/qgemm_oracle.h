/* SPDX-License-Identifier: Apache-2.0 */
/* Test-only naive oracle for the int8 linear operators: a plain int64 triple loop of
 * (a - a_zp) * (w - w_zp), then the epilogue exactly as quantkit.h's "int8 operators" section
 * writes it. Written independently of the library's scalar kernels, which it checks. */
#ifndef QK_QGEMM_ORACLE_H
#define QK_QGEMM_ORACLE_H

#include <stdint.h>

#include "quantkit/quantkit.h"

typedef struct qk_oracle_linear {
  int64_t m, n, k;
  const void* a; /* u8 or s8, row stride lda elements */
  int64_t lda;
  int a_signed;
  int32_t a_zp;
  float a_scale;
  const int8_t* w; /* [n][k], row stride ldw */
  int64_t ldw;
  const float* w_scale; /* n entries (per-tensor: replicate) */
  int32_t w_zp;         /* per-tensor zero point (0 for per-channel) */
  const float* bias_f32;   /* n or NULL */
  const int32_t* bias_s32; /* n or NULL */
  qk_output_kind kind;
  /* QK_OUTPUT_QUANTIZED only */
  int out_signed;
  float out_scale;
  int32_t out_zp;
  qk_requant_mode mode;
  /* real-valued clamp: -INFINITY / INFINITY for none */
  float out_min, out_max;
} qk_oracle_linear;

/* Writes m rows of n outputs (int32_t, float, uint8_t or int8_t) with row stride ldo elements. */
void qk_oracle_linear_run(const qk_oracle_linear* p, void* out, int64_t ldo);

/* TFLite QuantizeMultiplier / MultiplyByQuantizedMultiplier (double rounding), independent copies. */
void qk_oracle_quantize_multiplier(double m, int32_t* multiplier, int32_t* shift);
int32_t qk_oracle_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift);

#endif
