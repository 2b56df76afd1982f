/* SPDX-License-Identifier: Apache-2.0 */
#include "digits_model.h"

#include <stdio.h>

static const float* get(const tensor_bundle* b, const char* layer, const char* suffix) {
  char key[128];
  snprintf(key, sizeof key, "%s.%s", layer, suffix);
  const bundle_tensor* t = bundle_find(b, key);
  return t ? t->data : NULL;
}

#define TRY(call)                         \
  do {                                    \
    qk_status s_ = (call);                \
    if (s_ != QK_OK) {                    \
      qk_model_destroy(m);                \
      return s_;                          \
    }                                     \
  } while (0)

static qk_status conv(qk_model* m, const tensor_bundle* b, const char* name, const char* in, const char* out,
                      int64_t cin, int64_t cout) {
  const float* w = get(b, name, "weight");
  const float* bias = get(b, name, "bias");
  if (!w || !bias) return QK_ERR_NOT_FOUND;
  const int64_t shape[4] = {cout, cin, 3, 3}, stride[2] = {1, 1}, pad[4] = {1, 1, 1, 1}, dil[2] = {1, 1};
  return qk_model_add_conv2d(m, name, in, out, w, shape, bias, stride, pad, dil, 1);
}

static qk_status bn(qk_model* m, const tensor_bundle* b, const char* name, const char* in, const char* out,
                    int64_t c) {
  const float *mean = get(b, name, "running_mean"), *var = get(b, name, "running_var"),
              *gamma = get(b, name, "weight"), *beta = get(b, name, "bias");
  if (!mean || !var || !gamma || !beta) return QK_ERR_NOT_FOUND;
  return qk_model_add_batchnorm(m, name, in, out, c, mean, var, gamma, beta, 1e-5f);
}

qk_status digits_model_build(const tensor_bundle* b, qk_model** model_out) {
  const int64_t input[3] = {1, 16, 16}, k2[2] = {2, 2}, pad0[4] = {0, 0, 0, 0}, dil1[2] = {1, 1};
  qk_model* m = NULL;
  qk_status s = qk_model_create("image", input, 3, &m);
  if (s != QK_OK) return s;
  TRY(conv(m, b, "conv1", "image", "c1", 1, 32));
  TRY(bn(m, b, "bn1", "c1", "b1", 32));
  TRY(qk_model_add_relu(m, "relu1", "b1", "r1"));
  TRY(conv(m, b, "conv2", "r1", "c2", 32, 64));
  TRY(bn(m, b, "bn2", "c2", "b2", 64));
  TRY(qk_model_add_relu(m, "relu2", "b2", "r2"));
  TRY(qk_model_add_max_pool2d(m, "pool2", "r2", "p2", k2, k2, pad0, dil1));
  TRY(conv(m, b, "conv3", "p2", "c3", 64, 64));
  TRY(bn(m, b, "bn3", "c3", "b3", 64));
  TRY(qk_model_add_relu(m, "relu3", "b3", "r3"));
  TRY(qk_model_add_max_pool2d(m, "pool3", "r3", "p3", k2, k2, pad0, dil1));
  TRY(qk_model_add_flatten(m, "flatten", "p3", "flat"));
  const float *w1 = get(b, "fc1", "weight"), *b1 = get(b, "fc1", "bias");
  const float *w2 = get(b, "fc2", "weight"), *b2 = get(b, "fc2", "bias");
  if (!w1 || !b1 || !w2 || !b2) TRY(QK_ERR_NOT_FOUND);
  TRY(qk_model_add_linear(m, "fc1", "flat", "f1", w1, 198, 1024, b1));
  TRY(bn(m, b, "bn4", "f1", "b4", 198));
  TRY(qk_model_add_relu(m, "relu4", "b4", "r4"));
  TRY(qk_model_add_dropout(m, "dropout", "r4", "d4"));
  TRY(qk_model_add_linear(m, "fc2", "d4", "logits", w2, 10, 198, b2));
  *model_out = m;
  return QK_OK;
}
