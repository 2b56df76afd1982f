/* SPDX-License-Identifier: Apache-2.0 */
/* Install-test consumer: a plain C99 program built against an installed QuantKit (CMake package
 * or pkg-config, shared or static). It proves the installed header, library and link metadata
 * are usable on their own: compute qparams, quantize, dequantize, check every result. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <quantkit/quantkit.h>

static int failures = 0;

#define CHECK(cond)                                                                       \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      fprintf(stderr, "%s:%d: check failed: %s (last error: %s)\n", __FILE__, __LINE__, #cond, \
              qk_last_error());                                                           \
      ++failures;                                                                         \
    }                                                                                     \
  } while (0)

int main(void) {
  qk_quant_spec* spec = NULL;
  qk_qparams* qparams = NULL;
  /* [0, 25.5] to uint8 per-tensor affine under the PyTorch convention gives exactly
   * scale = 25.5f/255 = 0.1f and zero point 0, so every quantized value below is exact. */
  const float min_val = 0.0f;
  const float max_val = 25.5f;
  const float x[6] = {0.0f, 0.1f, 1.0f, 25.5f, 30.0f, -1.0f};
  const uint8_t expected_q[6] = {0, 1, 10, 255, 255, 0};
  const int64_t shape[1] = {6};
  uint8_t q[6] = {0};
  float y[6] = {0};
  float scale = 0.0f;
  int32_t zero_point = -1;
  uint64_t nan_count = 99;
  size_t i;

  /* The header the consumer compiled against must match the library it loaded. */
  CHECK(qk_version_number() == QK_VERSION_NUMBER);
  CHECK(qk_abi_version() == QK_ABI_VERSION);

  CHECK(qk_quant_spec_create(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, &spec) == QK_OK);
  CHECK(spec != NULL);
  if (spec == NULL) return EXIT_FAILURE;
  CHECK(qk_qparams_compute(spec, &min_val, &max_val, 1, &qparams) == QK_OK);
  CHECK(qparams != NULL);
  if (qparams == NULL) return EXIT_FAILURE;
  CHECK(qk_qparams_get_scales(qparams, &scale, 1) == QK_OK);
  CHECK(qk_qparams_get_zero_points(qparams, &zero_point, 1) == QK_OK);
  CHECK(fabsf(scale - 0.1f) <= 1e-7f);
  CHECK(zero_point == 0);

  CHECK(qk_quantize(qparams, x, shape, 1, q, sizeof q, &nan_count) == QK_OK);
  CHECK(nan_count == 0);
  for (i = 0; i < 6; ++i) CHECK(q[i] == expected_q[i]);

  CHECK(qk_dequantize(qparams, q, sizeof q, shape, 1, y) == QK_OK);
  for (i = 0; i < 6; ++i) CHECK(fabsf(y[i] - (float)expected_q[i] * scale) <= 1e-6f);

  /* An error path: a too-small destination is reported, not written. */
  CHECK(qk_quantize(qparams, x, shape, 1, q, 2, NULL) == QK_ERR_BUFFER_TOO_SMALL);

  qk_qparams_destroy(qparams);
  qk_quant_spec_destroy(spec);

  if (failures != 0) {
    fprintf(stderr, "qk_install_consumer: %d check(s) failed\n", failures);
    return EXIT_FAILURE;
  }
  printf("qk_install_consumer: QuantKit %s (ABI %u, isa %s): scale %.7g zero_point %d, q = %u %u %u %u %u %u\n",
         qk_version_string(), (unsigned)qk_abi_version(), qk_isa_name(), (double)scale, (int)zero_point,
         q[0], q[1], q[2], q[3], q[4], q[5]);
  return EXIT_SUCCESS;
}
