/* SPDX-License-Identifier: Apache-2.0 */
/* Reader for the examples' ".qktb" tensor bundles (format in examples/data/export_fixture.py).
 * Example code, not part of libquantkit: the weight-file format proper is .qkw. */
#ifndef QK_EXAMPLES_TENSOR_BUNDLE_H
#define QK_EXAMPLES_TENSOR_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

typedef struct bundle_tensor {
  char name[128];
  size_t rank;
  int64_t shape[8];
  uint64_t count;
  float* data;
} bundle_tensor;

typedef struct tensor_bundle {
  size_t count;
  bundle_tensor* tensors;
} tensor_bundle;

/* Returns 0 on success; prints the reason and returns -1 on a missing or malformed file. */
int bundle_load(const char* path, tensor_bundle* out);
const bundle_tensor* bundle_find(const tensor_bundle* bundle, const char* name);
void bundle_free(tensor_bundle* bundle);

#endif
