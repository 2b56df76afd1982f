/* SPDX-License-Identifier: Apache-2.0 */
/* The static post-training quantization example of PyTorch's docs, in C: a model
 *   QuantStub -> Conv2d(1, 1, 1) -> ReLU -> DeQuantStub
 * on a 4x1x4x4 input. In QuantKit there are no stubs to place: a converted qk_model quantizes
 * its input and dequantizes its output itself. Steps: build, fuse (conv+relu), prepare
 * (observers), calibrate, convert, run; prints the float and int8 outputs and their largest
 * difference, and exits 1 if it exceeds the rounding bound: one input step through the weight
 * plus one output step (a step, not half: rounding the zero point to an integer shifts the grid
 * by up to half a step, so the values at the ends of the observed range can be a step off).
 * Usage: qk_example_static_conv_relu */
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

enum { N = 4, H = 4, W = 4, COUNT = N * H * W };

int main(void) {
  /* Conv2d(1, 1, 1): one weight and one bias (fixed values standing in for PyTorch's init) */
  static const float weight[1] = {0.62f};
  static const float bias[1] = {-0.15f};
  const int64_t sample[3] = {1, H, W}, w_shape[4] = {1, 1, 1, 1};
  const int64_t stride[2] = {1, 1}, padding[4] = {0, 0, 0, 0}, dilation[2] = {1, 1};
  const int64_t batch_shape[4] = {N, 1, H, W};
  float x[COUNT], y_float[COUNT], y_int8[COUNT];
  uint32_t seed = 12345u;
  int i;
  for (i = 0; i < COUNT; ++i) { /* torch.randn-like input in about [-2, 2] */
    seed = seed * 1664525u + 1013904223u;
    x[i] = ((float)(seed >> 8) / 16777216.0f - 0.5f) * 4.0f;
  }

  qk_model* m = NULL;
  CHECK(qk_model_create("x", sample, 3, &m));
  CHECK(qk_model_add_conv2d(m, "conv", "x", "c", weight, w_shape, bias, stride, padding, dilation, 1));
  CHECK(qk_model_add_relu(m, "relu", "c", "y"));
  CHECK(qk_model_run(m, x, batch_shape, 4, y_float, COUNT, NULL)); /* the fp32 reference */

  CHECK(qk_model_fuse(m)); /* torch.ao.quantization.fuse_modules(model, [['conv', 'relu']]) */
  const char* fused = NULL;
  CHECK(qk_model_fused_name(m, 0, &fused));
  /* min/max observers (PyTorch's default_qconfig): no range clipping, so the error is rounding
   * alone and the bound below holds; the default histogram observer trades clipping for finer steps. */
  CHECK(qk_model_set_activation_observer(m, NULL, QK_OBSERVER_MINMAX));
  CHECK(qk_model_prepare(m));                        /* observers on the input and the conv output */
  CHECK(qk_model_calibrate(m, x, batch_shape, 4));   /* the representative data */
  CHECK(qk_model_convert(m));                        /* int8 weights, qparams, the int8 conv */
  CHECK(qk_model_run(m, x, batch_shape, 4, y_int8, COUNT, NULL));

  qk_qparams* out_qp = NULL;
  float out_scale = 0.0f;
  int32_t out_zp = 0;
  CHECK(qk_model_get_tensor_qparams(m, "y", &out_qp));
  CHECK(qk_qparams_get_scales(out_qp, &out_scale, 1));
  CHECK(qk_qparams_get_zero_points(out_qp, &out_zp, 1));
  qk_qparams* in_qp = NULL;
  float in_scale = 0.0f;
  CHECK(qk_model_get_tensor_qparams(m, "x", &in_qp));
  CHECK(qk_qparams_get_scales(in_qp, &in_scale, 1));
  qk_qparams_destroy(in_qp);
  const float bound = in_scale * fabsf(weight[0]) + out_scale + 1e-6f;
  float max_diff = 0.0f;
  for (i = 0; i < COUNT; ++i) {
    const float d = fabsf(y_float[i] - y_int8[i]);
    if (d > max_diff) max_diff = d;
  }
  printf("static quantization of Conv2d(1, 1, 1) + ReLU on a 4x1x4x4 input (fused: %s)\n", fused);
  printf("output qparams: scale %.6g, zero point %d (u8)\n", out_scale, out_zp);
  printf("%-6s %-10s %-10s\n", "index", "float", "int8");
  for (i = 0; i < 8; ++i) printf("%-6d % .6f % .6f\n", i, y_float[i], y_int8[i]);
  printf("max |float - int8| over %d outputs: %.6f (rounding bound %.6f)\n", COUNT, max_diff, bound);
  qk_qparams_destroy(out_qp);
  qk_model_destroy(m);
  return max_diff <= bound ? 0 : 1;
}
