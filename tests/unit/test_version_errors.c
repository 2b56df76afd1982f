/* SPDX-License-Identifier: Apache-2.0 */
/* Pins the ABI-level contract: version numbers, status strings, the thread-local error message,
 * NULL/size/enum validation on every entry point, and "on error nothing is written". */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>

#include "qk_test_util.h"

/* Proves the runtime version matches the header the test was compiled against. */
static void test_version_matches_header(void** state) {
  (void)state;
  assert_int_equal(qk_version_number(), QK_VERSION_NUMBER);
  assert_int_equal(qk_abi_version(), QK_ABI_VERSION);
  char expected[32];
  snprintf(expected, sizeof expected, "%d.%d.%d", QK_VERSION_MAJOR, QK_VERSION_MINOR, QK_VERSION_PATCH);
  assert_string_equal(qk_version_string(), expected);
  assert_int_equal(qk_max_rank(), QK_MAX_RANK);
}

/* Proves every status has a stable name and unknown values do not crash. */
static void test_status_strings(void** state) {
  (void)state;
  assert_int_equal(QK_OK, 0);
  assert_int_equal(QK_ERR_INVALID_ARGUMENT, 1);
  assert_int_equal(QK_ERR_OUT_OF_MEMORY, 2);
  assert_int_equal(QK_ERR_UNSUPPORTED, 3);
  assert_int_equal(QK_ERR_STATE, 4);
  assert_int_equal(QK_ERR_CORRUPT, 5);
  assert_int_equal(QK_ERR_IO, 6);
  assert_int_equal(QK_ERR_BUFFER_TOO_SMALL, 7);
  assert_int_equal(QK_ERR_INTERNAL, 99);
  assert_string_equal(qk_status_string(QK_OK), "QK_OK");
  assert_string_equal(qk_status_string(QK_ERR_STATE), "QK_ERR_STATE");
  assert_string_equal(qk_status_string((qk_status)12345), "QK_ERR_UNKNOWN");
  assert_string_equal(qk_dtype_name(QK_DTYPE_S4), "s4");
  assert_string_equal(qk_dtype_name((qk_dtype)0), "unknown");
}

/* Proves the error message names the function and the argument, and clear_error empties it. */
static void test_last_error_detail(void** state) {
  (void)state;
  qk_clear_error();
  assert_string_equal(qk_last_error(), "");
  assert_status(qk_quant_spec_create(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_error_mentions("qk_quant_spec_create");
  assert_error_mentions("spec_out");
  qk_clear_error();
  assert_string_equal(qk_last_error(), "");
}

static void* set_error_in_thread(void* arg) {
  (void)arg;
  qk_quant_spec_create((qk_dtype)77, QK_QSCHEME_PER_TENSOR_AFFINE, NULL);
  return NULL;
}

/* Proves the last-error message is per thread: another thread's failure does not overwrite ours. */
static void test_last_error_is_thread_local(void** state) {
  (void)state;
  qk_quant_spec* spec = NULL;
  assert_status(qk_quant_spec_create(QK_DTYPE_F32, QK_QSCHEME_PER_TENSOR_AFFINE, &spec), QK_ERR_INVALID_ARGUMENT);
  assert_null(spec);
  char mine[512];
  snprintf(mine, sizeof mine, "%s", qk_last_error());
  assert_non_null(strstr(mine, "f32"));
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, set_error_in_thread, NULL), 0);
  assert_int_equal(pthread_join(t, NULL), 0);
  assert_string_equal(qk_last_error(), mine);
}

/* Proves shape validation: negative dims, rank above the maximum, NULL with rank > 0, overflow,
 * and that a zero dimension is a valid empty tensor. */
