/* SPDX-License-Identifier: Apache-2.0 */
/* Writes the v1 (layer engine) model files of this directory. Built against the library at
 * commit 50eaeba, the last whose qk_model_save wrote v1 files ("model.graph" metadata):
 *   cc -O2 -I include -I examples/c tests/data/model_v1/make_v1_files.c examples/c/digits_model.c \
 *      examples/c/tensor_bundle.c -L build/src -lquantkit -o make_v1_files && ./make_v1_files examples/data OUT_DIR
 * For each of float (unfused), converted (fused, 16 calibration images, u8 activations,
 * per-channel weights: test_model_load's demo) and dynamic (fused): <name>.qkw and
 * <name>.logits, the raw f32 logits of the 64 test images as that library computed them. */
#include <stdio.h>
#include <stdlib.h>

#include "digits_model.h"
#include "quantkit/quantkit.h"
#include "tensor_bundle.h"

#define CK(x)                                                         \
  do {                                                                \
    if ((x) != QK_OK) {                                               \
      fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, qk_last_error()); \
      exit(1);                                                        \
    }                                                                 \
  } while (0)

static void write(const char* dir, const char* name, qk_model* m, const bundle_tensor* test) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s.qkw", dir, name);
  CK(qk_model_save(m, path));
  const int64_t n = 64, s[4] = {64, 1, 16, 16};
  float* y = malloc(sizeof(float) * (size_t)n * 10);
  CK(qk_model_run(m, test->data, s, 4, y, (size_t)n * 10, NULL));
  snprintf(path, sizeof path, "%s/%s.logits", dir, name);
  FILE* f = fopen(path, "wb");
  if (!f || fwrite(y, sizeof(float), (size_t)n * 10, f) != (size_t)n * 10 || fclose(f) != 0) exit(1);
  free(y);
}

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  const char* data = argv[1];
  const char* out = argv[2];
  char p[512];
  tensor_bundle weights, images;
  snprintf(p, sizeof p, "%s/digits_cnn.qktb", data);
  if (bundle_load(p, &weights) != 0) return 1;
  snprintf(p, sizeof p, "%s/digits_images.qktb", data);
  if (bundle_load(p, &images) != 0) return 1;
  const bundle_tensor* calib = bundle_find(&images, "calibration");
  const bundle_tensor* test = bundle_find(&images, "test_images");
  if (!calib || !test || test->shape[0] < 64) return 1;
  qk_model* m = NULL;
  CK(digits_model_build(&weights, &m));
  write(out, "digits_float", m, test);
  qk_model_destroy(m);
  CK(digits_model_build(&weights, &m));
  CK(qk_model_fuse(m));
  CK(qk_model_prepare(m));
  const int64_t cs[4] = {16, 1, 16, 16};
  CK(qk_model_calibrate(m, calib->data, cs, 4));
  CK(qk_model_convert(m));
  write(out, "digits_converted", m, test);
  qk_model_destroy(m);
  CK(digits_model_build(&weights, &m));
  CK(qk_model_fuse(m));
  CK(qk_model_quantize_dynamic(m));
  write(out, "digits_dynamic", m, test);
  qk_model_destroy(m);
  bundle_free(&weights);
  bundle_free(&images);
  return 0;
}
