/* SPDX-License-Identifier: Apache-2.0 */
/* Test-only direct convolution oracle: the textbook NHWC x OIHW loop nest with exact int64
 * sums, and the operator contract of quantkit.h (bias quantization, float and TFLite fixed-point
 * requantization, clamps) written out independently of the library. Plus an f32 reference conv
 * (double accumulation) for the quantization-error test. */
#ifndef QK_CONV_ORACLE_H
#define QK_CONV_ORACLE_H

#include <stddef.h>
#include <stdint.h>

typedef struct conv_oracle_geometry {
  int64_t batch, in_h, in_w, in_c, out_c, groups, kh, kw;
  int64_t sh, sw, pad_top, pad_left, pad_bottom, pad_right, dh, dw;
} conv_oracle_geometry;

typedef struct conv_oracle_quant {
  int in_signed, out_signed; /* s8 (1) or u8 (0) */
  float in_scale;
  int32_t in_zp;
  const float* w_scale; /* out_c entries (per-tensor: replicated) */
  const int32_t* w_zp;  /* out_c entries */
  const float* bias;    /* out_c entries or NULL */
  float out_scale;
  int32_t out_zp;
  float out_min, out_max; /* real-valued clamp (-INFINITY / INFINITY for none) */
  int fixed_point;        /* QK_REQUANT_FIXED_POINT */
} conv_oracle_quant;

/* Output size in floor mode; returns 0 when the kernel does not fit the padded input. */
int conv_oracle_output_size(const conv_oracle_geometry* g, int64_t* out_h, int64_t* out_w);

/* Quantized conv: input NHWC (u8 or s8 bytes), weights OIHW s8, output NHWC bytes. */
void conv_oracle_qconv2d(const conv_oracle_geometry* g, const conv_oracle_quant* q, const void* input,
                         const int8_t* weights, void* output);

/* The clamp bounds [lo, hi] in output codes. */
void conv_oracle_clamp(const conv_oracle_quant* q, int32_t* lo, int32_t* hi);

/* Float conv: x NHWC, w OIHW, bias out_c or NULL; y NHWC. Padded taps read 0. */
void conv_oracle_f32(const conv_oracle_geometry* g, const float* x, const float* w, const float* bias, float* y);

#endif