static void test_shape_validation(void** state) {
  (void)state;
  uint64_t count = 777;
  const int64_t ok[3] = {2, 3, 4};
  assert_ok(qk_shape_element_count(ok, 3, &count));
  assert_int_equal(count, 24);
  assert_ok(qk_shape_element_count(NULL, 0, &count));
  assert_int_equal(count, 1);
  const int64_t empty[2] = {5, 0};
  assert_ok(qk_shape_element_count(empty, 2, &count));
  assert_int_equal(count, 0);
  count = 777;
  const int64_t negative[2] = {5, -1};
  assert_status(qk_shape_element_count(negative, 2, &count), QK_ERR_INVALID_ARGUMENT);
  assert_error_mentions("negative");
  const int64_t huge[3] = {INT64_C(1) << 31, INT64_C(1) << 31, 4};
  assert_status(qk_shape_element_count(huge, 3, &count), QK_ERR_INVALID_ARGUMENT);
  assert_error_mentions("overflow");
  /* Overflow is detected even when a zero dimension makes the product 0. */
  const int64_t hidden[4] = {0, INT64_C(1) << 40, INT64_C(1) << 40, 2};
  assert_status(qk_shape_element_count(hidden, 4, &count), QK_ERR_INVALID_ARGUMENT);
  int64_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  assert_status(qk_shape_element_count(nine, 9, &count), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_shape_element_count(NULL, 2, &count), QK_ERR_INVALID_ARGUMENT);
  assert_int_equal(count, 777); /* untouched by every failure */
  assert_status(qk_shape_element_count(ok, 3, NULL), QK_ERR_INVALID_ARGUMENT);
}

/* Proves storage sizes, 4-bit packing included, and overflow rejection. */
static void test_dtype_storage_size(void** state) {
  (void)state;
  size_t bytes = 0;
  assert_ok(qk_dtype_storage_size(QK_DTYPE_S4, 7, &bytes));
  assert_int_equal(bytes, 4);
  assert_ok(qk_dtype_storage_size(QK_DTYPE_U4, 8, &bytes));
  assert_int_equal(bytes, 4);
  assert_ok(qk_dtype_storage_size(QK_DTYPE_F16, 3, &bytes));
  assert_int_equal(bytes, 6);
  assert_ok(qk_dtype_storage_size(QK_DTYPE_S32, 3, &bytes));
  assert_int_equal(bytes, 12);
  assert_status(qk_dtype_storage_size((qk_dtype)9, 3, &bytes), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_dtype_storage_size(QK_DTYPE_F32, UINT64_MAX, &bytes), QK_ERR_INVALID_ARGUMENT);
  assert_int_equal(bytes, 12);
}

/* Proves destroy functions accept NULL and getters reject NULL handles (use-after-close in the
 * bindings arrives here as a NULL handle). */
