/* SPDX-License-Identifier: Apache-2.0 */
/* Shared helpers for the cmocka tests: status assertions that print qk_last_error(), a seeded
 * RNG so failures reproduce, and float bit comparisons. */
#ifndef QK_TEST_UTIL_H
#define QK_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "quantkit/quantkit.h"

/* Asserts a call returns `expected`; on mismatch prints the library's message. */
#define assert_status(call, expected)                                                          \
  do {                                                                                         \
    qk_status got_ = (call);                                                                   \
    if (got_ != (expected)) {                                                                  \
      print_error("%s returned %s, expected %s: %s\n", #call, qk_status_string(got_),          \
                  qk_status_string(expected), qk_last_error());                                \
      fail();                                                                                  \
    }                                                                                          \
  } while (0)
#define assert_ok(call) assert_status(call, QK_OK)

/* Asserts the last error message mentions `needle` (messages must say which argument). */
#define assert_error_mentions(needle)                                                          \
  do {                                                                                         \
    if (strstr(qk_last_error(), (needle)) == NULL) {                                           \
      print_error("last error \"%s\" does not mention \"%s\"\n", qk_last_error(), (needle));   \
      fail();                                                                                  \
    }                                                                                          \
  } while (0)

static inline uint32_t qk_test_f32_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

/* xorshift64*: deterministic across platforms. */
typedef struct qk_test_rng {
  uint64_t state;
} qk_test_rng;

static inline uint64_t qk_test_next(qk_test_rng* r) {
  r->state ^= r->state >> 12;
  r->state ^= r->state << 25;
  r->state ^= r->state >> 27;
  return r->state * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [lo, hi). */
static inline float qk_test_uniform(qk_test_rng* r, float lo, float hi) {
  return lo + (hi - lo) * (float)((qk_test_next(r) >> 40) * (1.0 / 16777216.0));
}

static inline qk_quant_spec* qk_test_spec(qk_dtype dtype, qk_qscheme scheme) {
  qk_quant_spec* spec = NULL;
  if (qk_quant_spec_create(dtype, scheme, &spec) != QK_OK) fail_msg("spec: %s", qk_last_error());
  return spec;
}

#endif
