/* SPDX-License-Identifier: Apache-2.0 */
/* PyTorch's quantize_dynamic example in C: a Linear(4, 4) with fixed weights applied to a
 * 4x4x4x4 input. The weights are quantized once (s8, per-tensor symmetric, as PyTorch's default
 * dynamic qconfig), the input on every call (u8, affine, from its own min/max) by
 * qk_dynamic_linear; the program prints the float and the int8 outputs and their largest
 * difference. Usage: qk_example_dynamic_linear */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "quantkit/quantkit.h"

#define CHECK(call)                                                                                 \
  do {                                                                                              \
    qk_status status_ = (call);                                                                     \
    if (status_ != QK_OK) {                                                                         \
      fprintf(stderr, "%s failed: %s (%s)\n", #call, qk_status_string(status_), qk_last_error()); \
      exit(1);                                                                                      \
    }                                                                                               \
  } while (0)

enum { IN = 4, OUT = 4, ROWS = 4 * 4 * 4 }; /* input 4x4x4x4: 64 rows of 4 features */

/* Deterministic stand-in for torch.randn: sum of 4 uniforms from an LCG, centred and scaled. */
static float next_normalish(uint32_t* state) {
  float sum = 0.0f;
  int i;
  for (i = 0; i < 4; ++i) {
    *state = *state * 1664525u + 1013904223u;
    sum += (float)(*state >> 8) / 16777216.0f;
  }
  return (sum - 2.0f) * 1.7320508f;
}

int main(void) {
  /* nn.Linear(4, 4).weight and .bias: fixed values in the usual +-1/sqrt(4) init range */
  static const float weight[OUT * IN] = {0.31f,  -0.12f, 0.45f, -0.27f, -0.38f, 0.22f, 0.05f,  0.41f,
                                         0.17f, 0.36f,  -0.49f, 0.08f, -0.02f, -0.44f, 0.29f, 0.13f};
  static const float bias[OUT] = {0.10f, -0.20f, 0.05f, 0.30f};
  const int64_t w_shape[2] = {OUT, IN};
  float x[ROWS * IN], y_float[ROWS * OUT], y_int8[ROWS * OUT];
  int8_t w_q[OUT * IN];
  uint32_t rng = 12345u;
  qk_quant_spec* spec = NULL;
  qk_qparams* w_qparams = NULL;
  qk_packed_weights* packed = NULL;
  qk_dynamic_linear* linear = NULL;
  float max_diff = 0.0f;
  int r, o, i;

  for (i = 0; i < ROWS * IN; ++i) x[i] = next_normalish(&rng);

  /* float reference: y = x W^T + b */
  for (r = 0; r < ROWS; ++r)
    for (o = 0; o < OUT; ++o) {
      float acc = bias[o];
      for (i = 0; i < IN; ++i) acc += x[r * IN + i] * weight[o * IN + i];
      y_float[r * OUT + o] = acc;
    }

  /* weights: s8 per-tensor symmetric qparams from their min/max, quantized once, packed once */
  CHECK(qk_quant_spec_create(QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_SYMMETRIC, &spec));
  CHECK(qk_qparams_from_tensor(spec, weight, w_shape, 2, &w_qparams, NULL));
  CHECK(qk_quantize(w_qparams, weight, w_shape, 2, w_q, sizeof w_q, NULL));
  CHECK(qk_packed_weights_create(w_q, OUT, IN, IN, w_qparams, bias, QK_DTYPE_F32, &packed));

  /* the dynamic linear: u8 activations with per-tensor qparams computed on every run */
  CHECK(qk_dynamic_linear_create(packed, QK_DTYPE_U8, 0, &linear));
  CHECK(qk_dynamic_linear_run(linear, ROWS, x, IN, ROWS * IN, y_int8, OUT, ROWS * OUT, NULL));

  printf("dynamic Linear(4, 4) on a 4x4x4x4 input (first 8 of 64 rows)\n");
  printf("%-5s  %-40s  %s\n", "row", "float", "int8 (dynamic)");
  for (r = 0; r < ROWS; ++r) {
    for (o = 0; o < OUT; ++o) {
      const float d = fabsf(y_float[r * OUT + o] - y_int8[r * OUT + o]);
      if (d > max_diff) max_diff = d;
    }
    if (r < 8)
      printf("%-5d  % 8.4f % 8.4f % 8.4f % 8.4f    % 8.4f % 8.4f % 8.4f % 8.4f\n", r, y_float[r * OUT],
             y_float[r * OUT + 1], y_float[r * OUT + 2], y_float[r * OUT + 3], y_int8[r * OUT], y_int8[r * OUT + 1],
             y_int8[r * OUT + 2], y_int8[r * OUT + 3]);
  }
  {
    const char* isa = NULL;
    CHECK(qk_packed_weights_get_isa(packed, &isa));
    printf("max |float - int8| over all %d outputs: %.6f (kernel path: %s)\n", ROWS * OUT, max_diff, isa);
  }

  qk_dynamic_linear_destroy(linear);
  qk_packed_weights_destroy(packed);
  qk_qparams_destroy(w_qparams);
  qk_quant_spec_destroy(spec);
  return 0;
}