static void test_null_handles(void** state) {
  (void)state;
  qk_quant_spec_destroy(NULL);
  qk_qparams_destroy(NULL);
  qk_observer_destroy(NULL);
  float f = 0;
  int32_t i = 0;
  size_t n = 0;
  qk_dtype d;
  assert_status(qk_quant_spec_get_eps(NULL, &f), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_quant_spec_get_dtype(NULL, &d), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qparams_get_scales(NULL, &f, 1), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qparams_get_zero_points(NULL, &i, 1), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qparams_get_count(NULL, &n), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_observer_update(NULL, &f, NULL, 0), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_observer_reset(NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_observer_merge(NULL, NULL), QK_ERR_INVALID_ARGUMENT);
  const int64_t shape[1] = {1};
  assert_status(qk_quantize(NULL, &f, shape, 1, &i, 4, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_dequantize(NULL, &i, 4, shape, 1, &f), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_fake_quantize(NULL, &f, shape, 1, &f, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_set_isa(NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_isa_supported("scalar", NULL), QK_ERR_INVALID_ARGUMENT);
}

/* Proves out-of-range enum values are rejected everywhere an enum enters. */
static void test_bad_enums(void** state) {
  (void)state;
  qk_quant_spec* spec = NULL;
  assert_status(qk_quant_spec_create(QK_DTYPE_U8, (qk_qscheme)0, &spec), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_quant_spec_create(QK_DTYPE_U8, (qk_qscheme)7, &spec), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_quant_spec_create((qk_dtype)0, QK_QSCHEME_PER_TENSOR_AFFINE, &spec), QK_ERR_INVALID_ARGUMENT);
  assert_null(spec);
  spec = qk_test_spec(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
  assert_status(qk_quant_spec_set_convention(spec, (qk_convention)3), QK_ERR_INVALID_ARGUMENT);
  qk_observer* obs = NULL;
  assert_status(qk_observer_create((qk_observer_kind)0, spec, &obs), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_observer_create((qk_observer_kind)9, spec, &obs), QK_ERR_INVALID_ARGUMENT);
  assert_null(obs);
  float w[2] = {1, 2}, b = 0, m = 0, v = 1;
  const int64_t shape[2] = {1, 2};
  assert_status(qk_fold_batchnorm((qk_fold_target)4, w, shape, 2, &b, &m, &v, NULL, NULL, 1e-5f, 1, w, &b),
                QK_ERR_INVALID_ARGUMENT);
  uint16_t h[2];
  assert_status(qk_cast(w, QK_DTYPE_F32, h, QK_DTYPE_S8, 2), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_cast(w, (qk_dtype)42, h, QK_DTYPE_F16, 2), QK_ERR_INVALID_ARGUMENT);
  qk_quant_spec_destroy(spec);
}

/* Proves the ISA controls: a known name reports support, unknown names are rejected. */
static void test_isa_controls(void** state) {
  (void)state;
  int supported = -1;
  assert_ok(qk_isa_supported("scalar", &supported));
  assert_int_equal(supported, 1);
  assert_status(qk_isa_supported("sse9", &supported), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_set_isa("sse9"), QK_ERR_INVALID_ARGUMENT);
  char before[32];
  snprintf(before, sizeof before, "%s", qk_isa_name());
  assert_ok(qk_set_isa("scalar"));
  assert_string_equal(qk_isa_name(), "scalar");
  /* "auto" picks the best supported path (which QK_ISA may have overridden at start-up). */
  assert_ok(qk_set_isa("auto"));
  assert_ok(qk_isa_supported(qk_isa_name(), &supported));
  assert_int_equal(supported, 1);
  if (strcmp(before, "invalid") != 0) assert_ok(qk_set_isa(before));
}

/* Proves error statistics: SQNR, max error and MSE on a hand-computed case; NaN input rejected. */
static void test_error_stats(void** state) {
  (void)state;
  const float ref[4] = {1, -2, 3, -4};
  const float app[4] = {1, -2, 3, -3};
  double sqnr = 0, max_err = 0, mse = 0;
  assert_ok(qk_error_stats(ref, app, 4, &sqnr, &max_err, &mse));
  assert_float_equal(sqnr, 10.0 * log10(30.0), 1e-12);
  assert_float_equal(max_err, 1.0, 0);
  assert_float_equal(mse, 0.25, 0);
  assert_ok(qk_error_stats(ref, ref, 4, &sqnr, NULL, NULL));
  assert_true(isinf(sqnr) && sqnr > 0);
  const float bad[2] = {NAN, 1};
  sqnr = 5;
  assert_status(qk_error_stats(bad, bad, 2, &sqnr, NULL, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_float_equal(sqnr, 5, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_version_matches_header), cmocka_unit_test(test_status_strings),
      cmocka_unit_test(test_last_error_detail),      cmocka_unit_test(test_last_error_is_thread_local),
      cmocka_unit_test(test_shape_validation),       cmocka_unit_test(test_dtype_storage_size),
      cmocka_unit_test(test_null_handles),           cmocka_unit_test(test_bad_enums),
      cmocka_unit_test(test_isa_controls),           cmocka_unit_test(test_error_stats),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
